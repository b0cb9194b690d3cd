//! The mock's deployment configuration: what a `glance-api.conf` would say.
//!
//! Every type here deserializes from the TOML file the binary reads with
//! `--config` (see [`Config::from_toml`]); unknown keys are refused.

mod file;
mod hashing;
mod limits;

pub use file::ConfigError;
pub use hashing::HashAlgorithm;
pub use limits::ImageLimits;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::keystone::IdentityConfig;

/// One configured image store (a `enabled_backends` entry in Glance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Store id, as used in `X-Image-Meta-Store` and `stores`.
    pub id: String,
    /// Human-readable description (`store_description`).
    #[serde(default)]
    pub description: String,
    /// Where a filesystem store keeps image files (`filesystem_store_datadir`);
    /// `None` keeps the store's bytes in memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// For an in-memory store: the most bytes it may hold (`None`, the
    /// default: no bound). An upload that would go over it is refused as
    /// on a full disk (413 "Image storage media is full"). A filesystem
    /// store is bounded by its filesystem instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u64>,
}

impl StoreConfig {
    /// An in-memory store.
    pub fn memory(id: impl Into<String>, description: impl Into<String>) -> Self {
        StoreConfig {
            id: id.into(),
            description: description.into(),
            data_dir: None,
            capacity: None,
        }
    }

    /// A filesystem store keeping one file per image in `dir`.
    pub fn filesystem(
        id: impl Into<String>,
        description: impl Into<String>,
        dir: impl Into<PathBuf>,
    ) -> Self {
        StoreConfig {
            data_dir: Some(dir.into()),
            ..StoreConfig::memory(id, description)
        }
    }
}

/// The database file `--data-dir` keeps the records in, beside the
/// stores' folders.
pub const DATABASE_FILE: &str = "glance-mock.sqlite";

/// Deployment settings. The default mirrors the reference deployment that
/// `shared/real-glance/start` brings up: stores `fast` (default) and `cheap`,
/// the three default import methods, and Glance's default limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Stores in the order Glance lists them; the first id in `default_store` is the default.
    pub stores: Vec<StoreConfig>,
    /// The id of the default store (`default_backend`).
    pub default_store: String,
    /// `enabled_import_methods`.
    pub import_methods: Vec<String>,
    /// `image_size_cap` in bytes (Glance's default is 1 TiB).
    pub image_size_cap: u64,
    /// `user_storage_quota` in bytes: how much image data one project may
    /// keep; 0 (Glance's default) means unlimited. See
    /// [`parse_storage_quota`] for Glance's `20B`/`5GB` notation, which
    /// the configuration file accepts as well as a plain number.
    #[serde(deserialize_with = "limits::storage_quota")]
    pub user_storage_quota: u64,
    /// `use_keystone_limits` with the per-project limits registered in
    /// Keystone (unified limits); `None` (Glance's default) enforces none
    /// and leaves `/v2/info/usage` empty.
    pub limits: Option<ImageLimits>,
    /// `hashing_algorithm`: the `os_hash_algo` of uploaded data.
    pub hashing_algorithm: HashAlgorithm,
    /// `show_multiple_locations`: image records show `locations`, and
    /// PATCH may change them.
    pub show_multiple_locations: bool,
    /// `show_image_direct_url`: image records show `direct_url`.
    pub show_image_direct_url: bool,
    /// The image cache (`image_cache_dir`); off, as in the reference
    /// deployment.
    pub cache: CacheConfig,
    /// `limit_param_default`: page size when a list request gives no `limit`.
    pub limit_param_default: usize,
    /// `api_limit_max`: largest page a list request may get.
    pub api_limit_max: usize,
    /// Users, projects, roles and application credentials of the Keystone
    /// shim under `/identity`.
    pub identity: IdentityConfig,
    /// Strict authentication: `/v2` requests act only as tokens the shim
    /// issued (client-sent identity headers are ignored); anything else
    /// gets 401. The control plane (`/_mock`, but `GET /_mock/health`)
    /// then wants a shim token with the `admin` role: 401 without a valid
    /// token, 403 without the role. Off, `/_mock` is open to anyone.
    pub require_auth: bool,
    /// The control plane over HTTP: the `/_mock` routes, and the layer in
    /// which fault rules act and the journal records requests. On by
    /// default; off, `/_mock` paths answer as any unknown path does and no
    /// rule acts on any request (the [`crate::MockServer`] methods still
    /// work on the state).
    pub control_plane: bool,
    /// Let fault rules target and act on the Keystone shim (`/identity`)
    /// and `/_mock`. Off by default: a rule whose path can only match
    /// there is refused, and no rule acts on a request under `/identity`.
    pub allow_identity_faults: bool,
    /// Imports and other tasks, their staging area and their sources: see
    /// [`TaskConfig`].
    pub tasks: TaskConfig,
    /// Answer 500 where Glance 33 itself crashes on input it does not
    /// check (an unparsable Range, a path that is not UTF-8, ...). Off by
    /// default: the mock then answers the 4xx each case stands for (see
    /// RELIABILITY.md), so that no request makes it answer 5xx.
    #[serde(default)]
    pub glance_server_errors: bool,
    /// How long a connection may take to send a request's head, and stay
    /// idle between requests: see [`ConnectionConfig`].
    pub connections: ConnectionConfig,
    /// Where the records live (`[database] connection`): `None`, the
    /// default, keeps them in memory; a path keeps them in that SQLite
    /// database file, so they survive a restart and a crash (see
    /// [`crate::db::sqlite`]; needs the `sqlite` feature). `--data-dir
    /// DIR` sets it to `DIR/glance-mock.sqlite`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<PathBuf>,
    /// The registry node holding the records (`--registry URL`; Glance's
    /// `data_api = glance.db.registry.api`): `None`, the default, keeps
    /// them here ([`Config::database`]); a base URL makes this an API node
    /// that holds no database and asks the registry for every record (see
    /// [`crate::db::registry`]). Set with [`Config::use_registry`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            stores: vec![
                StoreConfig::memory("fast", "Fast local store"),
                StoreConfig::memory("cheap", "Cheap bulk store"),
            ],
            default_store: "fast".into(),
            import_methods: vec![
                "glance-direct".into(),
                "web-download".into(),
                "copy-image".into(),
            ],
            image_size_cap: 1 << 40,
            user_storage_quota: 0,
            limits: None,
            hashing_algorithm: HashAlgorithm::default(),
            show_multiple_locations: false,
            show_image_direct_url: false,
            cache: CacheConfig::default(),
            limit_param_default: 25,
            api_limit_max: 1000,
            identity: IdentityConfig::default(),
            require_auth: false,
            control_plane: true,
            allow_identity_faults: false,
            tasks: TaskConfig::default(),
            glance_server_errors: false,
            connections: ConnectionConfig::default(),
            database: None,
            registry: None,
        }
    }
}

