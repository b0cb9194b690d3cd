//! Properties of a namespace (`glance/api/v2/metadef_properties.py`).

use serde_json::{Map, Value, json};

use super::namespaces::properties_json;
use super::policy::{self, Rule, Target};
use super::query::Params;
use super::records::Property;
use super::schema::Schema;
use super::{READ_ONLY_TIMES, Tables, check_allowed, find_or_404, require_body, wsme};
use crate::domain::python::Py;
use crate::domain::{Fault, Identity};

/// A property create or update body: a `PropertyType` with its `name`.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyBody(Map<String, Value>);

impl PropertyBody {
    /// Body present, no timestamps (403), the property schema (400), WSME.
    pub fn read(body: Option<&Py>) -> Result<Self, Fault> {
        let body = require_body(body)?;
        check_allowed(body, READ_ONLY_TIMES)?;
        Schema::Property.validate(body)?;
        wsme::from_json(&wsme::PROPERTY_TYPE, body).map(PropertyBody)
    }

    fn name(&self) -> String {
        self.0
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

fn not_found(name: &str) -> Fault {
    Fault::NotFound(format!("Could not find property {name}"))
}

fn get<'a>(t: &'a Tables, ns: i64, name: &str) -> Result<&'a Property, Fault> {
    t.properties_of(ns)
        .find(|p| p.name == name)
        .ok_or_else(|| not_found(name))
}

/// `GET .../{namespace}/properties`.
pub fn list(t: &Tables, who: &Identity, namespace: &str) -> Result<Value, Fault> {
    let ns = find_or_404(t, who, namespace)?;
    policy::enforce(who, Rule::GetProperties, Target::namespace(ns))?;
    Ok(json!({"properties": properties_json(t, ns.id, "")}))
}

/// `GET .../{namespace}/properties/{property_name}`. With a
/// `resource_type` parameter the name must carry that association's
/// prefix, which is taken off; other parameters alone fail (500).
pub fn show(
    t: &Tables,
    who: &Identity,
    namespace: &str,
    name: &str,
    raw_query: &str,
) -> Result<Value, Fault> {
    let params = Params::parse(raw_query);
    let ns = find_or_404(t, who, namespace)?;
    let target = Target::namespace(ns);
    policy::enforce(who, Rule::GetProperty, target)?;
    let mut wanted = name;
    if !params.is_empty() {
        let resource_type = params.get("resource_type").ok_or_else(Fault::internal)?;
        if !resource_type.is_empty() {
            policy::enforce(who, Rule::GetResourceType, target)?;
            if t.resource_type(resource_type).is_none() {
                return Err(Fault::NotFound(format!(
                    "The metadata definition resource-type with name={resource_type}, was not found."
                )));
            }
            let Some((_, association)) = t
                .associations_of(ns.id)
                .into_iter()
                .find(|(n, _)| *n == resource_type)
            else {
                return Err(Fault::NotFound(format!(
                    "The metadata definition resource-type association of resource-type={resource_type} to namespace={namespace}, was not found."
                )));
            };
            match association.prefix.as_deref() {
                Some(prefix) if !prefix.is_empty() && name.starts_with(prefix) => {
                    wanted = &name[prefix.len()..];
                }
                prefix => {
                    return Err(Fault::NotFound(format!(
                        "Property {name} does not start with the expected resource type association prefix of '{}'.",
                        prefix.unwrap_or("None")
                    )));
                }
            }
        }
    }
    Ok(get(t, ns.id, wanted)?.to_json())
}

/// `POST .../{namespace}/properties`.
pub fn create(
    t: &mut Tables,
    who: &Identity,
    namespace: &str,
    body: &PropertyBody,
) -> Result<Value, Fault> {
    let ns = find_or_404(t, who, namespace)?.clone();
    policy::enforce(who, Rule::AddProperty, Target::namespace(&ns))?;
    let name = body.name();
    if t.properties_of(ns.id).any(|p| p.name == name) {
        return Err(Fault::Conflict(format!(
            "A metadata definition property with name={name} already exists in namespace={namespace}."
        )));
    }
    let id = t.next_id();
    let row = Property {
        id,
        namespace_id: ns.id,
        name,
        schema: body.0.clone(),
    };
    t.property_create(row.clone());
    Ok(row.to_json())
}

