//! Resource types and their associations with namespaces
//! (`glance/api/v2/metadef_resource_types.py`). A resource type exists once
//! some namespace was associated with it, and stays after that.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::namespaces::associate;
use super::policy::{self, Rule, Target};
use super::schema::Schema;
use super::{READ_ONLY_TIMES, Tables, check_allowed, find_or_404, require_body, wsme};
use crate::domain::python::Py;
use crate::domain::time::format;
use crate::domain::{Fault, Identity};

/// `GET /v2/metadefs/resource_types`: every resource type, oldest first.
pub fn list(t: &Tables, who: &Identity) -> Result<Value, Fault> {
    policy::enforce(who, Rule::ListResourceTypes, Target::caller(who))?;
    let types: Vec<Value> = t.resource_types.iter().map(|r| r.to_json()).collect();
    Ok(json!({"resource_types": types}))
}

/// `GET .../{namespace}/resource_types`: the namespace's associations.
pub fn associations(t: &Tables, who: &Identity, namespace: &str) -> Result<Value, Fault> {
    let ns = find_or_404(t, who, namespace)?;
    let target = Target::namespace(ns);
    policy::enforce(who, Rule::ListResourceTypes, target)?;
    let list: Vec<Value> = t
        .associations_json(ns.id)
        .into_iter()
        .filter(|_| policy::allows(who, Rule::GetResourceType, target))
        .collect();
    Ok(json!({"resource_type_associations": list}))
}

/// An association create body, as WSME read it.
#[derive(Debug, Clone, PartialEq)]
pub struct AssociationBody(Map<String, Value>);

impl AssociationBody {
    /// Body present, no timestamps, the association schema, WSME.
    pub fn read(body: Option<&Py>) -> Result<Self, Fault> {
        let body = require_body(body)?;
        check_allowed(body, READ_ONLY_TIMES)?;
        Schema::ResourceTypeAssociation.validate(body)?;
        wsme::from_json(&wsme::RESOURCE_TYPE_ASSOCIATION, body).map(AssociationBody)
    }

    fn text(&self, key: &str) -> Option<String> {
        self.0.get(key).and_then(Value::as_str).map(str::to_owned)
    }
}

/// `POST .../{namespace}/resource_types`: associate the namespace with a
/// resource type, created if new.
pub fn create(
    t: &mut Tables,
    who: &Identity,
    namespace: &str,
    body: &AssociationBody,
    now: OffsetDateTime,
) -> Result<Value, Fault> {
    let ns = find_or_404(t, who, namespace)?.clone();
    policy::enforce(
        who,
        Rule::AddResourceTypeAssociation,
        Target::namespace(&ns),
    )?;
    let name = body.text("name").unwrap_or_default();
    let prefix = body.text("prefix");
    let target = body.text("properties_target");
    associate(t, &ns, &name, prefix.clone(), target.clone(), now)?;
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    if let Some(p) = prefix {
        m.insert("prefix".into(), json!(p));
    }
    if let Some(p) = target {
        m.insert("properties_target".into(), json!(p));
    }
    m.insert("created_at".into(), json!(format(now)));
    m.insert("updated_at".into(), json!(format(now)));
    Ok(Value::Object(m))
}

/// `DELETE .../{namespace}/resource_types/{resource_type}`: end the
/// association (the resource type stays); 403 in a protected namespace.
pub fn delete(t: &mut Tables, who: &Identity, namespace: &str, name: &str) -> Result<(), Fault> {
    let ns = find_or_404(t, who, namespace)?.clone();
    policy::enforce(
        who,
        Rule::RemoveResourceTypeAssociation,
        Target::namespace(&ns),
    )?;
    let Some(type_id) = t
        .associations_of(ns.id)
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, a)| a.resource_type_id)
    else {
        return Err(Fault::NotFound(format!(
            "Failed to find resource type {name} to delete"
        )));
    };
    if ns.protected {
        return Err(Fault::Forbidden(format!(
            "Metadata definition resource-type-association {name} is protected and cannot be deleted."
        )));
    }
    t.resource_type_association_delete(ns.id, type_id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::namespaces::{NamespaceBody, create as create_namespace};
    use super::*;
    use crate::domain::python::json as pyjson;
    use crate::domain::time::now;

    fn who(roles: &[&str]) -> Identity {
        Identity {
            project_id: Some("p".into()),
            user_id: None,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn py(s: &str) -> Py {
        pyjson::parse(s.as_bytes()).expect("json")
    }

    #[test]
    fn associating_creates_the_type_once() {
        let admin = who(&["admin"]);
        let mut t = Tables::default();
        let ns = NamespaceBody::read(Some(&py(r#"{"namespace": "N", "visibility": "public"}"#)))
            .expect("body");
        create_namespace(&mut t, &admin, &ns, now()).expect("namespace");
        assert_eq!(
            list(&t, &who(&["reader"])).expect("listed"),
            json!({"resource_types": []})
        );
        let body = AssociationBody::read(Some(&py(
            r#"{"name": "OS::Glance::Image", "prefix": "i_"}"#,
        )))
        .expect("body");
        let out = create(&mut t, &admin, "N", &body, now()).expect("associated");
        assert_eq!(out["prefix"], "i_");
        assert!(out.get("properties_target").is_none());
        assert_eq!(
            create(&mut t, &admin, "N", &body, now()).err(),
            Some(Fault::Conflict("The metadata definition resource-type association of resource-type=OS::Glance::Image to namespace=N already exists.".into()))
        );
        assert_eq!(
            associations(&t, &who(&["reader"]), "N").expect("listed")["resource_type_associations"]
                [0]["name"],
            "OS::Glance::Image"
        );
        assert_eq!(
            delete(&mut t, &who(&["member", "reader"]), "N", "OS::Glance::Image"),
            Err(Fault::Forbidden("You are not authorized to complete remove_metadef_resource_type_association action.".into()))
        );
        assert_eq!(delete(&mut t, &admin, "N", "OS::Glance::Image"), Ok(()));
        assert_eq!(
            delete(&mut t, &admin, "N", "OS::Glance::Image"),
            Err(Fault::NotFound(
                "Failed to find resource type OS::Glance::Image to delete".into()
            ))
        );
        assert_eq!(t.resource_types.len(), 1);
        assert_eq!(
            list(&t, &who(&["member"])),
            Err(Fault::NotFound(
                crate::domain::policy::NOT_FOUND_DEFAULT.into()
            ))
        );
    }
}
