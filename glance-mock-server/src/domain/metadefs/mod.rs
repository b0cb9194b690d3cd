//! Metadata definitions (`/v2/metadefs/...`): namespaces and what they hold
//! (objects, properties, tags, resource type associations), with the rules
//! Glance 33's controllers, WSME models and DB layer apply, free of HTTP.
//!
//! Each resource module mirrors one Glance controller: a `*Body` type reads
//! a request body as the controller's deserializer does (body present,
//! read-only attributes, JSON schema, WSME), and one function per action
//! works on the [`Tables`] and answers with the JSON Glance writes. The
//! order of checks is Glance's: deserializer, namespace lookup, policy,
//! then the rows.
//!
//! Glance's stock deployment starts with no namespaces and no resource
//! types (`glance-manage db_sync` loads none), and so does the mock.

pub mod namespaces;
pub mod objects;
pub mod policy;
pub mod properties;
pub mod query;
pub mod records;
pub mod resource_types;
pub mod schema;
pub mod tags;
pub mod wsme;

/// `json.loads` keeping key order, which lives in [`crate::domain::python::json`];
/// this path stays for code that used it.
pub use crate::domain::python::json as pyjson;

pub use records::Tables;

use super::python::Py;
use super::{Fault, Identity};
use records::Namespace;

/// Why `MetadefNamespaceRepo.get` found no namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// No namespace has that name (`MetadefNamespaceNotFound`).
    Missing,
    /// It exists but the caller may not see it (`MetadefForbidden`).
    Hidden,
}

/// `ns_repo.get(name)`: the namespace, if it exists and `who` can see it.
pub fn find<'a>(t: &'a Tables, who: &Identity, name: &str) -> Result<&'a Namespace, Lookup> {
    let ns = t.namespace(name).ok_or(Lookup::Missing)?;
    if policy::can_see(who, ns) {
        Ok(ns)
    } else {
        Err(Lookup::Hidden)
    }
}

impl Lookup {
    /// The DB layer's own error for it, as controllers that do not catch it
    /// pass it on.
    pub fn fault(self, name: &str) -> Fault {
        match self {
            Lookup::Missing => Fault::NotFound(format!(
                "Metadata definition namespace={name} was not found."
            )),
            Lookup::Hidden => Fault::Forbidden(format!(
                "Forbidding request, metadata definition namespace={name} is not visible."
            )),
        }
    }
}

/// `Namespace %s not found`: what most controllers answer for a namespace
/// that is missing or hidden.
pub fn namespace_not_found(name: &str) -> Fault {
    Fault::NotFound(format!("Namespace {name} not found"))
}

/// `find`, answering both failures with [`namespace_not_found`].
pub fn find_or_404<'a>(t: &'a Tables, who: &Identity, name: &str) -> Result<&'a Namespace, Fault> {
    find(t, who, name).map_err(|_| namespace_not_found(name))
}

/// `find` as the object controller uses it: a hidden namespace is
/// [`namespace_not_found`], a missing one the DB layer's 404.
pub fn find_for_objects<'a>(
    t: &'a Tables,
    who: &Identity,
    name: &str,
) -> Result<&'a Namespace, Fault> {
    find(t, who, name).map_err(|e| match e {
        Lookup::Missing => e.fault(name),
        Lookup::Hidden => namespace_not_found(name),
    })
}

/// `_get_request_body`: 400 without a body.
pub fn require_body(body: Option<&Py>) -> Result<&Py, Fault> {
    body.ok_or_else(|| Fault::BadRequest("Body expected in request.".into()))
}

/// `_check_allowed`: 403 for the first read-only attribute present (for a
/// list body Python's `in` looks for an equal element).
pub fn check_allowed(body: &Py, read_only: &[&str]) -> Result<(), Fault> {
    for key in read_only {
        let present = match body {
            Py::Dict(_) => body.get(key).is_some(),
            Py::List(items) => items.iter().any(|i| matches!(i, Py::Str(s) if s == key)),
            _ => false,
        };
        if present {
            return Err(Fault::Forbidden(format!("Attribute '{key}' is read-only.")));
        }
    }
    Ok(())
}

/// Attributes the namespace and object deserializers refuse.
pub const READ_ONLY: &[&str] = &["self", "schema", "created_at", "updated_at"];

/// Attributes the property, tag and resource type deserializers refuse.
pub const READ_ONLY_TIMES: &[&str] = &["created_at", "updated_at"];

/// `_validate_limit` of the object and tag deserializers: an integer, not
/// negative (objects: positive).
pub fn validate_limit(value: &str, zero_ok: bool) -> Result<i64, Fault> {
    let n = query::python_int(value)
        .ok_or_else(|| Fault::BadRequest("limit param must be an integer".into()))?;
    if n < 0 || (n == 0 && !zero_ok) {
        return Err(Fault::BadRequest("limit param must be positive".into()));
    }
    Ok(n)
}

/// `_get_filters` of the object and tag deserializers.
pub fn validate_visibility(params: &query::Params, allowed: &[&str]) -> Result<(), Fault> {
    match params.get("visibility") {
        Some(v) if !v.is_empty() && !allowed.contains(&v) => {
            Err(Fault::BadRequest(format!("Invalid visibility value: {v}")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::now;

    fn who(project: &str, roles: &[&str]) -> Identity {
        Identity {
            project_id: Some(project.into()),
            user_id: None,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn lookups_tell_missing_from_hidden() {
        let mut t = Tables::default();
        let id = t.next_id();
        t.namespace_create(Namespace::new(
            id,
            "Mine".into(),
            Some("alice".into()),
            "private".into(),
            now(),
        ));
        let bob = who("bob", &["reader"]);
        assert_eq!(find(&t, &bob, "Mine").err(), Some(Lookup::Hidden));
        assert_eq!(find(&t, &bob, "Nope").err(), Some(Lookup::Missing));
        assert!(find(&t, &who("alice", &["reader"]), "Mine").is_ok());
        assert_eq!(
            find_for_objects(&t, &bob, "Nope").err(),
            Some(Fault::NotFound(
                "Metadata definition namespace=Nope was not found.".into()
            ))
        );
        assert_eq!(
            find_for_objects(&t, &bob, "Mine").err(),
            Some(Fault::NotFound("Namespace Mine not found".into()))
        );
    }

    #[test]
    fn read_only_attributes_are_refused_in_order() {
        let body = pyjson::parse(br#"{"created_at": 1, "schema": 2}"#).expect("json");
        assert_eq!(
            check_allowed(&body, READ_ONLY),
            Err(Fault::Forbidden("Attribute 'schema' is read-only.".into()))
        );
        let list = pyjson::parse(br#"["self"]"#).expect("json");
        assert!(check_allowed(&list, READ_ONLY).is_err());
        assert!(check_allowed(&list, READ_ONLY_TIMES).is_ok());
    }

    #[test]
    fn limits_follow_each_deserializer() {
        assert_eq!(validate_limit("0", true), Ok(0));
        assert_eq!(
            validate_limit("0", false),
            Err(Fault::BadRequest("limit param must be positive".into()))
        );
        assert_eq!(
            validate_limit("x", true),
            Err(Fault::BadRequest("limit param must be an integer".into()))
        );
    }
}