/// `PUT .../{namespace}/properties/{property_name}`: replace the property.
/// Renaming onto another property fails as in Glance (500).
pub fn update(
    t: &mut Tables,
    who: &Identity,
    namespace: &str,
    name: &str,
    body: &PropertyBody,
) -> Result<Value, Fault> {
    let ns = find_or_404(t, who, namespace)?.clone();
    policy::enforce(who, Rule::ModifyProperty, Target::namespace(&ns))?;
    let old = get(t, ns.id, name)?.clone();
    let new_name = body.name();
    if new_name != old.name && t.properties_of(ns.id).any(|p| p.name == new_name) {
        return Err(Fault::internal());
    }
    let row = Property {
        name: new_name,
        schema: body.0.clone(),
        ..old
    };
    t.property_update(row.clone());
    Ok(row.to_json())
}

/// `DELETE .../{namespace}/properties/{property_name}`: 403 in a protected
/// namespace.
pub fn delete(t: &mut Tables, who: &Identity, namespace: &str, name: &str) -> Result<(), Fault> {
    let ns = find_or_404(t, who, namespace)?.clone();
    policy::enforce(who, Rule::RemoveProperty, Target::namespace(&ns))?;
    let id = get(t, ns.id, name)?.id;
    if ns.protected {
        return Err(Fault::Forbidden(format!(
            "Metadata definition property {name} is protected and cannot be deleted."
        )));
    }
    t.property_delete(id);
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
            roles: vec!["admin".into()],
        }
    }

    fn py(s: &str) -> Py {
        pyjson::parse(s.as_bytes()).expect("json")
    }

    #[test]
    fn properties_carry_their_name_and_resource_type_prefixes() {
        let mut t = Tables::default();
        let ns = NamespaceBody::read(Some(&py(
            r#"{"namespace": "N", "resource_type_associations": [{"name": "R", "prefix": "r_"}, {"name": "S"}], "properties": {"bare": {"title": "B", "type": "string"}}}"#,
        )))
        .expect("body");
        create_namespace(&mut t, &admin(), &ns, now()).expect("namespace");
        let body = PropertyBody::read(Some(&py(
            r#"{"name": "p", "title": "P", "type": "integer", "minimum": 1.9}"#,
        )))
        .expect("body");
        let out = create(&mut t, &admin(), "N", &body).expect("created");
        assert_eq!(
            out,
            json!({"name": "p", "title": "P", "type": "integer", "minimum": 1})
        );
        // Listed under their row name, with `name` only if the request had one.
        let listed = list(&t, &admin(), "N").expect("listed");
        assert_eq!(
            listed["properties"]["bare"],
            json!({"title": "B", "type": "string"})
        );
        assert_eq!(
            show(&t, &admin(), "N", "bare", "").expect("shown")["name"],
            "bare"
        );
        assert_eq!(
            show(&t, &admin(), "N", "r_p", "resource_type=R").expect("shown")["name"],
            "p"
        );
        assert_eq!(
            show(&t, &admin(), "N", "p", "resource_type=R"),
            Err(Fault::NotFound(
                "Property p does not start with the expected resource type association prefix of 'r_'.".into()
            ))
        );
        assert_eq!(
            show(&t, &admin(), "N", "p", "resource_type=S"),
            Err(Fault::NotFound(
                "Property p does not start with the expected resource type association prefix of 'None'.".into()
            ))
        );
        assert_eq!(show(&t, &admin(), "N", "p", "x=1"), Err(Fault::internal()));
        assert_eq!(
            create(&mut t, &admin(), "N", &body).err(),
            Some(Fault::Conflict(
                "A metadata definition property with name=p already exists in namespace=N.".into()
            ))
        );
        let rename = PropertyBody::read(Some(&py(
            r#"{"name": "bare", "title": "T", "type": "string"}"#,
        )))
        .expect("body");
        assert_eq!(
            update(&mut t, &admin(), "N", "p", &rename),
            Err(Fault::internal())
        );
        assert_eq!(delete(&mut t, &admin(), "N", "p"), Ok(()));
        assert_eq!(
            delete(&mut t, &admin(), "N", "p"),
            Err(Fault::NotFound("Could not find property p".into()))
        );
    }
}
