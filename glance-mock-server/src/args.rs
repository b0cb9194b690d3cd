//! The binary's deployment flags: `--config FILE` and the settings that
//! can also be given one by one. Flags win over the file, which wins over
//! the defaults (the reference deployment).

use std::path::PathBuf;

use clap::Args;
use glance_mock_server::Config;
use glance_mock_server::config::{ConfigError, HashAlgorithm, ImageLimits, StoreConfig};

/// Flags that shape the deployment (see the README's "Configuration").
#[derive(Debug, Default, Args)]
pub struct DeploymentArgs {
    /// A TOML configuration file (format: README, `mock.example.toml`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A store, `ID` (in memory) or `ID=DIR` (files in DIR, which may hold
    /// other files: only those the mock writes are ever removed); repeat for
    /// more. Replaces the configured stores; the first is the default
    /// unless --default-store says otherwise. Only the bytes go to DIR: the
    /// records stay in memory (restart with --seed, or use --data-dir to
    /// keep everything).
    #[arg(long = "store", value_name = "ID[=DIR]")]
    stores: Vec<String>,
    /// The default store (`default_backend`).
    #[arg(long, value_name = "ID")]
    default_store: Option<String>,
    /// Enabled import methods, comma-separated (e.g.
    /// `glance-direct,web-download,copy-image,glance-download`).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    import_methods: Option<Vec<String>>,
    /// `user_storage_quota`: bytes per project, e.g. `5GB` (0: unlimited).
    #[arg(long, value_name = "SIZE")]
    user_storage_quota: Option<String>,
    /// Unified limit `image_count_total` (turns on `use_keystone_limits`).
    #[arg(long, value_name = "N")]
    image_count_total: Option<i64>,
    /// Unified limit `image_count_uploading` (turns on `use_keystone_limits`).
    #[arg(long, value_name = "N")]
    image_count_uploading: Option<i64>,
    /// Unified limit `image_size_total` in MiB (turns on `use_keystone_limits`).
    #[arg(long, value_name = "MIB")]
    image_size_total: Option<i64>,
    /// Unified limit `image_stage_total` in MiB (turns on `use_keystone_limits`).
    #[arg(long, value_name = "MIB")]
    image_stage_total: Option<i64>,
    /// Enable the image cache (`/v2/cache`, versions v2.14, v2.16, v2.18).
    #[arg(long)]
    cache: bool,
    /// `hashing_algorithm` for `os_hash_value` (default sha512).
    #[arg(long, value_name = "ALGO")]
    hashing_algorithm: Option<HashAlgorithm>,
    /// `show_multiple_locations = True`.
    #[arg(long)]
    show_multiple_locations: bool,
    /// `show_image_direct_url = True`.
    #[arg(long)]
    show_image_direct_url: bool,
    /// Accept on /v2 only tokens issued by the Keystone shim at /identity
    /// (identity headers sent by clients are ignored); everything else gets
    /// 401. The control plane /_mock (but GET /_mock/health) then wants a
    /// shim token with the admin role (401, or 403 without the role).
    /// Without this flag, /_mock is open to anyone who can connect.
    ///
    /// The shim at /identity/v3 answers as Keystone 30 with its default
    /// policies: tokens (password by user name or id, token,
    /// application_credential; scoped to a project by name or id, or to the
    /// system), the catalog, and the admin API Tempest's dynamic credentials
    /// use: domains (get, list by name), projects and users (create, get,
    /// list, delete), roles (get, list by name), role grants on projects and
    /// on the system (PUT, GET/HEAD, DELETE, list), GET /v3/role_assignments.
    /// Deleting a user, a project or a grant revokes its tokens. Not
    /// implemented: updates (PATCH), groups, domain scope and domain grants,
    /// creating domains or roles, trusts, credentials, federation, MFA
    /// rules. Its starting identities come from [identity] in --config
    /// (default: admin, glance, demo, alt); /_mock/reset restores them.
    #[arg(long)]
    require_auth: bool,
    /// Turn the control plane off: no /_mock routes (their paths answer as
    /// any unknown path does), no fault rules acting, no request journal.
    #[arg(long)]
    no_control_plane: bool,
    /// Let fault rules target and act on the Keystone shim under /identity
    /// (otherwise such rules are refused and catch-all rules skip /identity).
    #[arg(long)]
    allow_identity_faults: bool,
    /// Let web-download, glance-download and import tasks fetch from any
    /// port on loopback (Glance refuses loopback; without this flag only
    /// the mock's own files, /_mock/files/NAME, pass). Any image member
    /// can then make the mock read other services on this host.
    #[arg(long)]
    allow_loopback_fetch: bool,
    /// Close a connection whose request head (request line and headers) is
    /// not complete SECS seconds after its first byte (default 30; 0: no
    /// limit; decimals allowed).
    #[arg(long, value_name = "SECS", value_parser = millis)]
    header_read_timeout: Option<u64>,
    /// Close a connection idle for SECS seconds: no request in flight,
    /// nothing sent either way (default 60; 0: no limit; decimals allowed).
    #[arg(long, value_name = "SECS", value_parser = millis)]
    idle_timeout: Option<u64>,
}

