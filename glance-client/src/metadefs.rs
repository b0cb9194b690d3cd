//! Metadata definitions: the catalog of properties operators describe for
//! images and other resources (`client.metadefs()`).
//!
//! Namespaces (e.g. `OS::Compute::Hypervisor`) hold property definitions,
//! objects (groups of properties) and tags, and are associated with
//! resource types (e.g. `OS::Glance::Image`). The models keep the fields
//! they know typed and every other field in `extra`, so a value read can be
//! changed and sent back whole, as the API's `PUT` calls require.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::images::SortDir;
use crate::paginate::{self, paginate};
use crate::transport::RequestSpec;

/// Keys the server sets; removed before a model is sent back.
const READ_ONLY: &[&str] = &["schema", "self", "created_at", "updated_at"];

/// A namespace.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Namespace {
    /// Unique name, e.g. `OS::Compute::Libvirt`.
    pub namespace: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `public` or `private`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    /// Protected from deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected: Option<bool>,
    /// Owning project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Resource types it applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_type_associations: Vec<ResourceTypeAssociation>,
    /// Property definitions (JSON schemas), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, Value>,
    /// Objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<MetadefObject>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<MetadefTag>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Namespace {
    /// A new namespace with this name.
    pub fn new(namespace: impl Into<String>) -> Self {
        Namespace {
            namespace: namespace.into(),
            ..Namespace::default()
        }
    }
}

/// A resource type (`OS::Glance::Image`, `OS::Cinder::Volume`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResourceType {
    /// Name.
    pub name: String,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// A namespace's association with a resource type.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResourceTypeAssociation {
    /// Resource type name.
    pub name: String,
    /// Prefix of the properties on that resource (e.g. `hw_`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Where the properties go on the resource (e.g. `image`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties_target: Option<String>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

impl ResourceTypeAssociation {
    /// An association with a resource type, without prefix or target.
    pub fn new(name: impl Into<String>) -> Self {
        ResourceTypeAssociation {
            name: name.into(),
            ..ResourceTypeAssociation::default()
        }
    }
}

/// A property definition: a JSON schema with a name and a title.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MetadefProperty {
    /// Name (the client fills it in from the URL or the map key).
    #[serde(default)]
    pub name: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// JSON type: `string`, `integer`, `number`, `boolean`, `array`, `object`.
    #[serde(rename = "type", default)]
    pub property_type: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Allowed values, length limits, defaults, …: the rest of the schema.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MetadefProperty {
    /// A property of this name, type and title.
    pub fn new(
        name: impl Into<String>,
        property_type: impl Into<String>,
        title: impl Into<String>,
    ) -> Self {
        MetadefProperty {
            name: name.into(),
            title: title.into(),
            property_type: property_type.into(),
            ..MetadefProperty::default()
        }
    }
}

/// An object: a named group of property definitions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MetadefObject {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Names of required properties.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<String>,
    /// Property definitions, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, Value>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MetadefObject {
    /// An object of this name.
    pub fn new(name: impl Into<String>) -> Self {
        MetadefObject {
            name: name.into(),
            ..MetadefObject::default()
        }
    }
}

/// A tag of a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MetadefTag {
    /// Name.
    pub name: String,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// What [`Metadefs::list_namespaces`] lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListNamespaces {
    page_size: Option<u32>,
    resource_types: Vec<String>,
    visibility: Option<String>,
    sort: Option<(String, SortDir)>,
    marker: Option<String>,
}

impl ListNamespaces {
    /// Every namespace the caller may see.
    pub fn new() -> Self {
        ListNamespaces::default()
    }

