//! Namespaces (`glance/api/v2/metadef_namespaces.py`): list, create (with
//! contents), show, update, delete, and the deletes of all of a namespace's
//! objects, properties or tags.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::policy::{self, Rule, Target};
use super::query::{self, Direction, Params};
use super::records::{Association, Namespace, Object, Property, Tag};
use super::schema::Schema;
use super::{Lookup, READ_ONLY, Tables, check_allowed, find, find_or_404, require_body, wsme};
use crate::domain::policy::NOT_FOUND_DEFAULT;
use crate::domain::python::Py;
use crate::domain::{Fault, Identity};

/// A namespace create or update body, read as Glance's deserializer reads
/// it: the attributes given, as WSME converted them.
#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceBody(Map<String, Value>);

impl NamespaceBody {
    /// Body present, no read-only attribute (403), the namespace schema
    /// (400), then WSME (500).
    pub fn read(body: Option<&Py>) -> Result<Self, Fault> {
        let body = require_body(body)?;
        check_allowed(body, READ_ONLY)?;
        Schema::Namespace.validate(body)?;
        wsme::from_json(&wsme::NAMESPACE, body).map(NamespaceBody)
    }

    fn text(&self, key: &str) -> Option<String> {
        self.0.get(key).and_then(Value::as_str).map(str::to_owned)
    }

    /// A list or dict attribute, if given and not empty (Python truth).
    fn items(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| match v {
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
            _ => false,
        })
    }
}

/// `MetadefNamespace(...)` defaults: `visibility or "private"`.
fn visibility_or_private(v: Option<String>) -> String {
    v.filter(|v| !v.is_empty())
        .unwrap_or_else(|| "private".into())
}

/// The 409 for a namespace name in use.
fn duplicate(name: &str) -> Fault {
    Fault::Conflict(format!(
        "The metadata definition namespace={name} already exists."
    ))
}

/// Store an object of a create body (`MetadefObjectRepo.add`).
pub(super) fn object_row(
    id: i64,
    namespace_id: i64,
    body: &Map<String, Value>,
    now: OffsetDateTime,
) -> Result<Object, Fault> {
    let required = match body.get("required") {
        Some(Value::Array(names)) if !names.is_empty() => Some(
            names
                .iter()
                .map(|n| n.as_str().map(str::to_owned).ok_or_else(Fault::internal))
                .collect::<Result<Vec<_>, _>>()?
                .join(","),
        ),
        _ => None,
    };
    let properties = match body.get("properties") {
        Some(Value::Object(p)) => p.clone(),
        _ => Map::new(),
    };
    Ok(Object {
        id,
        namespace_id,
        name: body
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        description: body
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned),
        required,
        properties,
        created_at: now,
        updated_at: now,
    })
}

/// `metadef_resource_type_association_create`: the association, creating
/// the resource type first if it is new (that row stays even if the
/// association is refused).
pub(super) fn associate(
    t: &mut Tables,
    ns: &Namespace,
    name: &str,
    prefix: Option<String>,
    properties_target: Option<String>,
    now: OffsetDateTime,
) -> Result<(), Fault> {
    let type_id = t.resource_type_create(name, now);
    if t.associations
        .iter()
        .any(|a| a.namespace_id == ns.id && a.resource_type_id == type_id)
    {
        return Err(Fault::Conflict(format!(
            "The metadata definition resource-type association of resource-type={name} to namespace={} already exists.",
            ns.namespace
        )));
    }
    t.resource_type_association_create(Association {
        namespace_id: ns.id,
        resource_type_id: type_id,
        prefix,
        properties_target,
        created_at: now,
        updated_at: now,
    });
    Ok(())
}

/// The 409 for a tag name in use.
pub(super) fn duplicate_tag(name: &str, namespace: &str) -> Fault {
    Fault::Conflict(format!(
        "A metadata tag with name={name} already exists in namespace={namespace}. (Please note that metadata tag names are case insensitive)."
    ))
}

/// The 409 for an object name in use.
pub(super) fn duplicate_object(name: &str, namespace: &str) -> Fault {
    Fault::Conflict(format!(
        "A metadata definition object with name={name} already exists in namespace={namespace}."
    ))
}

