//! Properties (Glance's `metadef_properties.NamespacePropertiesController`).

use serde_json::Value;

use super::{read, write};
use crate::domain::metadefs::properties::{self, PropertyBody};
use crate::domain::{Fault, Identity};
use crate::state::AppState;

/// `NamespacePropertiesController.index`: `namespace`'s properties.
pub fn list(state: &AppState, who: &Identity, namespace: &str) -> Result<Value, Fault> {
    properties::list(&*read(state)?, who, namespace)
}

/// `NamespacePropertiesController.create`: a new property in `namespace`.
pub fn create(
    state: &AppState,
    who: &Identity,
    namespace: &str,
    property: &PropertyBody,
) -> Result<Value, Fault> {
    write(state, |t| properties::create(t, who, namespace, property))
}

/// `NamespacePropertiesController.show`: property `name` of `namespace`
/// (with a `resource_type` in `raw_query`, named with that association's
/// prefix).
pub fn show(
    state: &AppState,
    who: &Identity,
    namespace: &str,
    name: &str,
    raw_query: &str,
) -> Result<Value, Fault> {
    properties::show(&*read(state)?, who, namespace, name, raw_query)
}

/// `NamespacePropertiesController.update`: replace property `name` of
/// `namespace`.
pub fn update(
    state: &AppState,
    who: &Identity,
    namespace: &str,
    name: &str,
    property: &PropertyBody,
) -> Result<Value, Fault> {
    write(state, |t| {
        properties::update(t, who, namespace, name, property)
    })
}

/// `NamespacePropertiesController.delete`: property `name` of
/// `namespace`.
pub fn delete(state: &AppState, who: &Identity, namespace: &str, name: &str) -> Result<(), Fault> {
    write(state, |t| properties::delete(t, who, namespace, name))
}
