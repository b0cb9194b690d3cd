//! Objects of a namespace (`glance/api/v2/metadef_objects.py`).

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::namespaces::{duplicate_object, object_row};
use super::policy::{self, Rule, Target};
use super::query::{self, Params};
use super::records::{Object, object_href};
use super::schema::Schema;
use super::{READ_ONLY, Tables, check_allowed, find_for_objects, require_body, wsme};
use crate::domain::python::Py;
use crate::domain::time::format;
use crate::domain::{Fault, Identity};

/// An object create or update body, as WSME read it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectBody(Map<String, Value>);

impl ObjectBody {
    /// A create body: present, no read-only attribute, the object schema,
    /// each property against the property schema (which, unlike the
    /// object's, refuses unknown attributes), then WSME.
    pub fn read_create(body: Option<&Py>) -> Result<Self, Fault> {
        let body = require_body(body)?;
        check_allowed(body, READ_ONLY)?;
        Schema::Object.validate(body)?;
        if let Some(Py::Dict(props)) = body.get("properties") {
            for (_, p) in props {
                Schema::UnnamedProperty.validate(p)?;
            }
        }
        wsme::from_json(&wsme::OBJECT, body).map(ObjectBody)
    }

    /// An update body: as a create body, without the per-property schema.
    pub fn read_update(body: Option<&Py>) -> Result<Self, Fault> {
        let body = require_body(body)?;
        check_allowed(body, READ_ONLY)?;
        Schema::Object.validate(body)?;
        wsme::from_json(&wsme::OBJECT, body).map(ObjectBody)
    }

    fn name(&self) -> String {
        self.0
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

/// `MetadefObject.to_wsme_model` of a domain object built from a request:
/// the attributes that are not `None`, timestamps, links.
fn answer(
    namespace: &str,
    name: &str,
    body: &Map<String, Value>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
) -> Value {
    let mut m = Map::new();
    for key in ["required", "description", "properties"] {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            m.insert(key.into(), v.clone());
        }
    }
    m.insert("name".into(), json!(name));
    m.insert("created_at".into(), json!(format(created_at)));
    m.insert("updated_at".into(), json!(format(updated_at)));
    m.insert("self".into(), json!(object_href(namespace, name)));
    m.insert("schema".into(), json!("/v2/schemas/metadefs/object"));
    Value::Object(m)
}

fn not_found(name: &str) -> Fault {
    Fault::NotFound(format!("Could not find metadata object {name}"))
}

/// `POST .../{namespace}/objects`.
pub fn create(
    t: &mut Tables,
    who: &Identity,
    namespace: &str,
    body: &ObjectBody,
    now: OffsetDateTime,
) -> Result<Value, Fault> {
    let ns = find_for_objects(t, who, namespace)?.clone();
    policy::enforce(who, Rule::AddObject, Target::namespace(&ns))?;
    let id = t.next_id();
    let row = object_row(id, ns.id, &body.0, now)?;
    if t.objects_of(ns.id).any(|o| o.name == row.name) {
        return Err(duplicate_object(&row.name, &ns.namespace));
    }
    let name = row.name.clone();
    t.object_create(row);
    Ok(answer(namespace, &name, &body.0, now, now))
}

/// `GET .../{namespace}/objects`: every object (Glance checks `limit`,
/// `sort_dir` and `visibility` but pages nothing).
pub fn list(t: &Tables, who: &Identity, namespace: &str, raw_query: &str) -> Result<Value, Fault> {
    let mut params = Params::parse(raw_query);
    let limit = params.pop("limit");
    params.pop("marker");
    query::sort_dir(&params.pop("sort_dir").unwrap_or_else(|| "desc".into()))?;
    super::validate_visibility(&params, &["public", "private", "shared"])?;
    if let Some(l) = limit {
        super::validate_limit(&l, false)?;
    }
    let ns = find_for_objects(t, who, namespace)?;
    let target = Target::namespace(ns);
    policy::enforce(who, Rule::GetObjects, target)?;
    let objects = t
        .objects_of(ns.id)
        .filter(|_| policy::allows(who, Rule::GetObject, target))
        .map(|o| o.to_json(&ns.namespace, ""))
        .collect::<Vec<_>>();
    Ok(json!({"objects": objects, "schema": "v2/schemas/metadefs/objects"}))
}

fn get<'a>(t: &'a Tables, ns: i64, name: &str) -> Result<&'a Object, Fault> {
    t.objects_of(ns)
        .find(|o| o.name == name)
        .ok_or_else(|| not_found(name))
}

/// `GET .../{namespace}/objects/{object_name}`.
pub fn show(t: &Tables, who: &Identity, namespace: &str, name: &str) -> Result<Value, Fault> {
    let ns = find_for_objects(t, who, namespace)?;
    policy::enforce(who, Rule::GetObject, Target::namespace(ns))?;
    Ok(get(t, ns.id, name)?.to_json(&ns.namespace, ""))
}