impl DeploymentArgs {
    /// The configuration: the file's (or the default), then the flags.
    pub fn config(&self) -> Result<Config, ConfigError> {
        let mut config = match &self.config {
            Some(path) => Config::load(path)?,
            None => Config::default(),
        };
        if !self.stores.is_empty() {
            config.stores = self.stores.iter().map(|s| store(s)).collect();
            config.default_store = config.stores[0].id.clone();
        }
        if let Some(id) = &self.default_store {
            config.default_store = id.clone();
        }
        if let Some(methods) = &self.import_methods {
            config.import_methods = methods.clone();
        }
        if let Some(quota) = &self.user_storage_quota {
            config.user_storage_quota = glance_mock_server::config::parse_storage_quota(quota)
                .ok_or_else(|| {
                    ConfigError::Invalid(format!(
                        "--user-storage-quota `{quota}`: digits with an optional unit B, KB, MB, GB or TB"
                    ))
                })?;
        }
        let limit_flags = [
            self.image_size_total,
            self.image_stage_total,
            self.image_count_total,
            self.image_count_uploading,
        ];
        if limit_flags.iter().any(Option::is_some) {
            let limits = config.limits.get_or_insert_with(ImageLimits::default);
            let fields = [
                &mut limits.image_size_total,
                &mut limits.image_stage_total,
                &mut limits.image_count_total,
                &mut limits.image_count_uploading,
            ];
            for (field, flag) in fields.into_iter().zip(limit_flags) {
                if let Some(value) = flag {
                    *field = value;
                }
            }
        }
        config.cache.enabled |= self.cache;
        config.tasks.import_filtering.allow_loopback |= self.allow_loopback_fetch;
        if let Some(algo) = self.hashing_algorithm {
            config.hashing_algorithm = algo;
        }
        config.show_multiple_locations |= self.show_multiple_locations;
        config.show_image_direct_url |= self.show_image_direct_url;
        config.require_auth |= self.require_auth;
        config.control_plane &= !self.no_control_plane;
        config.allow_identity_faults |= self.allow_identity_faults;
        if let Some(ms) = self.header_read_timeout {
            config.connections.header_read_timeout_ms = ms;
        }
        if let Some(ms) = self.idle_timeout {
            config.connections.idle_timeout_ms = ms;
        }
        config.validate()?;
        Ok(config)
    }
}

/// Seconds (decimals allowed) as milliseconds.
fn millis(secs: &str) -> Result<u64, String> {
    match secs.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 && s * 1000.0 < u64::MAX as f64 => {
            Ok((s * 1000.0).round() as u64)
        }
        _ => Err(format!("`{secs}`: seconds, e.g. 30 or 0.5")),
    }
}

/// `ID` or `ID=DIR`.
fn store(spec: &str) -> StoreConfig {
    match spec.split_once('=') {
        Some((id, dir)) => StoreConfig::filesystem(id, "", dir),
        None => StoreConfig::memory(spec, ""),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        deployment: DeploymentArgs,
    }

    fn config(args: &[&str]) -> Result<Config, ConfigError> {
        let cli = Cli::try_parse_from(std::iter::once("mock").chain(args.iter().copied()))
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        cli.deployment.config()
    }

    #[test]
    fn no_flags_is_the_reference_deployment() {
        let c = config(&[]).expect("default");
        assert_eq!(c.stores, Config::default().stores);
        assert!(c.limits.is_none() && !c.cache.enabled);
    }

    #[test]
    fn flags_override_the_defaults() {
        let c = config(&[
            "--store",
            "a",
            "--store",
            "b=/tmp/b",
            "--default-store",
            "b",
            "--import-methods",
            "glance-direct,copy-image",
            "--user-storage-quota",
            "1KB",
            "--image-count-total",
            "2",
            "--cache",
            "--hashing-algorithm",
            "sha256",
            "--show-image-direct-url",
        ])
        .expect("valid");
        assert_eq!(
            c.stores,
            vec![
                StoreConfig::memory("a", ""),
                StoreConfig::filesystem("b", "", "/tmp/b")
            ]
        );
        assert_eq!(c.default_store, "b");
        assert_eq!(c.import_methods, ["glance-direct", "copy-image"]);
        assert_eq!(c.user_storage_quota, 1024);
        let limits = c.limits.expect("limits");
        assert_eq!((limits.image_count_total, limits.image_size_total), (2, -1));
        assert!(c.cache.enabled && c.show_image_direct_url && !c.show_multiple_locations);
        assert_eq!(c.hashing_algorithm, HashAlgorithm::Sha256);
    }

    #[test]
    fn control_plane_flags() {
        let c = config(&[]).expect("default");
        assert!(c.control_plane && !c.allow_identity_faults && !c.require_auth);
        let c = config(&[
            "--no-control-plane",
            "--allow-identity-faults",
            "--require-auth",
        ])
        .expect("valid");
        assert!(!c.control_plane && c.allow_identity_faults && c.require_auth);
    }

    #[test]
    fn connection_timeouts() {
        let c = config(&[]).expect("default");
        assert_eq!(
            (
                c.connections.header_read_timeout_ms,
                c.connections.idle_timeout_ms
            ),
            (30_000, 60_000)
        );
        let c = config(&["--header-read-timeout", "0.25", "--idle-timeout", "0"]).expect("valid");
        assert_eq!(
            (
                c.connections.header_read_timeout_ms,
                c.connections.idle_timeout_ms
            ),
            (250, 0)
        );
        assert!(c.connections.idle_timeout().is_none());
        assert!(config(&["--idle-timeout", "-1"]).is_err());
        assert!(config(&["--header-read-timeout", "soon"]).is_err());
    }

    #[test]
    fn contradictions_are_refused() {
        assert!(config(&["--default-store", "elsewhere"]).is_err());
        assert!(config(&["--import-methods", "ftp"]).is_err());
        assert!(config(&["--user-storage-quota", "lots"]).is_err());
        assert!(config(&["--hashing-algorithm", "crc"]).is_err());
    }
}
