//! JSON schemas of the API's resources (`client.schemas()`).

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::Value;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::transport::RequestSpec;

/// One property of a [`Schema`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SchemaProperty {
    /// Property name.
    pub name: String,
    /// Human description, if any.
    pub description: Option<String>,
    /// JSON types allowed (`["null", "string"]`, …).
    pub types: Vec<String>,
    /// Whether clients may not set it.
    pub read_only: bool,
    /// Glance's `is_base` flag (absent means `true`): `false` marks
    /// properties the deployment's schema adds (`os_distro`, `kernel_id`, …).
    pub is_base: bool,
    /// Allowed values, if restricted.
    pub enum_values: Option<Vec<Value>>,
    /// The property's JSON schema as sent.
    pub raw: Value,
}

impl SchemaProperty {
    fn from_json(name: &str, raw: &Value) -> Self {
        let types = match raw.get("type") {
            Some(Value::String(t)) => vec![t.clone()],
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        SchemaProperty {
            name: name.to_owned(),
            description: raw
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            types,
            read_only: raw
                .get("readOnly")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            is_base: raw.get("is_base").and_then(Value::as_bool).unwrap_or(true),
            enum_values: raw.get("enum").and_then(Value::as_array).cloned(),
            raw: raw.clone(),
        }
    }
}

/// A resource schema: typed access to its properties, and the raw JSON.
///
/// ```
/// use glance_client::schemas::Schema;
/// let schema = Schema::from_json(serde_json::json!({
///     "name": "image",
///     "properties": {
///         "name": {"type": ["null", "string"], "maxLength": 255},
///         "status": {"type": "string", "readOnly": true},
///         "os_distro": {"type": "string", "is_base": false}
///     },
///     "additionalProperties": {"type": "string"}
/// })).unwrap();
/// assert!(schema.is_core_property("os_distro"));
/// assert!(!schema.is_base_property("os_distro"));
/// assert!(schema.property("status").unwrap().read_only);
/// assert_eq!(schema.raw()["additionalProperties"]["type"], "string");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Schema {
    /// `image`, `member`, `metadefs/namespace`, …
    pub name: String,
    /// The properties, by name.
    pub properties: BTreeMap<String, SchemaProperty>,
    /// Names of required properties.
    pub required: Vec<String>,
    raw: Value,
}

impl Schema {
    /// Read a schema document.
    pub fn from_json(raw: Value) -> Result<Schema> {
        let name = raw
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Decode {
                path: "name".into(),
                message: "a schema needs a name".into(),
                response: None,
            })?
            .to_owned();
        let properties = raw
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| {
                props
                    .iter()
                    .map(|(k, v)| (k.clone(), SchemaProperty::from_json(k, v)))
                    .collect()
            })
            .unwrap_or_default();
        let required = raw
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Schema {
            name,
            properties,
            required,
            raw,
        })
    }

    /// The document as the server sent it.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// The document, consuming the schema.
    pub fn into_raw(self) -> Value {
        self.raw
    }

    /// A property by name.
    pub fn property(&self, name: &str) -> Option<&SchemaProperty> {
        self.properties.get(name)
    }

    /// Whether the schema defines `name` (glanceclient's `is_core_property`).
    pub fn is_core_property(&self, name: &str) -> bool {
        self.properties.contains_key(name)
    }

    /// Whether `name` is a base property: defined and not `is_base: false`.
    pub fn is_base_property(&self, name: &str) -> bool {
        self.property(name).is_some_and(|p| p.is_base)
    }

    /// The schema for properties it does not define
    /// (`additionalProperties`), if any.
    pub fn additional_properties(&self) -> Option<&Value> {
        self.raw.get("additionalProperties")
    }
}

/// Schema calls. Get one with [`Client::schemas`].
///
/// ```no_run
/// # async fn demo(client: glance_client::Client) -> glance_client::Result<()> {
/// let image = client.schemas().get("image").await?;
/// for (name, p) in &image.properties {
///     println!("{name}: {}", p.description.as_deref().unwrap_or(""));
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Schemas<'a> {
    client: &'a Client,
}

impl Client {
    /// Schema calls.
    pub fn schemas(&self) -> Schemas<'_> {
        Schemas { client: self }
    }
}

impl Schemas<'_> {
    /// `GET /v2/schemas/{name}`: `image`, `images`, `member`, `members`,
    /// `task`, `tasks`, or `metadefs/namespace` and the like.
    pub async fn get(&self, name: &str) -> Result<Schema> {
        let mut segments = vec!["v2", "schemas"];
        if name.is_empty() || name.split('/').any(str::is_empty) {
            return Err(Error::InvalidInput(format!("invalid schema name {name:?}")));
        }
        segments.extend(name.split('/'));
        let raw: Value = self
            .client
            .send_json(RequestSpec::new(Method::GET, segments))
            .await?;
        Schema::from_json(raw)
    }
}
