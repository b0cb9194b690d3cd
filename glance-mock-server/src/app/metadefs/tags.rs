//! Tags (Glance's `metadef_tags.TagsController`).

use serde_json::Value;

use super::{read, write};
use crate::domain::metadefs::tags::{self, TagBody, TagsBody};
use crate::domain::{Fault, Identity, time};
use crate::state::AppState;

/// `TagsController.index`: `namespace`'s tags, as `raw_query` asks.
pub fn list(
    state: &AppState,
    who: &Identity,
    namespace: &str,
    raw_query: &str,
) -> Result<Value, Fault> {
    tags::list(&*read(state)?, who, namespace, raw_query)
}

/// `TagsController.create_tags`: replace `namespace`'s tags with `list`
/// (or, with `append`, add them).
pub fn create_many(
    state: &AppState,
    who: &Identity,
    namespace: &str,
    list: &TagsBody,
    append: bool,
) -> Result<Value, Fault> {
    write(state, |t| {
        tags::create_many(t, who, namespace, list, append, time::now())
    })
}

/// `TagsController.show`: tag `name` of `namespace`.
pub fn show(state: &AppState, who: &Identity, namespace: &str, name: &str) -> Result<Value, Fault> {
    tags::show(&*read(state)?, who, namespace, name)
}

/// `TagsController.create`: a new tag `name` in `namespace`.
pub fn create(
    state: &AppState,
    who: &Identity,
    namespace: &str,
    name: &str,
) -> Result<Value, Fault> {
    write(state, |t| {
        tags::create(t, who, namespace, name, time::now())
    })
}

/// `TagsController.update`: rename tag `name` of `namespace`.
pub fn update(
    state: &AppState,
    who: &Identity,
    namespace: &str,
    name: &str,
    tag: &TagBody,
) -> Result<Value, Fault> {
    write(state, |t| {
        tags::update(t, who, namespace, name, tag, time::now())
    })
}

/// `TagsController.delete`: tag `name` of `namespace`.
pub fn delete(state: &AppState, who: &Identity, namespace: &str, name: &str) -> Result<(), Fault> {
    write(state, |t| tags::delete(t, who, namespace, name))
}