/// `PUT .../{namespace}/objects/{object_name}`: replace the object (absent
/// attributes become empty). Renaming onto another object fails as in
/// Glance (500).
pub fn update(
    t: &mut Tables,
    who: &Identity,
    namespace: &str,
    name: &str,
    body: &ObjectBody,
    now: OffsetDateTime,
) -> Result<Value, Fault> {
    let ns = find_for_objects(t, who, namespace)?.clone();
    policy::enforce(who, Rule::ModifyObject, Target::namespace(&ns))?;
    let old = get(t, ns.id, name)?.clone();
    let new_name = body.name();
    if new_name != old.name && t.objects_of(ns.id).any(|o| o.name == new_name) {
        return Err(Fault::internal());
    }
    let row = Object {
        id: old.id,
        created_at: old.created_at,
        updated_at: now,
        ..object_row(old.id, ns.id, &body.0, now)?
    };
    t.object_update(row);
    Ok(answer(
        namespace,
        &new_name,
        &body.0,
        old.created_at,
        old.updated_at,
    ))
}

/// `DELETE .../{namespace}/objects/{object_name}`: 403 in a protected
/// namespace.
pub fn delete(t: &mut Tables, who: &Identity, namespace: &str, name: &str) -> Result<(), Fault> {
    let ns = find_for_objects(t, who, namespace)?.clone();
    policy::enforce(who, Rule::DeleteObject, Target::namespace(&ns))?;
    let id = get(t, ns.id, name)?.id;
    if ns.protected {
        return Err(Fault::Forbidden(format!(
            "Metadata definition object {name} is protected and cannot be deleted."
        )));
    }
    t.object_delete(id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::namespaces::{NamespaceBody, create as create_namespace};
    use super::*;
    use crate::domain::python::json as pyjson;
    use crate::domain::time::now;

    fn admin() -> Identity {
        Identity {
            project_id: Some("admin-project".into()),
            user_id: None,
            roles: vec!["admin".into(), "reader".into()],
        }
    }

    fn py(s: &str) -> Py {
        pyjson::parse(s.as_bytes()).expect("json")
    }

    fn setup(ns: &str) -> Tables {
        let mut t = Tables::default();
        let body = NamespaceBody::read(Some(&py(ns))).expect("namespace body");
        create_namespace(&mut t, &admin(), &body, now()).expect("namespace");
        t
    }

    #[test]
    fn created_objects_echo_the_request_and_list_from_the_table() {
        let mut t = setup(r#"{"namespace": "N", "visibility": "public"}"#);
        let body = ObjectBody::read_create(Some(&py(
            r#"{"name": "o", "properties": {"a": {"title": "A", "type": "string"}}}"#,
        )))
        .expect("body");
        let out = create(&mut t, &admin(), "N", &body, now()).expect("created");
        assert!(out.get("required").is_none());
        assert_eq!(out["self"], "/v2/metadefs/namespaces/N/objects/o");
        let listed = list(&t, &admin(), "N", "").expect("listed");
        assert_eq!(listed["objects"][0]["required"], json!([]));
        assert_eq!(listed["schema"], "v2/schemas/metadefs/objects");
        assert_eq!(
            create(&mut t, &admin(), "N", &body, now()).err(),
            Some(duplicate_object("o", "N"))
        );
        assert_eq!(
            list(&t, &admin(), "N", "limit=0").err(),
            Some(Fault::BadRequest("limit param must be positive".into()))
        );
    }

    #[test]
    fn properties_of_a_create_meet_the_strict_property_schema() {
        let err = ObjectBody::read_create(Some(&py(
            r#"{"name": "o", "properties": {"a": {"title": "A", "type": "string", "foo": 1}}}"#,
        )))
        .expect_err("refused");
        assert!(
            matches!(err, Fault::BadRequest(m) if m.starts_with("Provided object does not match schema 'property': Additional properties are not allowed ('foo' was unexpected)"))
        );
        // An update checks only the object schema; WSME then fails.
        assert_eq!(
            ObjectBody::read_update(Some(&py(
                r#"{"name": "o", "properties": {"a": {"title": "A", "type": "string", "foo": 1}}}"#
            ))),
            Err(Fault::internal())
        );
    }

    #[test]
    fn updates_replace_and_protected_namespaces_keep_objects() {
        let mut t = setup(
            r#"{"namespace": "N", "protected": true, "objects": [{"name": "o", "description": "d"}, {"name": "p"}]}"#,
        );
        let body = ObjectBody::read_update(Some(&py(r#"{"name": "o2"}"#))).expect("body");
        let out = update(&mut t, &admin(), "N", "o", &body, now()).expect("updated");
        assert!(out.get("description").is_none());
        assert_eq!(show(&t, &admin(), "N", "o2").expect("shown")["name"], "o2");
        let clash = ObjectBody::read_update(Some(&py(r#"{"name": "p"}"#))).expect("body");
        assert_eq!(
            update(&mut t, &admin(), "N", "o2", &clash, now()),
            Err(Fault::internal())
        );
        assert_eq!(
            delete(&mut t, &admin(), "N", "o2"),
            Err(Fault::Forbidden(
                "Metadata definition object o2 is protected and cannot be deleted.".into()
            ))
        );
        assert_eq!(
            delete(&mut t, &admin(), "N", "zz"),
            Err(Fault::NotFound("Could not find metadata object zz".into()))
        );
    }
}