/// `POST /v2/metadefs/namespaces`: the namespace and, in this order, its
/// resource type associations, objects, tags and properties. A conflict
/// among those removes the namespace again (Glance's cleanup). Answers the
/// namespace as Glance echoes it, and its `self` link.
pub fn create(
    t: &mut Tables,
    who: &Identity,
    body: &NamespaceBody,
    now: OffsetDateTime,
) -> Result<(Value, String), Fault> {
    let caller = Target::caller(who);
    policy::enforce(who, Rule::AddNamespace, caller)?;
    let contents = [
        (
            "resource_type_associations",
            Rule::AddResourceTypeAssociation,
        ),
        ("objects", Rule::AddObject),
        ("properties", Rule::AddProperty),
        ("tags", Rule::AddTag),
    ];
    for (key, rule) in contents {
        if body.items(key).is_some() {
            policy::enforce(who, rule, caller)?;
        }
    }
    let name = body.text("namespace").unwrap_or_default();
    if t.namespace(&name).is_some() {
        return Err(duplicate(&name));
    }
    let owner = match body.0.get("owner") {
        Some(o) => o.as_str().map(str::to_owned),
        None => who.project_id.clone(),
    };
    let id = t.next_id();
    let mut ns = Namespace::new(
        id,
        name.clone(),
        owner,
        visibility_or_private(body.text("visibility")),
        now,
    );
    ns.display_name = body.text("display_name");
    ns.description = body.text("description");
    ns.protected = body.0.get("protected").and_then(Value::as_bool) == Some(true);
    t.namespace_create(ns.clone());

    if let Err(e) = fill(t, &ns, body, now) {
        t.namespace_delete(ns.id);
        return Err(e);
    }

    let mut out = ns.to_json();
    for key in [
        "properties",
        "objects",
        "resource_type_associations",
        "tags",
    ] {
        if let Some(v) = body.0.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    Ok((Value::Object(out), ns.href()))
}

/// The contents of a create body, after the namespace itself.
fn fill(
    t: &mut Tables,
    ns: &Namespace,
    body: &NamespaceBody,
    now: OffsetDateTime,
) -> Result<(), Fault> {
    let entries = |key: &str| -> Vec<Map<String, Value>> {
        match body.items(key) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| i.as_object().cloned())
                .collect(),
            _ => Vec::new(),
        }
    };
    let text =
        |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
    for rta in entries("resource_type_associations") {
        let name = text(&rta, "name").unwrap_or_default();
        associate(
            t,
            ns,
            &name,
            text(&rta, "prefix"),
            text(&rta, "properties_target"),
            now,
        )?;
    }
    for object in entries("objects") {
        let id = t.next_id();
        let row = object_row(id, ns.id, &object, now)?;
        if t.objects_of(ns.id).any(|o| o.name == row.name) {
            return Err(duplicate_object(&row.name, &ns.namespace));
        }
        t.object_create(row);
    }
    for tag in entries("tags") {
        let name = text(&tag, "name").unwrap_or_default();
        if t.tags_of(ns.id).any(|x| x.name == name) {
            return Err(duplicate_tag(&name, &ns.namespace));
        }
        let id = t.next_id();
        t.tag_create(Tag {
            id,
            namespace_id: ns.id,
            name,
            created_at: now,
            updated_at: now,
        });
    }
    if let Some(Value::Object(props)) = body.items("properties") {
        for (name, schema) in props {
            let id = t.next_id();
            t.property_create(Property {
                id,
                namespace_id: ns.id,
                name: name.clone(),
                schema: schema.as_object().cloned().unwrap_or_default(),
            });
        }
    }
    Ok(())
}

/// A list request (`GET /v2/metadefs/namespaces`) as the deserializer
/// reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// The request's parameters, for the `first` and `next` links.
    all: Params,
    marker: Option<String>,
    limit: i64,
    sort_key: String,
    direction: Direction,
    filters: Params,
}

