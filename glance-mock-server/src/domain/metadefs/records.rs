//! The metadata definition tables, as Glance's `metadef_*` tables hold
//! them, and their JSON as Glance's API writes it.
//!
//! Rows keep insertion order, which is the order Glance's unsorted queries
//! (objects, properties, resource types, associations) return them in.
//! Every row gets an id from one counter: ids only break ties between
//! equal timestamps when sorting, as Glance's integer ids do.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::domain::time::format;

/// `metadef_namespaces`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Namespace {
    /// Row id.
    pub id: i64,
    /// The unique name.
    pub namespace: String,
    /// `display_name`.
    pub display_name: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `public` or `private`.
    pub visibility: String,
    /// Protected namespaces, and their contents, cannot be deleted.
    pub protected: bool,
    /// The owning project.
    pub owner: Option<String>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

impl Namespace {
    /// A namespace with Glance's defaults (not protected, no texts).
    pub fn new(
        id: i64,
        namespace: String,
        owner: Option<String>,
        visibility: String,
        now: OffsetDateTime,
    ) -> Self {
        Namespace {
            id,
            namespace,
            display_name: None,
            description: None,
            visibility,
            protected: false,
            owner,
            created_at: now,
            updated_at: now,
        }
    }

    /// `/v2/metadefs/namespaces/<name>`.
    pub fn href(&self) -> String {
        format!("/v2/metadefs/namespaces/{}", self.namespace)
    }

    /// `Namespace.to_wsme_model`: the namespace's own fields (those set),
    /// `self` and `schema`.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("namespace".into(), json!(self.namespace));
        if let Some(d) = &self.display_name {
            m.insert("display_name".into(), json!(d));
        }
        if let Some(d) = &self.description {
            m.insert("description".into(), json!(d));
        }
        m.insert("visibility".into(), json!(self.visibility));
        m.insert("protected".into(), json!(self.protected));
        if let Some(o) = &self.owner {
            m.insert("owner".into(), json!(o));
        }
        m.insert("created_at".into(), json!(format(self.created_at)));
        m.insert("updated_at".into(), json!(format(self.updated_at)));
        m.insert("self".into(), json!(self.href()));
        m.insert("schema".into(), json!("/v2/schemas/metadefs/namespace"));
        m
    }
}

/// `metadef_objects`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Object {
    /// Row id.
    pub id: i64,
    /// The namespace's row id.
    pub namespace_id: i64,
    /// Unique within the namespace.
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// The required property names, comma-joined as the column holds them
    /// (`None` for none).
    pub required: Option<String>,
    /// `json_schema`: property name → `PropertyType` as WSME wrote it.
    pub properties: Map<String, Value>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

impl Object {
    /// `required` as Glance reads the column back: split on commas.
    pub fn required_list(&self) -> Vec<String> {
        match self.required.as_deref() {
            Some(r) if !r.is_empty() => r.split(',').map(str::to_owned).collect(),
            _ => Vec::new(),
        }
    }

    /// The object as read from the table, its property names (and required
    /// names) prefixed with `prefix`.
    pub fn to_json(&self, namespace: &str, prefix: &str) -> Value {
        let mut props = Map::new();
        for (k, v) in &self.properties {
            props.insert(format!("{prefix}{k}"), v.clone());
        }
        let required: Vec<String> = self
            .required_list()
            .into_iter()
            .map(|r| format!("{prefix}{r}"))
            .collect();
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("required".into(), json!(required));
        if let Some(d) = &self.description {
            m.insert("description".into(), json!(d));
        }
        m.insert("properties".into(), Value::Object(props));
        m.insert("created_at".into(), json!(format(self.created_at)));
        m.insert("updated_at".into(), json!(format(self.updated_at)));
        m.insert("self".into(), json!(object_href(namespace, &self.name)));
        m.insert("schema".into(), json!("/v2/schemas/metadefs/object"));
        Value::Object(m)
    }
}

/// `/v2/metadefs/namespaces/<ns>/objects/<name>`.
pub fn object_href(namespace: &str, name: &str) -> String {
    format!("/v2/metadefs/namespaces/{namespace}/objects/{name}")
}

/// `metadef_properties`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Property {
    /// Row id.
    pub id: i64,
    /// The namespace's row id.
    pub namespace_id: i64,
    /// Unique within the namespace.
    pub name: String,
    /// `json_schema`: the `PropertyType` as WSME wrote it (with `name` only
    /// if the request had one).
    pub schema: Map<String, Value>,
}

impl Property {
    /// `_to_model`: the stored schema with the row's name.
    pub fn to_json(&self) -> Value {
        let mut schema = self.schema.clone();
        schema.insert("name".into(), json!(self.name));
        Value::Object(schema)
    }
}

/// `metadef_tags`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tag {
    /// Row id.
    pub id: i64,
    /// The namespace's row id.
    pub namespace_id: i64,
    /// Unique within the namespace (case-sensitive, as on SQLite).
    pub name: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