impl Config {
    /// Whether `id` names a configured store.
    pub fn has_store(&self, id: &str) -> bool {
        self.stores.iter().any(|s| s.id == id)
    }

    /// Keep all state on disk under `dir` (`--data-dir`): the records in
    /// `dir/glance-mock.sqlite` ([`Config::database`]), each store's bytes
    /// in `dir/<store id>/`, staged data in `dir/os_glance_staging_store/`.
    /// Fails, changing nothing, on a store id that cannot name a directory.
    pub fn use_data_dir(&mut self, dir: &std::path::Path) -> Result<(), String> {
        if let Some(bad) = self
            .stores
            .iter()
            .find(|s| s.id.is_empty() || s.id.starts_with('.') || s.id.contains(['/', '\\', '\0']))
        {
            return Err(format!("store id {:?} cannot name a directory", bad.id));
        }
        for store in &mut self.stores {
            store.data_dir = Some(dir.join(&store.id));
        }
        self.tasks.staging_dir = Some(dir.join("os_glance_staging_store"));
        self.database = Some(dir.join(DATABASE_FILE));
        Ok(())
    }

    /// Ask the registry node at `url` (`http://HOST:PORT`) for every
    /// record and keep no database here (whatever [`Config::use_data_dir`]
    /// set: the stores' folders stay). Fails, changing nothing, on a URL
    /// that is not plain `http` with a host.
    pub fn use_registry(&mut self, url: &str) -> Result<(), String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("{url:?}: {e}"))?;
        if parsed.scheme() != "http" || parsed.host().is_none() {
            return Err(format!(
                "{url:?}: the registry is reached over plain http (http://HOST:PORT)"
            ));
        }
        self.registry = Some(url.trim_end_matches('/').to_owned());
        self.database = None;
        Ok(())
    }
}

/// The image cache: with it, `/v2/cache` manages which images this node
/// keeps a local copy of, downloads fill it, and the versions document
/// lists the cache versions (v2.14, v2.16, v2.18).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Whether the deployment has an image cache (`image_cache_dir` set,
    /// the `cache` filter in the pipeline, the `centralized_db` driver).
    pub enabled: bool,
}