impl ListQuery {
    /// `RequestDeserializer.index`: a `limit` Python cannot read as an
    /// integer is a 500; then sort direction, visibility and limit sign
    /// are checked, in that order.
    pub fn parse(raw: &str, default_limit: usize, max_limit: usize) -> Result<Self, Fault> {
        let all = Params::parse(raw);
        let mut params = all.clone();
        let limit = params.pop("limit");
        let marker = params.pop("marker");
        let sort_dir = params.pop("sort_dir").unwrap_or_else(|| "desc".into());
        let limit = match limit {
            None => default_limit as i64,
            Some(l) => query::python_int(&l)
                .ok_or_else(Fault::internal)?
                .min(max_limit as i64),
        };
        let sort_key = params
            .pop("sort_key")
            .unwrap_or_else(|| "created_at".into());
        let direction = query::sort_dir(&sort_dir)?;
        match params.get("visibility") {
            Some(v) if !v.is_empty() && v != "public" && v != "private" => {
                return Err(Fault::BadRequest(format!("Invalid visibility value: {v}")));
            }
            _ => {}
        }
        if limit < 0 {
            return Err(Fault::BadRequest("limit param must be positive".into()));
        }
        Ok(ListQuery {
            all,
            marker,
            limit,
            sort_key,
            direction,
            filters: params,
        })
    }
}

/// One sort column's value, ordered as SQLite orders them (NULL first).
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Key {
    Null,
    Bool(bool),
    Int(i64),
    Text(String),
    Time(OffsetDateTime),
}

fn sort_value(ns: &Namespace, column: &str) -> Key {
    let text = |v: &Option<String>| v.clone().map_or(Key::Null, Key::Text);
    match column {
        "id" => Key::Int(ns.id),
        "namespace" => Key::Text(ns.namespace.clone()),
        "display_name" => text(&ns.display_name),
        "description" => text(&ns.description),
        "visibility" => Key::Text(ns.visibility.clone()),
        "protected" => Key::Bool(ns.protected),
        "owner" => text(&ns.owner),
        "created_at" => Key::Time(ns.created_at),
        _ => Key::Time(ns.updated_at),
    }
}

const SORT_KEYS: &[&str] = &[
    "id",
    "namespace",
    "display_name",
    "description",
    "visibility",
    "protected",
    "owner",
    "created_at",
    "updated_at",
];