impl Tag {
    /// `MetadefTag.to_wsme_model`.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "created_at": format(self.created_at),
            "updated_at": format(self.updated_at),
        })
    }
}

/// `metadef_resource_types`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ResourceType {
    /// Row id.
    pub id: i64,
    /// The unique name (`OS::Glance::Image`).
    pub name: String,
    /// Seeded system types cannot be deleted (none are seeded here).
    pub protected: bool,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

impl ResourceType {
    /// `ResourceType.to_wsme_model`.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "created_at": format(self.created_at),
            "updated_at": format(self.updated_at),
        })
    }
}

/// `metadef_namespace_resource_types`: a resource type associated with a
/// namespace.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Association {
    /// The namespace's row id.
    pub namespace_id: i64,
    /// The resource type's row id.
    pub resource_type_id: i64,
    /// Prefix for the namespace's property names on that resource type.
    pub prefix: Option<String>,
    /// `properties_target`.
    pub properties_target: Option<String>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// `ResourceTypeAssociation.to_wsme_model` for an association row.
pub fn association_json(name: &str, a: &Association) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    if let Some(p) = &a.prefix {
        m.insert("prefix".into(), json!(p));
    }
    if let Some(p) = &a.properties_target {
        m.insert("properties_target".into(), json!(p));
    }
    m.insert("created_at".into(), json!(format(a.created_at)));
    m.insert("updated_at".into(), json!(format(a.updated_at)));
    Value::Object(m)
}

/// All metadata definition rows.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tables {
    last_id: i64,
    /// `metadef_namespaces`
    pub namespaces: Vec<Namespace>,
    /// `metadef_objects`
    pub objects: Vec<Object>,
    /// `metadef_properties`
    pub properties: Vec<Property>,
    /// `metadef_tags`
    pub tags: Vec<Tag>,
    /// `metadef_resource_types`
    pub resource_types: Vec<ResourceType>,
    /// `metadef_namespace_resource_types`
    pub associations: Vec<Association>,
}

impl Tables {
    /// A fresh row id.
    pub fn next_id(&mut self) -> i64 {
        self.last_id += 1;
        self.last_id
    }

    /// The namespace named `name`, visible or not.
    pub fn namespace(&self, name: &str) -> Option<&Namespace> {
        self.namespaces.iter().find(|n| n.namespace == name)
    }

    /// The namespace's objects, oldest first.
    pub fn objects_of(&self, ns: i64) -> impl Iterator<Item = &Object> {
        self.objects.iter().filter(move |o| o.namespace_id == ns)
    }

    /// The namespace's properties, oldest first.
    pub fn properties_of(&self, ns: i64) -> impl Iterator<Item = &Property> {
        self.properties.iter().filter(move |p| p.namespace_id == ns)
    }

    /// The namespace's tags, oldest first.
    pub fn tags_of(&self, ns: i64) -> impl Iterator<Item = &Tag> {
        self.tags.iter().filter(move |t| t.namespace_id == ns)
    }