/// The server's connection timeouts (the mock's own settings; Glance's
/// WSGI server has `client_socket_timeout` instead). Without them, idle or
/// stalled clients would hold their connections, and file descriptors,
/// for ever. `0` turns a timeout off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionConfig {
    /// Milliseconds a client may take to send a request's head (request
    /// line and headers), counted from its first byte; then the connection
    /// is closed without an answer. Default 30 000 (30 s).
    pub header_read_timeout_ms: u64,
    /// Milliseconds a connection may stay idle, no request in flight and
    /// nothing read or written (a keep-alive connection between requests, or
    /// one that never sends anything); then it is closed. Default 60 000
    /// (60 s).
    pub idle_timeout_ms: u64,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            header_read_timeout_ms: 30_000,
            idle_timeout_ms: 60_000,
        }
    }
}

impl ConnectionConfig {
    /// The header read timeout, `None` when off.
    pub fn header_read_timeout(&self) -> Option<std::time::Duration> {
        millis(self.header_read_timeout_ms)
    }

    /// The idle timeout, `None` when off.
    pub fn idle_timeout(&self) -> Option<std::time::Duration> {
        millis(self.idle_timeout_ms)
    }
}

fn millis(ms: u64) -> Option<std::time::Duration> {
    (ms > 0).then(|| std::time::Duration::from_millis(ms))
}

/// How a task (an image import, or one created through `POST /v2/tasks`)
/// moves on after the request that started it has been answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskProgression {
    /// As in Glance: on a background tokio task, right away. The task
    /// starts processing at once (an import's image becomes `importing`),
    /// waits [`TaskConfig::import_delay_ms`], then runs to its end.
    #[default]
    Background,
    /// Only when the embedding code says so: each call of
    /// `AppState::advance_tasks` (or `MockServer::advance_tasks`) moves
    /// every waiting task one step (pending → processing → done), and
    /// `finish_tasks` runs them all to their end. Until then an import's
    /// image keeps its lock (`os_glance_import_task`) and its task stays
    /// `pending`.
    Manual,
}

/// `[import_filtering_opts]`: which URIs `web-download` (and the legacy
/// `import` task) may fetch. Empty lists do not restrict; an allowed list
/// wins over its disallowed list. Addresses are resolved, and loopback or
/// link-local ones are refused unless the host is explicitly allowed.
///
/// The mock's own files (`/_mock/files/NAME` on the address it is served
/// at, see [`crate::control::files`]) pass whatever the lists say: they
/// are how tests give web-download something to fetch. Every other path
/// of the mock is refused like any loopback URL. An opt-in deviation,
/// [`ImportFiltering::allow_loopback`], lets any URI whose host resolves
/// to loopback addresses only pass, whatever its port (e.g. a file server
/// of the test's own on `127.0.0.1:0`, or another mock for
/// glance-download).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportFiltering {
    /// `allowed_schemes` (Glance: `http`, `https`).
    pub allowed_schemes: Vec<String>,
    /// `disallowed_schemes`.
    pub disallowed_schemes: Vec<String>,
    /// `allowed_hosts`.
    pub allowed_hosts: Vec<String>,
    /// `disallowed_hosts`.
    pub disallowed_hosts: Vec<String>,
    /// `allowed_ports` (Glance: 80, 443).
    pub allowed_ports: Vec<u16>,
    /// `disallowed_ports`.
    pub disallowed_ports: Vec<u16>,
    /// The mock's own switch: accept loopback hosts on any port (Glance
    /// refuses them). Off by default (Glance's rules unchanged): on, any
    /// image member can make the mock fetch from services on its host,
    /// the mock's own control plane included.
    pub allow_loopback: bool,
}

impl Default for ImportFiltering {
    fn default() -> Self {
        ImportFiltering {
            allowed_schemes: vec!["http".into(), "https".into()],
            disallowed_schemes: Vec::new(),
            allowed_hosts: Vec::new(),
            disallowed_hosts: Vec::new(),
            allowed_ports: vec![80, 443],
            disallowed_ports: Vec::new(),
            allow_loopback: false,
        }
    }
}