    /// Namespaces per request (default 20).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n);
        self
    }

    /// Only namespaces associated with this resource type (repeat for any
    /// of several).
    pub fn resource_type(mut self, name: impl Into<String>) -> Self {
        self.resource_types.push(name.into());
        self
    }

    /// Only `public` or `private` namespaces.
    pub fn visibility(mut self, v: impl Into<String>) -> Self {
        self.visibility = Some(v.into());
        self
    }

    /// Sort by `created_at` or `namespace`.
    pub fn sort(mut self, key: impl Into<String>, dir: SortDir) -> Self {
        self.sort = Some((key.into(), dir));
        self
    }

    /// Start after this namespace.
    pub fn marker(mut self, namespace: impl Into<String>) -> Self {
        self.marker = Some(namespace.into());
        self
    }

    fn first_request(&self) -> Result<RequestSpec> {
        let mut spec = RequestSpec::new(Method::GET, ["v2", "metadefs", "namespaces"]);
        let page = self.page_size.filter(|n| *n > 0).unwrap_or(20);
        spec.query.push(("limit".into(), page.to_string()));
        if let Some(m) = &self.marker {
            spec.query.push(("marker".into(), m.clone()));
        }
        if let Some((key, dir)) = &self.sort {
            if !["created_at", "namespace"].contains(&key.as_str()) {
                return Err(Error::InvalidInput(format!(
                    "invalid namespace sort key {key:?}: use created_at or namespace"
                )));
            }
            spec.query.push(("sort_key".into(), key.clone()));
            spec.query.push(("sort_dir".into(), dir.as_str().into()));
        }
        if !self.resource_types.is_empty() {
            spec.query
                .push(("resource_types".into(), self.resource_types.join(",")));
        }
        if let Some(v) = &self.visibility {
            spec.query.push(("visibility".into(), v.clone()));
        }
        Ok(spec)
    }
}

#[derive(Deserialize)]
struct NamespacePage {
    namespaces: Vec<Namespace>,
    #[serde(default)]
    next: Option<String>,
}

impl paginate::Page for NamespacePage {
    type Item = Namespace;

    fn into_parts(self) -> (Vec<Namespace>, Option<String>) {
        (self.namespaces, self.next)
    }
}

/// The JSON of `model` without the server-set keys.
fn writable<T: Serialize>(model: &T) -> Result<Value> {
    let mut value = serde_json::to_value(model)
        .map_err(|e| Error::InvalidInput(format!("cannot encode: {e}")))?;
    if let Some(obj) = value.as_object_mut() {
        for k in READ_ONLY {
            obj.remove(*k);
        }
    }
    Ok(value)
}

/// Metadata definition calls. Get one with [`Client::metadefs`].
///
/// ```no_run
/// # async fn demo(client: glance_client::Client) -> glance_client::Result<()> {
/// use glance_client::metadefs::{MetadefProperty, Namespace, ResourceTypeAssociation};
/// let md = client.metadefs();
/// let mut ns = Namespace::new("OS::Example::Tuning");
/// ns.display_name = Some("Tuning".into());
/// ns.resource_type_associations.push(ResourceTypeAssociation::new("OS::Glance::Image"));
/// md.create_namespace(&ns).await?;
/// md.create_property(&ns.namespace, &MetadefProperty::new("hugepages", "boolean", "Huge pages"))
///     .await?;
/// md.create_tags(&ns.namespace, ["fast", "cheap"], false).await?;
/// let mut shown = md.namespace(&ns.namespace).await?;
/// shown.description = Some("Knobs".into());
/// md.update_namespace(&ns.namespace, &shown).await?;
/// md.delete_namespace(&ns.namespace).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Metadefs<'a> {
    client: &'a Client,
}

impl Client {
    /// Metadata definition calls: namespaces, resource types, properties,
    /// objects and tags.
    pub fn metadefs(&self) -> Metadefs<'_> {
        Metadefs { client: self }
    }
}

fn ns_spec<'s>(method: Method, namespace: &'s str, rest: &[&'s str]) -> RequestSpec {
    let mut segments = vec!["v2", "metadefs", "namespaces", namespace];
    segments.extend_from_slice(rest);
    RequestSpec::new(method, segments)
}

