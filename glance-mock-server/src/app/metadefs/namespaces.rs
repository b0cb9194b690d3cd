//! Namespaces (Glance's `metadef_namespaces.NamespaceController`).

use serde_json::Value;

use super::{read, write, write_steps};
use crate::domain::metadefs::namespaces::{self, ListQuery, NamespaceBody, Scope};
use crate::domain::{Fault, Identity, time};
use crate::state::AppState;

/// `NamespaceController.index`: the namespaces the caller sees, one page
/// of them as `q` asks.
pub fn list(state: &AppState, who: &Identity, q: &ListQuery) -> Result<Value, Fault> {
    namespaces::list(&*read(state)?, who, q)
}

/// `NamespaceController.create`: a new namespace (with the objects,
/// properties, tags and associations in `ns`); its document and its
/// `Location` path.
pub fn create(
    state: &AppState,
    who: &Identity,
    ns: &NamespaceBody,
) -> Result<(Value, String), Fault> {
    // A refused create removes the namespace and its contents, but not a
    // resource type it created first (Glance 33 keeps that row).
    write_steps(state, |t| namespaces::create(t, who, ns, time::now()))
}

/// `NamespaceController.show`: namespace `name` with what it holds, as
/// `raw_query` (`resource_type`, `visibility`) asks.
pub fn show(state: &AppState, who: &Identity, name: &str, raw_query: &str) -> Result<Value, Fault> {
    namespaces::show(&*read(state)?, who, name, raw_query)
}

/// `NamespaceController.update`: replace namespace `name`'s attributes.
pub fn update(
    state: &AppState,
    who: &Identity,
    name: &str,
    ns: &NamespaceBody,
) -> Result<Value, Fault> {
    write(state, |t| namespaces::update(t, who, name, ns, time::now()))
}

/// `NamespaceController.delete`: namespace `name` and all it holds.
pub fn delete(state: &AppState, who: &Identity, name: &str) -> Result<(), Fault> {
    write(state, |t| {
        namespaces::delete(t, who, name, Scope::Namespace)
    })
}

/// `NamespaceController.delete_objects`: every object of namespace `name`.
pub fn delete_objects(state: &AppState, who: &Identity, name: &str) -> Result<(), Fault> {
    write(state, |t| namespaces::delete(t, who, name, Scope::Objects))
}

/// `NamespaceController.delete_properties`: every property of namespace
/// `name`.
pub fn delete_properties(state: &AppState, who: &Identity, name: &str) -> Result<(), Fault> {
    write(state, |t| {
        namespaces::delete(t, who, name, Scope::Properties)
    })
}

/// `NamespaceController.delete_tags`: every tag of namespace `name`.
pub fn delete_tags(state: &AppState, who: &Identity, name: &str) -> Result<(), Fault> {
    write(state, |t| namespaces::delete(t, who, name, Scope::Tags))
}