/// `GET /v2/metadefs/namespaces`: the namespaces `who` can see, filtered
/// (`visibility`, `resource_types`), sorted and paged as Glance's
/// `paginate_query` does, with their resource type associations.
pub fn list(t: &Tables, who: &Identity, q: &ListQuery) -> Result<Value, Fault> {
    policy::enforce(who, Rule::GetNamespaces, Target::caller(who))?;
    policy::enforce(who, Rule::ListResourceTypes, Target::caller(who))?;
    let marker = match q.marker.as_deref() {
        // An empty marker is not looked up by name, and no row has the
        // empty id the DB layer then looks for.
        Some("") => {
            return Err(Fault::NotFound(
                "Metadata definition namespace not found for id=".into(),
            ));
        }
        Some(m) => Some(find(t, who, m).map_err(|e| e.fault(m))?),
        None => None,
    };
    let mut filters = q.filters.clone();
    let mut rows: Vec<&Namespace> = t
        .namespaces
        .iter()
        .filter(|ns| policy::can_see(who, ns))
        .collect();
    if filters.get("resource_types").is_some() {
        let wanted: Vec<&str> = filters
            .get("resource_types")
            .unwrap_or_default()
            .split(',')
            .collect();
        let ids: Vec<i64> = t
            .associations
            .iter()
            .filter(|a| {
                t.resource_types
                    .iter()
                    .any(|r| r.id == a.resource_type_id && wanted.contains(&r.name.as_str()))
            })
            .map(|a| a.namespace_id)
            .collect();
        rows.retain(|ns| ids.contains(&ns.id));
    }
    if let Some(v) = filters.pop("visibility") {
        rows.retain(|ns| ns.visibility == v);
    }
    if !SORT_KEYS.contains(&q.sort_key.as_str()) {
        // paginate_query's InvalidSortKey is not caught.
        return Err(Fault::internal());
    }
    let mut columns = vec!["created_at", "id"];
    if !columns.contains(&q.sort_key.as_str()) {
        columns.insert(0, q.sort_key.as_str());
    }
    let key = |ns: &Namespace| -> Vec<Key> { columns.iter().map(|c| sort_value(ns, c)).collect() };
    rows.sort_by(|a, b| {
        let ord = key(a)
            .partial_cmp(&key(b))
            .unwrap_or(std::cmp::Ordering::Equal);
        match q.direction {
            Direction::Asc => ord,
            Direction::Desc => ord.reverse(),
        }
    });
    if let Some(m) = marker {
        let mk = key(m);
        rows.retain(|ns| match q.direction {
            Direction::Asc => key(ns) > mk,
            Direction::Desc => key(ns) < mk,
        });
    }
    rows.truncate(usize::try_from(q.limit).unwrap_or(0));
    rows.retain(|ns| policy::allows(who, Rule::GetNamespace, Target::namespace(ns)));

    let namespaces: Vec<Value> = rows
        .iter()
        .map(|ns| {
            let mut m = ns.to_json();
            let rta = t.associations_json(ns.id);
            if !rta.is_empty() {
                m.insert("resource_type_associations".into(), json!(rta));
            }
            Value::Object(m)
        })
        .collect();
    let mut link_params = q.all.to_dict();
    link_params.retain(|(k, _)| k != "marker");
    let first = if link_params.is_empty() {
        "/v2/metadefs/namespaces".to_owned()
    } else {
        format!("/v2/metadefs/namespaces?{}", query::urlencode(&link_params))
    };
    let mut out = json!({
        "namespaces": namespaces,
        "first": first,
        "schema": "/v2/schemas/metadefs/namespaces",
    });
    if !rows.is_empty() && rows.len() as i64 == q.limit {
        if let Some(last) = rows.last() {
            link_params.push(("marker".into(), last.namespace.clone()));
            out["next"] = json!(format!(
                "/v2/metadefs/namespaces?{}",
                query::urlencode(&link_params)
            ));
        }
    }
    Ok(out)
}

/// The namespace's properties as Glance lists them (`to_model_properties`),
/// names prefixed with `prefix`.
pub(super) fn properties_json(t: &Tables, ns: i64, prefix: &str) -> Value {
    let mut all = Map::new();
    for p in t.properties_of(ns) {
        all.insert(
            format!("{prefix}{}", p.name),
            Value::Object(p.schema.clone()),
        );
    }
    Value::Object(all)
}

/// The namespace's tags, newest first (the tag list's default order).
pub(super) fn tags_newest_first(t: &Tables, ns: i64) -> Vec<&Tag> {
    let mut tags: Vec<&Tag> = t.tags_of(ns).collect();
    tags.sort_by_key(|x| std::cmp::Reverse((x.created_at, x.id)));
    tags
}

/// `GET /v2/metadefs/namespaces/{namespace}`: the namespace with its
/// objects, resource type associations, properties and tags. With a
/// `resource_type` parameter, property names get that association's
/// prefix; any other parameter without `resource_type` fails as Glance does
/// (500).
pub fn show(t: &Tables, who: &Identity, name: &str, raw_query: &str) -> Result<Value, Fault> {
    let params = Params::parse(raw_query);
    super::validate_visibility(&params, &["public", "private"])?;
    let ns = find(t, who, name).map_err(|e| match e {
        Lookup::Missing => e.fault(name),
        Lookup::Hidden => Fault::NotFound(NOT_FOUND_DEFAULT.into()),
    })?;
    let target = Target::namespace(ns);
    policy::enforce(who, Rule::GetNamespace, target)?;
    for rule in [
        Rule::ListResourceTypes,
        Rule::GetObjects,
        Rule::GetProperties,
        Rule::GetTags,
    ] {
        policy::enforce(who, rule, target)?;
    }
    let mut prefix = String::new();
    if !params.is_empty() {
        let resource_type = params.get("resource_type").ok_or_else(Fault::internal)?;
        if !resource_type.is_empty() {
            if let Some((_, a)) = t
                .associations_of(ns.id)
                .into_iter()
                .find(|(n, _)| *n == resource_type)
            {
                prefix = a.prefix.clone().unwrap_or_default();
            }
        }
    }
    let mut m = ns.to_json();
    let objects: Vec<Value> = t
        .objects_of(ns.id)
        .map(|o| o.to_json(&ns.namespace, &prefix))
        .collect();
    if !objects.is_empty() {
        m.insert("objects".into(), json!(objects));
    }
    let rta = t.associations_json(ns.id);
    if !rta.is_empty() {
        m.insert("resource_type_associations".into(), json!(rta));
    }
    if t.properties_of(ns.id).next().is_some() {
        m.insert("properties".into(), properties_json(t, ns.id, &prefix));
    }
    let tags: Vec<Value> = tags_newest_first(t, ns.id)
        .iter()
        .map(|tag| json!({"name": tag.name}))
        .collect();
    if !tags.is_empty() {
        m.insert("tags".into(), json!(tags));
    }
    Ok(Value::Object(m))
}

