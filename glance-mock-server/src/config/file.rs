//! Reading a [`Config`] from a TOML file, and checking that it describes a
//! deployment Glance would start with.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::Config;

/// The import methods Glance knows (`enabled_import_methods` choices).
pub const KNOWN_IMPORT_METHODS: [&str; 4] = [
    "glance-direct",
    "web-download",
    "copy-image",
    "glance-download",
];

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The file is not TOML, or has an unknown key or a value of the wrong
    /// type; the message names the key and where it is.
    #[error("{}", .0.message().trim_end())]
    Parse(#[source] toml::de::Error),
    /// The settings contradict each other or name something unknown.
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Parse a TOML document: every key is optional (missing ones keep the
    /// reference deployment's value) and unknown keys are an error. The
    /// result is [validated](Config::validate).
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(ConfigError::Parse)?;
        config.validate()?;
        Ok(config)
    }

    /// Read and parse a TOML file (see [`Config::from_toml`]).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::from_toml(&text).map_err(|e| match e {
            ConfigError::Parse(e) => ConfigError::Invalid(format!("{}: {e}", path.display())),
            other => other,
        })
    }

    /// Check what Glance checks when it starts: at least one store, unique
    /// store ids (none of the reserved `os_glance_` ones), a default store
    /// among them, known import methods, and usable page sizes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |msg: String| Err(ConfigError::Invalid(msg));
        if self.stores.is_empty() {
            return invalid("stores: at least one store must be configured".into());
        }
        let mut seen = HashSet::new();
        for store in &self.stores {
            if store.id.is_empty() {
                return invalid("stores: a store id must not be empty".into());
            }
            if store.id.starts_with("os_glance_") {
                return invalid(format!(
                    "stores: `{}`: ids starting with os_glance_ are reserved",
                    store.id
                ));
            }
            if !seen.insert(store.id.as_str()) {
                return invalid(format!("stores: `{}` is configured twice", store.id));
            }
            if store.capacity.is_some() && store.data_dir.is_some() {
                return invalid(format!(
                    "stores: `{}`: capacity bounds in-memory stores only; a store with a data_dir is bounded by its filesystem",
                    store.id
                ));
            }
        }
        if !self.has_store(&self.default_store) {
            return invalid(format!(
                "default_store `{}` is not one of the configured stores ({})",
                self.default_store,
                self.stores
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for method in &self.import_methods {
            if !KNOWN_IMPORT_METHODS.contains(&method.as_str()) {
                return invalid(format!(
                    "import_methods: unknown method `{method}` (one of: {})",
                    KNOWN_IMPORT_METHODS.join(", ")
                ));
            }
        }
        if self.tasks.staging_capacity.is_some() && self.tasks.staging_dir.is_some() {
            return invalid(
                "tasks: staging_capacity bounds staging in memory only; a staging_dir is bounded by its filesystem".into(),
            );
        }
        if self.limit_param_default == 0 || self.api_limit_max == 0 {
            return invalid("limit_param_default and api_limit_max must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{HashAlgorithm, StoreConfig};

    #[test]
    fn an_empty_file_is_the_reference_deployment() {
        let c = Config::from_toml("").expect("empty file");
        let d = Config::default();
        assert_eq!(c.stores, d.stores);
        assert_eq!(c.default_store, "fast");
        assert_eq!(c.import_methods, d.import_methods);
        assert_eq!(c.hashing_algorithm, HashAlgorithm::Sha512);
        assert!(!c.cache.enabled && !c.show_multiple_locations && !c.show_image_direct_url);
        assert!(c.limits.is_none());
        assert_eq!(c.user_storage_quota, 0);
        assert!(c.control_plane && !c.allow_identity_faults && !c.require_auth);
    }

    #[test]
    fn control_plane_switches_are_read() {
        let c = Config::from_toml("control_plane = false\nallow_identity_faults = true")
            .expect("valid");
        assert!(!c.control_plane && c.allow_identity_faults);
    }

    #[test]
    fn settings_are_read() {
        let c = Config::from_toml(
            r#"
            default_store = "disk"
            import_methods = ["glance-direct"]
            user_storage_quota = "5GB"
            hashing_algorithm = "sha256"
            show_multiple_locations = true
            [[stores]]
            id = "disk"
            description = "Disk"
            data_dir = "/tmp/x"
            [cache]
            enabled = true
            [limits]
            image_count_total = 3
            "#,
        )
        .expect("valid");
        assert_eq!(
            c.stores,
            vec![StoreConfig::filesystem("disk", "Disk", "/tmp/x")]
        );
        assert_eq!(c.user_storage_quota, 5 << 30);
        assert_eq!(c.hashing_algorithm, HashAlgorithm::Sha256);
        assert!(c.cache.enabled && c.show_multiple_locations);
        let limits = c.limits.expect("limits");
        assert_eq!((limits.image_count_total, limits.image_size_total), (3, -1));
        assert_eq!(
            Config::from_toml("user_storage_quota = 20")
                .expect("bytes")
                .user_storage_quota,
            20
        );
    }

    #[test]
    fn the_example_file_is_the_reference_deployment() {
        let c = Config::from_toml(include_str!("../../mock.example.toml")).expect("example");
        let d = Config::default();
        assert_eq!(c.stores, d.stores);
        assert_eq!(c.import_methods, d.import_methods);
        assert_eq!(c.tasks, d.tasks);
        assert!(!c.cache.enabled && c.limits.is_none());
    }

    fn refused(text: &str) -> String {
        Config::from_toml(text).expect_err("refused").to_string()
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        assert!(refused("show_multiple_location = true").contains("show_multiple_location"));
        assert!(refused("[cache]\nenable = true").contains("enable"));
        assert!(refused("[tasks.import_filtering]\nports = [1]").contains("ports"));
    }

    #[test]
    fn inconsistent_settings_are_refused() {
        assert!(refused("default_store = \"nope\"").contains("nope"));
        assert!(refused("import_methods = [\"ftp\"]").contains("ftp"));
        assert!(refused("hashing_algorithm = \"crc32\"").contains("crc32"));
        assert!(refused("user_storage_quota = \"5 GB\"").contains("5 GB"));
        assert!(refused("stores = []").contains("at least one store"));
        assert!(refused("[[stores]]\nid = \"fast\"\n[[stores]]\nid = \"fast\"").contains("twice"));
    }
}
