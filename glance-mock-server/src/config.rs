//! The mock's deployment configuration: what a `glance-api.conf` would say.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::keystone::IdentityConfig;

/// One configured image store (a `enabled_backends` entry in Glance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreConfig {
    /// Store id, as used in `X-Image-Meta-Store` and `stores`.
    pub id: String,
    /// Human-readable description (`store_description`).
    pub description: String,
    /// Where a filesystem store keeps image files (`filesystem_store_datadir`);
    /// `None` keeps the store's bytes in memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

impl StoreConfig {
    /// An in-memory store.
    pub fn memory(id: impl Into<String>, description: impl Into<String>) -> Self {
        StoreConfig {
            id: id.into(),
            description: description.into(),
            data_dir: None,
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

/// Deployment settings. The default mirrors the reference deployment that
/// `shared/real-glance/start` brings up: stores `fast` (default) and `cheap`,
/// the three default import methods, and Glance's default limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// [`parse_storage_quota`] for Glance's `20B`/`5GB` notation.
    #[serde(default)]
    pub user_storage_quota: u64,
    /// `limit_param_default`: page size when a list request gives no `limit`.
    pub limit_param_default: usize,
    /// `api_limit_max`: largest page a list request may get.
    pub api_limit_max: usize,
    /// Users, projects, roles and application credentials of the Keystone
    /// shim under `/identity`.
    #[serde(default)]
    pub identity: IdentityConfig,
    /// Strict authentication: `/v2` requests act only as tokens the shim
    /// issued (client-sent identity headers are ignored); anything else
    /// gets 401.
    #[serde(default)]
    pub require_auth: bool,
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
            limit_param_default: 25,
            api_limit_max: 1000,
            identity: IdentityConfig::default(),
            require_auth: false,
        }
    }
}

impl Config {
    /// Whether `id` names a configured store.
    pub fn has_store(&self, id: &str) -> bool {
        self.stores.iter().any(|s| s.id == id)
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
    fn default_stores_live_in_memory() {
        let c = Config::default();
        assert!(c.stores.iter().all(|s| s.data_dir.is_none()));
        assert!(c.has_store("fast") && c.has_store("cheap"));
    }
}
