//! Objects (Glance's `metadef_objects.MetadefObjectsController`).

use serde_json::Value;

use super::{read, write};
use crate::domain::metadefs::objects::{self, ObjectBody};
use crate::domain::{Fault, Identity, time};
use crate::state::AppState;

/// `MetadefObjectsController.index`: `namespace`'s objects, as
/// `raw_query` asks.
pub fn list(
    state: &AppState,
    who: &Identity,
    namespace: &str,
    raw_query: &str,
) -> Result<Value, Fault> {
    objects::list(&*read(state)?, who, namespace, raw_query)
}

/// `MetadefObjectsController.create`: a new object in `namespace`.
pub fn create(
    state: &AppState,
    who: &Identity,
    namespace: &str,
    object: &ObjectBody,
) -> Result<Value, Fault> {
    write(state, |t| {
        objects::create(t, who, namespace, object, time::now())
    })
}

/// `MetadefObjectsController.show`: object `name` of `namespace`.
pub fn show(state: &AppState, who: &Identity, namespace: &str, name: &str) -> Result<Value, Fault> {
    objects::show(&*read(state)?, who, namespace, name)
}

/// `MetadefObjectsController.update`: replace object `name` of
/// `namespace`.
pub fn update(
    state: &AppState,
    who: &Identity,
    namespace: &str,
    name: &str,
    object: &ObjectBody,
) -> Result<Value, Fault> {
    write(state, |t| {
        objects::update(t, who, namespace, name, object, time::now())
    })
}

/// `MetadefObjectsController.delete`: object `name` of `namespace`.
pub fn delete(state: &AppState, who: &Identity, namespace: &str, name: &str) -> Result<(), Fault> {
    write(state, |t| objects::delete(t, who, namespace, name))
}