/// `PUT /v2/metadefs/namespaces/{namespace}`: replace the namespace's own
/// fields (absent ones fall back to Glance's defaults, the owner to the
/// caller's project). Answers with the new values and the old timestamps.
pub fn update(
    t: &mut Tables,
    who: &Identity,
    name: &str,
    body: &NamespaceBody,
    now: OffsetDateTime,
) -> Result<Value, Fault> {
    let ns = find_or_404(t, who, name)?.clone();
    policy::enforce(who, Rule::ModifyNamespace, Target::namespace(&ns))?;
    let mut changed = ns.clone();
    changed.namespace = body.text("namespace").unwrap_or_default();
    changed.display_name = body.text("display_name");
    changed.description = body.text("description");
    changed.visibility = visibility_or_private(body.text("visibility"));
    changed.protected = body.0.get("protected").and_then(Value::as_bool) == Some(true);
    changed.owner = body
        .text("owner")
        .filter(|o| !o.is_empty())
        .or_else(|| who.project_id.clone());
    if changed.namespace != ns.namespace && t.namespace(&changed.namespace).is_some() {
        return Err(Fault::Conflict(format!(
            "Invalid update. It would result in a duplicate metadata definition namespace with the same name of {}",
            changed.namespace
        )));
    }
    let answer = Value::Object(changed.to_json());
    t.namespace_update(Namespace {
        updated_at: now,
        ..changed
    });
    Ok(answer)
}

/// What a namespace-wide delete removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `DELETE .../{namespace}`: the namespace and everything in it.
    Namespace,
    /// `DELETE .../{namespace}/objects`
    Objects,
    /// `DELETE .../{namespace}/properties`
    Properties,
    /// `DELETE .../{namespace}/tags`
    Tags,
}

