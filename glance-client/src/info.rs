//! Discovery: import methods, stores and quota usage (`client.info()`).

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::Result;
use crate::images::Images;
use crate::transport::RequestSpec;

/// `GET /v2/info/import`: how images may be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImportInfo {
    /// Enabled methods: `glance-direct`, `web-download`, `copy-image`,
    /// `glance-download`.
    pub methods: Vec<String>,
    /// The server's description of the list.
    pub description: Option<String>,
}

#[derive(Deserialize)]
struct ImportDoc {
    #[serde(rename = "import-methods")]
    import_methods: ImportMethods,
}

#[derive(Deserialize)]
struct ImportMethods {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    value: Vec<String>,
}

/// Glance sends flags as the strings `"true"`/`"false"` (and may one day
/// send booleans): both are read.
fn loose_bool<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    })
}

/// The id of a store of a multi-store deployment (`fast`, `ceph`, …): a
/// type of its own so that it can't be passed where an image id goes, nor
/// an image id where it goes.
///
/// ```
/// use glance_client::StoreId;
/// let store = StoreId::new("fast");
/// assert_eq!(store.as_str(), "fast");
/// assert_eq!(store, StoreId::from("fast"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StoreId(String);

impl StoreId {
    /// A store id, as the deployment names it.
    pub fn new(id: impl Into<String>) -> Self {
        StoreId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for StoreId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for StoreId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for StoreId {
    fn from(id: &str) -> Self {
        StoreId(id.to_owned())
    }
}

impl From<String> for StoreId {
    fn from(id: String) -> Self {
        StoreId(id)
    }
}

impl PartialEq<str> for StoreId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for StoreId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// A store of a multi-store deployment (`GET /v2/info/stores[/detail]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Store {
    /// Store id, as used by uploads and imports (`x-image-meta-store`).
    pub id: StoreId,
    /// Operator's description.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether data goes here when no store is named.
    #[serde(default, deserialize_with = "loose_bool")]
    pub default: bool,
    /// Whether the store refuses new data.
    #[serde(rename = "read-only", default, deserialize_with = "loose_bool")]
    pub read_only: bool,
    /// Driver (`file`, `rbd`, …); detail only.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub store_type: Option<String>,
    /// Preference weight for downloads; detail only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    /// Driver settings; detail only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
    /// Any other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Deserialize)]
struct StoreList {
    stores: Vec<Store>,
}

/// One quota's limit and use (`GET /v2/info/usage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QuotaUsage {
    /// The limit (sizes in MiB).
    pub limit: i64,
    /// The current use.
    pub usage: i64,
}

#[derive(Deserialize)]
struct UsageDoc {
    usage: BTreeMap<String, QuotaUsage>,
}

/// Discovery calls. Get one with [`Client::info`].
///
/// ```no_run
/// # async fn demo(client: glance_client::Client) -> glance_client::Result<()> {
/// let info = client.info();
/// println!("import methods: {:?}", info.import_methods().await?.methods);
/// for store in info.stores().await? {
///     println!("{}{}", store.id, if store.default { " (default)" } else { "" });
/// }
/// for (quota, u) in info.usage().await? {
///     println!("{quota}: {} of {}", u.usage, u.limit);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Info<'a> {
    client: &'a Client,
}

impl Client {
    /// Discovery calls: import methods, stores, quota usage.
    pub fn info(&self) -> Info<'_> {
        Info { client: self }
    }
}

fn info_spec(what: &[&str]) -> RequestSpec {
    let mut segments = vec!["v2", "info"];
    segments.extend_from_slice(what);
    RequestSpec::new(Method::GET, segments)
}

impl Info<'_> {
    /// `GET /v2/info/import`: the enabled import methods.
    pub async fn import_methods(&self) -> Result<ImportInfo> {
        let doc: ImportDoc = self.client.send_json(info_spec(&["import"])).await?;
        Ok(ImportInfo {
            methods: doc.import_methods.value,
            description: doc.import_methods.description,
        })
    }

    /// `GET /v2/info/stores`: the stores (404 when the deployment has a
    /// single, unnamed store).
    pub async fn stores(&self) -> Result<Vec<Store>> {
        let list: StoreList = self.client.send_json(info_spec(&["stores"])).await?;
        Ok(list.stores)
    }

    /// `GET /v2/info/stores/detail`: the stores with driver, weight and
    /// settings (admins and services only).
    pub async fn stores_detail(&self) -> Result<Vec<Store>> {
        let list: StoreList = self
            .client
            .send_json(info_spec(&["stores", "detail"]))
            .await?;
        Ok(list.stores)
    }

    /// `GET /v2/info/usage`: quota name → limit and use. Empty unless the
    /// deployment enforces Keystone unified limits.
    pub async fn usage(&self) -> Result<BTreeMap<String, QuotaUsage>> {
        let doc: UsageDoc = self.client.send_json(info_spec(&["usage"])).await?;
        Ok(doc.usage)
    }
}

impl Images<'_> {
    /// `DELETE /v2/stores/{store}/{id}`: delete an image's data from one
    /// store of a multi-store deployment (the image must be active and
    /// have data in another store too).
    ///
    /// The image id comes first, as in every other image call; the store
    /// is a [`StoreId`], so arguments in glanceclient's order
    /// (`delete_from_store(store_id, image_id)`) do not compile.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, image_id: &str) -> glance_client::Result<()> {
    /// use glance_client::StoreId;
    /// client.images().delete_from_store(image_id, &StoreId::new("cheap")).await?;
    /// // Or with a store the service listed:
    /// for store in client.info().stores().await? {
    ///     if !store.default {
    ///         client.images().delete_from_store(image_id, &store.id).await?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// Swapped, or with two strings, it does not compile:
    ///
    /// ```compile_fail
    /// # async fn demo(client: glance_client::Client, image_id: &str) -> glance_client::Result<()> {
    /// client.images().delete_from_store("cheap", image_id).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// ```compile_fail
    /// # async fn demo(client: glance_client::Client, image_id: &str) -> glance_client::Result<()> {
    /// use glance_client::StoreId;
    /// client.images().delete_from_store(&StoreId::new("cheap"), image_id).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_from_store(&self, id: &str, store: &StoreId) -> Result<()> {
        self.client
            .send_unit(RequestSpec::new(
                Method::DELETE,
                ["v2", "stores", store.as_str(), id],
            ))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_read_string_flags() {
        let list: StoreList = serde_json::from_str(
            r#"{"stores": [
                {"id": "fast", "description": "Fast local store", "default": "true", "type": "file",
                 "properties": {"data_dir": "/d", "chunk_size": 65536}, "weight": 0},
                {"id": "cheap", "read-only": "true"},
                {"id": "other", "default": true, "extra": 1}]}"#,
        )
        .expect("decodes");
        let [fast, cheap, other] = &list.stores[..] else {
            panic!("three stores")
        };
        assert!(fast.default && !fast.read_only);
        assert_eq!(fast.store_type.as_deref(), Some("file"));
        assert_eq!(fast.weight, Some(0));
        assert!(!cheap.default && cheap.read_only);
        assert!(other.default);
        assert_eq!(other.extra.get("extra"), Some(&Value::from(1)));
    }

    #[test]
    fn usage_reads_limits() {
        let doc: UsageDoc =
            serde_json::from_str(r#"{"usage": {"image_count_total": {"limit": 100, "usage": 3}}}"#)
                .expect("decodes");
        assert_eq!(doc.usage["image_count_total"].usage, 3);
    }
}