/// Tasks and imports: how they progress, where staged data lives, where
/// `web-download` and `glance-download` may fetch from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaskConfig {
    /// Background (default, as Glance) or manual progression.
    pub progression: TaskProgression,
    /// In background progression, how long an import stays `importing`
    /// (its task `processing`) before its data moves. Default 0.
    pub import_delay_ms: u64,
    /// Where staged data (`PUT /stage`, and what the other import methods
    /// fetch) is kept, one file per image (`os_glance_staging_store`);
    /// `None` (default) keeps it in memory.
    pub staging_dir: Option<PathBuf>,
    /// For staging in memory: the most bytes it may hold (`None`, the
    /// default: no bound); a stage that would go over it answers 413 as on
    /// a full disk. Staging in `staging_dir` is bounded by its filesystem.
    pub staging_capacity: Option<u64>,
    /// `[import_filtering_opts]` for `web-download`.
    pub import_filtering: ImportFiltering,
    /// The other Glance that `glance-download` fetches from, e.g.
    /// `http://127.0.0.1:9293` (another mock works): any `glance_region`
    /// resolves to it. `None` (default): every glance-download task fails,
    /// as when the region is not in the service catalog. The method must
    /// also be listed in [`Config::import_methods`] (Glance leaves it off).
    pub glance_download_endpoint: Option<String>,
    /// `[glance_download_properties] extra_properties`: prefixes of the
    /// remote image's properties copied onto the local one.
    pub glance_download_properties: Vec<String>,
    /// `[task] task_time_to_live` in hours: how long a finished task is
    /// listed (its `expires_at`). Default 48.
    pub task_time_to_live_hours: u64,
}

impl Default for TaskConfig {
    fn default() -> Self {
        TaskConfig {
            progression: TaskProgression::Background,
            import_delay_ms: 0,
            staging_dir: None,
            staging_capacity: None,
            import_filtering: ImportFiltering::default(),
            glance_download_endpoint: None,
            glance_download_properties: ["hw_", "trait:", "os_distro", "os_secure_boot", "os_type"]
                .into_iter()
                .map(String::from)
                .collect(),
            task_time_to_live_hours: 48,
        }
    }
}

/// Parse a `user_storage_quota` value as Glance does: digits, optionally
/// followed by `B`, `KB`, `MB`, `GB` or `TB` (binary multiples, no space).
/// `None` for anything else (Glance refuses to start on it).
pub fn parse_storage_quota(value: &str) -> Option<u64> {
    let digits_end = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (digits, unit) = value.split_at(digits_end);
    let factor: u64 = match unit {
        "" | "B" => 1,
        "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        _ => return None,
    };
    if digits.is_empty() {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_quota_notation() {
        assert_eq!(parse_storage_quota("0"), Some(0));
        assert_eq!(parse_storage_quota("20B"), Some(20));
        assert_eq!(parse_storage_quota("20"), Some(20));
        assert_eq!(parse_storage_quota("5GB"), Some(5 << 30));
        assert_eq!(parse_storage_quota("1KB"), Some(1024));
        assert_eq!(parse_storage_quota("5 GB"), None);
        assert_eq!(parse_storage_quota("GB"), None);
        assert_eq!(parse_storage_quota("5gb"), None);
        assert_eq!(parse_storage_quota("-5"), None);
    }

    #[test]
    fn a_data_dir_puts_every_store_on_disk() {
        let mut c = Config::default();
        c.use_data_dir(std::path::Path::new("/d"))
            .expect("plain ids");
        assert_eq!(
            c.stores[0].data_dir.as_deref(),
            Some(std::path::Path::new("/d/fast"))
        );
        assert_eq!(
            c.stores[1].data_dir.as_deref(),
            Some(std::path::Path::new("/d/cheap"))
        );
        assert!(c.tasks.staging_dir.is_some());
        c.stores[0].id = "../up".into();
        assert!(c.use_data_dir(std::path::Path::new("/e")).is_err());
        assert_eq!(
            c.stores[1].data_dir.as_deref(),
            Some(std::path::Path::new("/d/cheap"))
        );
    }

    #[test]
    fn connection_timeouts_in_a_file() {
        let c = Config::from_toml("[connections]\nidle_timeout_ms = 500\n").expect("valid");
        assert_eq!(
            c.connections.idle_timeout(),
            Some(std::time::Duration::from_millis(500))
        );
        assert_eq!(
            c.connections.header_read_timeout(),
            Some(std::time::Duration::from_secs(30))
        );
        assert!(Config::from_toml("[connections]\nheader_timeout = 1\n").is_err());
    }

    #[test]
    fn default_stores_live_in_memory() {
        let c = Config::default();
        assert!(c.stores.iter().all(|s| s.data_dir.is_none()));
        assert!(c.has_store("fast") && c.has_store("cheap"));
    }
}