/// The namespace deletes: policy `delete_metadef_namespace` (and
/// `delete_metadef_tags` for tags), then 403 if the namespace is protected.
pub fn delete(t: &mut Tables, who: &Identity, name: &str, scope: Scope) -> Result<(), Fault> {
    let ns = find_or_404(t, who, name)?.clone();
    let target = Target::namespace(&ns);
    policy::enforce(who, Rule::DeleteNamespace, target)?;
    if scope == Scope::Tags {
        policy::enforce(who, Rule::DeleteTags, target)?;
    }
    if ns.protected {
        return Err(Fault::Forbidden(format!(
            "Metadata definition namespace {name} is protected and cannot be deleted."
        )));
    }
    match scope {
        Scope::Namespace => t.namespace_delete(ns.id),
        Scope::Objects => t.object_delete_namespace_content(ns.id),
        Scope::Properties => t.property_delete_namespace_content(ns.id),
        Scope::Tags => t.tag_delete_namespace_content(ns.id),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::python::json as pyjson;
    use crate::domain::time::now;

    fn who(project: &str, roles: &[&str]) -> Identity {
        Identity {
            project_id: Some(project.into()),
            user_id: None,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn admin() -> Identity {
        who("admin-project", &["admin", "member", "reader"])
    }

    fn body(s: &str) -> NamespaceBody {
        NamespaceBody::read(Some(&pyjson::parse(s.as_bytes()).expect("json"))).expect("valid")
    }

    fn create_ok(t: &mut Tables, s: &str) -> Value {
        create(t, &admin(), &body(s), now()).expect("created").0
    }

    #[test]
    fn bodies_are_checked_in_glances_order() {
        assert_eq!(
            NamespaceBody::read(None),
            Err(Fault::BadRequest("Body expected in request.".into()))
        );
        let read = |s: &str| NamespaceBody::read(Some(&pyjson::parse(s.as_bytes()).expect("json")));
        assert_eq!(
            read(r#"{"bogus": 1, "self": "x"}"#),
            Err(Fault::Forbidden("Attribute 'self' is read-only.".into()))
        );
        assert!(matches!(read(r#"{"bogus": 1}"#), Err(Fault::BadRequest(_))));
        // Unknown attributes below the top level pass the schema, not WSME.
        assert_eq!(
            read(
                r#"{"namespace": "N", "properties": {"p": {"title": "P", "type": "string", "foo": 1}}}"#
            ),
            Err(Fault::internal())
        );
        assert_eq!(read("[1]"), Err(Fault::internal()));
    }

    #[test]
    fn create_defaults_owner_and_visibility_and_echoes_contents() {
        let mut t = Tables::default();
        let out = create_ok(
            &mut t,
            r#"{"namespace": "N", "tags": [], "objects": [{"name": "o", "self": "s"}], "properties": {"p": {"title": "P", "type": "string"}}}"#,
        );
        assert_eq!(out["owner"], "admin-project");
        assert_eq!(out["visibility"], "private");
        assert_eq!(out["protected"], false);
        assert_eq!(out["tags"], json!([]));
        assert_eq!(out["objects"], json!([{"name": "o", "self": "s"}]));
        assert_eq!(
            out["properties"],
            json!({"p": {"title": "P", "type": "string"}})
        );
        assert!(out.get("display_name").is_none());
        assert_eq!(t.objects.len(), 1);
        assert_eq!(t.properties.len(), 1);
    }

    #[test]
    fn conflicts_inside_a_create_remove_the_namespace_but_not_new_types() {
        let mut t = Tables::default();
        let b = body(
            r#"{"namespace": "N", "resource_type_associations": [{"name": "R"}], "tags": [{"name": "t"}, {"name": "t"}]}"#,
        );
        assert_eq!(
            create(&mut t, &admin(), &b, now()).err(),
            Some(duplicate_tag("t", "N"))
        );
        assert!(t.namespace("N").is_none());
        assert!(t.tags.is_empty() && t.associations.is_empty());
        assert!(t.resource_type("R").is_some());
        create_ok(&mut t, r#"{"namespace": "N"}"#);
        assert_eq!(
            create(&mut t, &admin(), &body(r#"{"namespace": "N"}"#), now()).err(),
            Some(duplicate("N"))
        );
    }

    #[test]
    fn only_admins_create_and_non_readers_see_nothing() {
        let mut t = Tables::default();
        let b = body(r#"{"namespace": "N"}"#);
        assert_eq!(
            create(&mut t, &who("alice", &["member", "reader"]), &b, now()).err(),
            Some(Fault::Forbidden(
                "You are not authorized to complete add_metadef_namespace action.".into()
            ))
        );
        assert_eq!(
            create(&mut t, &who("alice", &["member"]), &b, now()).err(),
            Some(Fault::NotFound(NOT_FOUND_DEFAULT.into()))
        );
    }

    #[test]
    fn lists_page_newest_first_with_links() {
        let mut t = Tables::default();
        for n in ["A", "B", "C"] {
            create_ok(
                &mut t,
                &format!(r#"{{"namespace": "{n}", "visibility": "public"}}"#),
            );
        }
        create_ok(&mut t, r#"{"namespace": "P"}"#);
        let alice = who("alice", &["member", "reader"]);
        let q = ListQuery::parse("limit=2", 25, 1000).expect("query");
        let page = list(&t, &alice, &q).expect("listed");
        let names: Vec<&str> = page["namespaces"]
            .as_array()
            .expect("list")
            .iter()
            .map(|n| n["namespace"].as_str().expect("name"))
            .collect();
        assert_eq!(names, ["C", "B"]);
        assert_eq!(page["first"], "/v2/metadefs/namespaces?limit=2");
        assert_eq!(page["next"], "/v2/metadefs/namespaces?limit=2&marker=B");
        let q = ListQuery::parse("limit=2&marker=B", 25, 1000).expect("query");
        let page = list(&t, &alice, &q).expect("listed");
        assert_eq!(page["namespaces"][0]["namespace"], "A");
        assert!(page.get("next").is_none());
        let q = ListQuery::parse("sort_key=namespace&sort_dir=asc", 25, 1000).expect("query");
        assert_eq!(
            list(&t, &admin(), &q).expect("listed")["namespaces"][3]["namespace"],
            "P"
        );
        assert_eq!(
            ListQuery::parse("limit=abc", 25, 1000).err(),
            Some(Fault::internal())
        );
        assert_eq!(
            ListQuery::parse("sort_dir=up&visibility=x", 25, 1000).err(),
            Some(Fault::BadRequest("Invalid sort direction: up".into()))
        );
        let q = ListQuery::parse("marker=P", 25, 1000).expect("query");
        assert_eq!(
            list(&t, &alice, &q).err(),
            Some(Fault::Forbidden(
                "Forbidding request, metadata definition namespace=P is not visible.".into()
            ))
        );
        let q = ListQuery::parse("marker=", 25, 1000).expect("query");
        assert!(matches!(list(&t, &alice, &q), Err(Fault::NotFound(_))));
    }

    #[test]
    fn show_prefixes_properties_for_a_resource_type() {
        let mut t = Tables::default();
        create_ok(
            &mut t,
            r#"{"namespace": "N", "resource_type_associations": [{"name": "R", "prefix": "r_"}], "properties": {"p": {"title": "P", "type": "string"}}, "objects": [{"name": "o", "required": ["a"], "properties": {"a": {"title": "A", "type": "string"}}}]}"#,
        );
        let plain = show(&t, &admin(), "N", "").expect("shown");
        assert!(plain["properties"].get("p").is_some());
        let prefixed = show(&t, &admin(), "N", "resource_type=R").expect("shown");
        assert!(prefixed["properties"].get("r_p").is_some());
        assert_eq!(prefixed["objects"][0]["required"], json!(["r_a"]));
        assert_eq!(show(&t, &admin(), "N", "foo=1"), Err(Fault::internal()));
        assert_eq!(
            show(&t, &who("bob", &["reader"]), "N", ""),
            Err(Fault::NotFound(NOT_FOUND_DEFAULT.into()))
        );
    }

    #[test]
    fn updates_reset_omitted_fields_and_protected_namespaces_stay() {
        let mut t = Tables::default();
        create_ok(
            &mut t,
            r#"{"namespace": "N", "display_name": "d", "visibility": "public", "protected": true, "owner": "x"}"#,
        );
        let out =
            update(&mut t, &admin(), "N", &body(r#"{"namespace": "M"}"#), now()).expect("updated");
        assert_eq!(out["visibility"], "private");
        assert_eq!(out["owner"], "admin-project");
        assert!(out.get("display_name").is_none());
        assert_eq!(out["protected"], false);
        assert!(t.namespace("M").is_some());

        create_ok(&mut t, r#"{"namespace": "P", "protected": true}"#);
        assert_eq!(
            delete(&mut t, &admin(), "P", Scope::Tags),
            Err(Fault::Forbidden(
                "Metadata definition namespace P is protected and cannot be deleted.".into()
            ))
        );
        assert_eq!(
            delete(&mut t, &who("bob", &["reader"]), "M", Scope::Namespace),
            Err(Fault::NotFound("Namespace M not found".into()))
        );
        assert_eq!(delete(&mut t, &admin(), "M", Scope::Namespace), Ok(()));
    }
}