impl Metadefs<'_> {
    // ---- namespaces

    /// `GET /v2/metadefs/namespaces`, page after page, as a lazy stream.
    pub fn list_namespaces(&self, query: ListNamespaces) -> crate::NamespaceStream {
        // Namespace listings have no client-side total limit.
        paginate::<NamespacePage>(self.client.clone(), query.first_request(), None, u64::MAX)
    }

    /// `GET /v2/metadefs/namespaces/{ns}` with its properties, objects and tags.
    pub async fn namespace(&self, namespace: &str) -> Result<Namespace> {
        self.client
            .send_json(ns_spec(Method::GET, namespace, &[]))
            .await
    }

    /// Like [`Metadefs::namespace`], with property names as a resource
    /// type sees them (prefix applied: `?resource_type=`).
    pub async fn namespace_for(&self, namespace: &str, resource_type: &str) -> Result<Namespace> {
        let mut spec = ns_spec(Method::GET, namespace, &[]);
        spec.query
            .push(("resource_type".into(), resource_type.to_owned()));
        self.client.send_json(spec).await
    }

    /// `POST /v2/metadefs/namespaces` (with any properties, objects, tags
    /// and associations it holds).
    pub async fn create_namespace(&self, ns: &Namespace) -> Result<Namespace> {
        crate::transport::check_param("namespace name", &ns.namespace)?;
        let spec = RequestSpec::new(Method::POST, ["v2", "metadefs", "namespaces"])
            .json_body(&writable(ns)?, "application/json");
        self.client.send_json(spec).await
    }

    /// `PUT /v2/metadefs/namespaces/{ns}` with the whole namespace (read it,
    /// change it, send it back; renaming is allowed).
    pub async fn update_namespace(&self, namespace: &str, ns: &Namespace) -> Result<Namespace> {
        let spec =
            ns_spec(Method::PUT, namespace, &[]).json_body(&writable(ns)?, "application/json");
        self.client.send_json(spec).await
    }

    /// `DELETE /v2/metadefs/namespaces/{ns}` and everything in it.
    pub async fn delete_namespace(&self, namespace: &str) -> Result<()> {
        self.client
            .send_unit(ns_spec(Method::DELETE, namespace, &[]))
            .await
    }

    // ---- resource types

    /// `GET /v2/metadefs/resource_types`: every known resource type.
    pub async fn resource_types(&self) -> Result<Vec<ResourceType>> {
        #[derive(Deserialize)]
        struct Doc {
            resource_types: Vec<ResourceType>,
        }
        let doc: Doc = self
            .client
            .send_json(RequestSpec::new(
                Method::GET,
                ["v2", "metadefs", "resource_types"],
            ))
            .await?;
        Ok(doc.resource_types)
    }

    /// `GET /v2/metadefs/namespaces/{ns}/resource_types`: its associations.
    pub async fn resource_type_associations(
        &self,
        namespace: &str,
    ) -> Result<Vec<ResourceTypeAssociation>> {
        #[derive(Deserialize)]
        struct Doc {
            resource_type_associations: Vec<ResourceTypeAssociation>,
        }
        let doc: Doc = self
            .client
            .send_json(ns_spec(Method::GET, namespace, &["resource_types"]))
            .await?;
        Ok(doc.resource_type_associations)
    }

    /// `POST /v2/metadefs/namespaces/{ns}/resource_types`: associate.
    pub async fn associate(
        &self,
        namespace: &str,
        association: &ResourceTypeAssociation,
    ) -> Result<ResourceTypeAssociation> {
        crate::transport::check_param("resource type name", &association.name)?;
        let spec = ns_spec(Method::POST, namespace, &["resource_types"])
            .json_body(&writable(association)?, "application/json");
        self.client.send_json(spec).await
    }

    /// `DELETE /v2/metadefs/namespaces/{ns}/resource_types/{rt}`.
    pub async fn deassociate(&self, namespace: &str, resource_type: &str) -> Result<()> {
        self.client
            .send_unit(ns_spec(
                Method::DELETE,
                namespace,
                &["resource_types", resource_type],
            ))
            .await
    }

    // ---- properties

    /// `GET …/{ns}/properties`: the property definitions, by name.
    pub async fn properties(&self, namespace: &str) -> Result<BTreeMap<String, MetadefProperty>> {
        #[derive(Deserialize)]
        struct Doc {
            #[serde(default)]
            properties: BTreeMap<String, MetadefProperty>,
        }
        let doc: Doc = self
            .client
            .send_json(ns_spec(Method::GET, namespace, &["properties"]))
            .await?;
        Ok(doc
            .properties
            .into_iter()
            .map(|(k, mut p)| {
                p.name = k.clone();
                (k, p)
            })
            .collect())
    }

    /// `GET …/{ns}/properties/{name}`.
    pub async fn property(&self, namespace: &str, name: &str) -> Result<MetadefProperty> {
        let mut p: MetadefProperty = self
            .client
            .send_json(ns_spec(Method::GET, namespace, &["properties", name]))
            .await?;
        p.name = name.to_owned();
        Ok(p)
    }

    /// `POST …/{ns}/properties` (name, type and title are required).
    pub async fn create_property(
        &self,
        namespace: &str,
        property: &MetadefProperty,
    ) -> Result<MetadefProperty> {
        for (what, v) in [
            ("property name", &property.name),
            ("property type", &property.property_type),
            ("property title", &property.title),
        ] {
            crate::transport::check_param(what, v)?;
        }
        let spec = ns_spec(Method::POST, namespace, &["properties"])
            .json_body(&writable(property)?, "application/json");
        self.client.send_json(spec).await
    }

    /// `PUT …/{ns}/properties/{name}` with the whole definition (renaming
    /// is allowed through `property.name`).
    pub async fn update_property(
        &self,
        namespace: &str,
        name: &str,
        property: &MetadefProperty,
    ) -> Result<MetadefProperty> {
        let spec = ns_spec(Method::PUT, namespace, &["properties", name])
            .json_body(&writable(property)?, "application/json");
        self.client.send_json(spec).await
    }

    /// `DELETE …/{ns}/properties/{name}`.
    pub async fn delete_property(&self, namespace: &str, name: &str) -> Result<()> {
        self.client
            .send_unit(ns_spec(Method::DELETE, namespace, &["properties", name]))
            .await
    }

    /// `DELETE …/{ns}/properties`: every property of the namespace.
    pub async fn delete_all_properties(&self, namespace: &str) -> Result<()> {
        self.client
            .send_unit(ns_spec(Method::DELETE, namespace, &["properties"]))
            .await
    }

    // ---- objects

    /// `GET …/{ns}/objects`.
    pub async fn objects(&self, namespace: &str) -> Result<Vec<MetadefObject>> {
        #[derive(Deserialize)]
        struct Doc {
            #[serde(default)]
            objects: Vec<MetadefObject>,
        }
        let doc: Doc = self
            .client
            .send_json(ns_spec(Method::GET, namespace, &["objects"]))
            .await?;
        Ok(doc.objects)
    }

    /// `GET …/{ns}/objects/{name}`.
    pub async fn object(&self, namespace: &str, name: &str) -> Result<MetadefObject> {
        self.client
            .send_json(ns_spec(Method::GET, namespace, &["objects", name]))
            .await
    }

    /// `POST …/{ns}/objects`.
    pub async fn create_object(
        &self,
        namespace: &str,
        object: &MetadefObject,
    ) -> Result<MetadefObject> {
        crate::transport::check_param("object name", &object.name)?;
        let spec = ns_spec(Method::POST, namespace, &["objects"])
            .json_body(&writable(object)?, "application/json");
        self.client.send_json(spec).await
    }

    /// `PUT …/{ns}/objects/{name}` with the whole object.
    pub async fn update_object(
        &self,
        namespace: &str,
        name: &str,
        object: &MetadefObject,
    ) -> Result<MetadefObject> {
        let spec = ns_spec(Method::PUT, namespace, &["objects", name])
            .json_body(&writable(object)?, "application/json");
        self.client.send_json(spec).await
    }

    /// `DELETE …/{ns}/objects/{name}`.
    pub async fn delete_object(&self, namespace: &str, name: &str) -> Result<()> {
        self.client
            .send_unit(ns_spec(Method::DELETE, namespace, &["objects", name]))
            .await
    }

    /// `DELETE …/{ns}/objects`: every object of the namespace.
    pub async fn delete_all_objects(&self, namespace: &str) -> Result<()> {
        self.client
            .send_unit(ns_spec(Method::DELETE, namespace, &["objects"]))
            .await
    }

    // ---- tags

    /// `GET …/{ns}/tags`.
    pub async fn tags(&self, namespace: &str) -> Result<Vec<MetadefTag>> {
        #[derive(Deserialize)]
        struct Doc {
            #[serde(default)]
            tags: Vec<MetadefTag>,
        }
        let doc: Doc = self
            .client
            .send_json(ns_spec(Method::GET, namespace, &["tags"]))
            .await?;
        Ok(doc.tags)
    }

    /// `GET …/{ns}/tags/{name}`.
    pub async fn tag(&self, namespace: &str, name: &str) -> Result<MetadefTag> {
        self.client
            .send_json(ns_spec(Method::GET, namespace, &["tags", name]))
            .await
    }

    /// `POST …/{ns}/tags/{name}`: create one tag.
    pub async fn create_tag(&self, namespace: &str, name: &str) -> Result<MetadefTag> {
        self.client
            .send_json(ns_spec(Method::POST, namespace, &["tags", name]))
            .await
    }

    /// `POST …/{ns}/tags` with several tags. Without `append` they replace
    /// the namespace's tags; with it (`X-Openstack-Append: True`) they are
    /// added.
    pub async fn create_tags<I, S>(
        &self,
        namespace: &str,
        names: I,
        append: bool,
    ) -> Result<Vec<MetadefTag>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        #[derive(Deserialize)]
        struct Doc {
            tags: Vec<MetadefTag>,
        }
        let tags: Vec<Value> = names
            .into_iter()
            .map(|n| json!({"name": n.into()}))
            .collect();
        let mut spec = ns_spec(Method::POST, namespace, &["tags"])
            .json_body(&json!({ "tags": tags }), "application/json");
        if append {
            spec = spec.header("x-openstack-append", "True")?;
        }
        let doc: Doc = self.client.send_json(spec).await?;
        Ok(doc.tags)
    }

    /// `PUT …/{ns}/tags/{name}`: rename a tag.
    pub async fn rename_tag(
        &self,
        namespace: &str,
        name: &str,
        new_name: &str,
    ) -> Result<MetadefTag> {
        crate::transport::check_param("tag name", new_name)?;
        let spec = ns_spec(Method::PUT, namespace, &["tags", name])
            .json_body(&json!({ "name": new_name }), "application/json");
        self.client.send_json(spec).await
    }

    /// `DELETE …/{ns}/tags/{name}`.
    pub async fn delete_tag(&self, namespace: &str, name: &str) -> Result<()> {
        self.client
            .send_unit(ns_spec(Method::DELETE, namespace, &["tags", name]))
            .await
    }

    /// `DELETE …/{ns}/tags`: every tag of the namespace.
    pub async fn delete_all_tags(&self, namespace: &str) -> Result<()> {
        self.client
            .send_unit(ns_spec(Method::DELETE, namespace, &["tags"]))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_round_trip_without_server_keys() {
        let ns: Namespace = serde_json::from_value(json!({
            "namespace": "OS::Test", "display_name": "T", "visibility": "public",
            "protected": false, "owner": "p", "created_at": "c", "updated_at": "u",
            "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "t_"}],
            "properties": {"p1": {"type": "string", "title": "P1"}},
            "self": "/v2/metadefs/namespaces/OS::Test", "schema": "/v2/schemas/metadefs/namespace"
        }))
        .expect("decodes");
        assert_eq!(
            ns.resource_type_associations[0].prefix.as_deref(),
            Some("t_")
        );
        let sent = writable(&ns).expect("encodes");
        for k in READ_ONLY {
            assert!(sent.get(k).is_none(), "{k} sent");
        }
        assert_eq!(sent["owner"], "p");
        assert_eq!(sent["properties"]["p1"]["title"], "P1");
    }

    #[test]
    fn list_query() {
        let endpoint = url::Url::parse("http://h/").expect("url");
        let q = ListNamespaces::new()
            .resource_type("OS::Glance::Image")
            .resource_type("OS::Cinder::Volume")
            .sort("namespace", SortDir::Asc)
            .visibility("public");
        assert_eq!(
            q.first_request()
                .expect("valid")
                .url(&endpoint)
                .expect("url")
                .as_str(),
            "http://h/v2/metadefs/namespaces?limit=20&sort_key=namespace&sort_dir=asc&resource_types=OS%3A%3AGlance%3A%3AImage%2COS%3A%3ACinder%3A%3AVolume&visibility=public"
        );
        assert!(
            ListNamespaces::new()
                .sort("name", SortDir::Asc)
                .first_request()
                .is_err()
        );
    }
}
