//! The mock's deployment configuration: what a `glance-api.conf` would say.

use serde::{Deserialize, Serialize};

use crate::keystone::IdentityConfig;

/// One configured image store (a `enabled_backends` entry in Glance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreConfig {
    /// Store id, as used in `X-Image-Meta-Store` and `stores`.
    pub id: String,
    /// Human-readable description (`store_description`).
    pub description: String,
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
                StoreConfig {
                    id: "fast".into(),
                    description: "Fast local store".into(),
                },
                StoreConfig {
                    id: "cheap".into(),
                    description: "Cheap bulk store".into(),
                },
            ],
            default_store: "fast".into(),
            import_methods: vec![
                "glance-direct".into(),
                "web-download".into(),
                "copy-image".into(),
            ],
            image_size_cap: 1 << 40,
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