    /// The resource type named `name`.
    pub fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        self.resource_types.iter().find(|r| r.name == name)
    }

    /// The namespace's associations with their resource type names, oldest
    /// first.
    pub fn associations_of(&self, ns: i64) -> Vec<(&str, &Association)> {
        self.associations
            .iter()
            .filter(|a| a.namespace_id == ns)
            .filter_map(|a| {
                self.resource_types
                    .iter()
                    .find(|r| r.id == a.resource_type_id)
                    .map(|r| (r.name.as_str(), a))
            })
            .collect()
    }

    /// The namespace's associations as Glance lists them.
    pub fn associations_json(&self, ns: i64) -> Vec<Value> {
        self.associations_of(ns)
            .into_iter()
            .map(|(name, a)| association_json(name, a))
            .collect()
    }

    /// `metadef_namespace_create`: add the namespace row (its id from
    /// [`Tables::next_id`]).
    pub fn namespace_create(&mut self, ns: Namespace) {
        self.namespaces.push(ns);
    }

    /// `metadef_namespace_update`: the row with `ns.id` becomes `ns`.
    pub fn namespace_update(&mut self, ns: Namespace) {
        if let Some(row) = self.namespaces.iter_mut().find(|n| n.id == ns.id) {
            *row = ns;
        }
    }

    /// `metadef_namespace_delete`: the namespace and everything in it
    /// (its objects, properties, tags and associations; resource types
    /// stay).
    pub fn namespace_delete(&mut self, ns: i64) {
        self.namespaces.retain(|n| n.id != ns);
        self.object_delete_namespace_content(ns);
        self.property_delete_namespace_content(ns);
        self.tag_delete_namespace_content(ns);
        self.associations.retain(|a| a.namespace_id != ns);
    }

    /// `metadef_object_create`: add the object row.
    pub fn object_create(&mut self, row: Object) {
        self.objects.push(row);
    }

    /// `metadef_object_update`: the row with `row.id` becomes `row`.
    pub fn object_update(&mut self, row: Object) {
        replace(&mut self.objects, row, |o| o.id);
    }

    /// `metadef_object_delete`: remove object row `id`.
    pub fn object_delete(&mut self, id: i64) {
        self.objects.retain(|o| o.id != id);
    }

    /// `metadef_object_delete_namespace_content`: every object of `ns`.
    pub fn object_delete_namespace_content(&mut self, ns: i64) {
        self.objects.retain(|o| o.namespace_id != ns);
    }

    /// `metadef_property_create`: add the property row.
    pub fn property_create(&mut self, row: Property) {
        self.properties.push(row);
    }

    /// `metadef_property_update`: the row with `row.id` becomes `row`.
    pub fn property_update(&mut self, row: Property) {
        replace(&mut self.properties, row, |p| p.id);
    }

    /// `metadef_property_delete`: remove property row `id`.
    pub fn property_delete(&mut self, id: i64) {
        self.properties.retain(|p| p.id != id);
    }

    /// `metadef_property_delete_namespace_content`: every property of `ns`.
    pub fn property_delete_namespace_content(&mut self, ns: i64) {
        self.properties.retain(|p| p.namespace_id != ns);
    }

    /// `metadef_tag_create`: add the tag row.
    pub fn tag_create(&mut self, row: Tag) {
        self.tags.push(row);
    }

    /// `metadef_tag_create_tags`: `names` as tags of `ns`, after its tags
    /// (`can_append`) or instead of them, created at `now`.
    pub fn tag_create_tags(
        &mut self,
        ns: i64,
        names: &[String],
        can_append: bool,
        now: OffsetDateTime,
    ) {
        if !can_append {
            self.tag_delete_namespace_content(ns);
        }
        for name in names {
            let id = self.next_id();
            self.tag_create(Tag {
                id,
                namespace_id: ns,
                name: name.clone(),
                created_at: now,
                updated_at: now,
            });
        }
    }

    /// `metadef_tag_update`: the row with `row.id` becomes `row`.
    pub fn tag_update(&mut self, row: Tag) {
        replace(&mut self.tags, row, |t| t.id);
    }

    /// `metadef_tag_delete`: remove tag row `id`.
    pub fn tag_delete(&mut self, id: i64) {
        self.tags.retain(|t| t.id != id);
    }

    /// `metadef_tag_delete_namespace_content`: every tag of `ns`.
    pub fn tag_delete_namespace_content(&mut self, ns: i64) {
        self.tags.retain(|t| t.namespace_id != ns);
    }

    /// `metadef_resource_type_create`: the resource type named `name`,
    /// created at `now` if there is none; its row id.
    pub fn resource_type_create(&mut self, name: &str, now: OffsetDateTime) -> i64 {
        if let Some(r) = self.resource_type(name) {
            return r.id;
        }
        let id = self.next_id();
        self.resource_types.push(ResourceType {
            id,
            name: name.to_owned(),
            protected: false,
            created_at: now,
            updated_at: now,
        });
        id
    }

    /// `metadef_resource_type_association_create`: add the association.
    pub fn resource_type_association_create(&mut self, row: Association) {
        self.associations.push(row);
    }

    /// `metadef_resource_type_association_delete`: end namespace `ns`'s
    /// association with resource type `resource_type` (which stays).
    pub fn resource_type_association_delete(&mut self, ns: i64, resource_type: i64) {
        self.associations
            .retain(|a| !(a.namespace_id == ns && a.resource_type_id == resource_type));
    }
}

/// Replace the row of `rows` whose id is `row`'s.
fn replace<R>(rows: &mut [R], row: R, id: impl Fn(&R) -> i64) {
    let wanted = id(&row);
    if let Some(slot) = rows.iter_mut().find(|r| id(r) == wanted) {
        *slot = row;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::now;

    #[test]
    fn required_names_round_trip_through_a_comma_joined_column() {
        let mut o = Object {
            id: 1,
            namespace_id: 1,
            name: "o".into(),
            description: None,
            required: Some("a,b".into()),
            properties: Map::new(),
            created_at: now(),
            updated_at: now(),
        };
        assert_eq!(o.required_list(), ["a", "b"]);
        o.required = Some(String::new());
        assert!(o.required_list().is_empty());
        let v = o.to_json("N", "p_");
        assert_eq!(v["required"], json!([]));
        assert_eq!(v["properties"], json!({}));
        assert_eq!(v["self"], "/v2/metadefs/namespaces/N/objects/o");
        assert!(v.get("description").is_none());
    }

    #[test]
    fn deleting_a_namespace_takes_its_contents() {
        let mut t = Tables::default();
        let id = t.next_id();
        t.namespace_create(Namespace::new(
            id,
            "N".into(),
            None,
            "private".into(),
            now(),
        ));
        let tag = t.next_id();
        t.tag_create(Tag {
            id: tag,
            namespace_id: id,
            name: "x".into(),
            created_at: now(),
            updated_at: now(),
        });
        t.namespace_delete(id);
        assert!(t.namespace("N").is_none());
        assert!(t.tags.is_empty());
    }
}
