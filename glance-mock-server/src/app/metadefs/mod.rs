//! Metadata definitions (Glance's `glance.api.v2.metadef_*` controllers):
//! each use case reads a snapshot of the [`Tables`] or changes them as one
//! transaction, applying the rules of [`crate::domain::metadefs`]. Request
//! bodies are read (Glance's deserializers) before these run.
//!
//! One module per controller: [`namespaces`], [`objects`], [`properties`],
//! [`tags`]; the resource types (`ResourceTypeController`) are here.

pub mod namespaces;
pub mod objects;
pub mod properties;
pub mod tags;

use std::sync::Arc;

use serde_json::Value;

use crate::domain::metadefs::Tables;
use crate::domain::metadefs::resource_types::{self, AssociationBody};
use crate::domain::{Fault, Identity, time};
use crate::state::AppState;

/// The tables as they are now, for a use case that only reads.
fn read(state: &AppState) -> Result<Arc<Tables>, Fault> {
    state
        .repo
        .metadefs
        .snapshot()
        .map_err(crate::app::records::unhandled)
}

/// Run `change` on the tables as one transaction: if it fails, nothing
/// it changed stays.
fn write<T>(
    state: &AppState,
    mut change: impl FnMut(&mut Tables) -> Result<T, Fault>,
) -> Result<T, Fault> {
    let mut out = None;
    state.repo.metadefs.transaction(&mut |t| {
        out = Some(change(t)?);
        Ok(())
    })?;
    out.ok_or_else(Fault::internal)
}

/// Run `steps` as Glance runs a use case whose steps each commit on their
/// own (a namespace create: the namespace, then each resource type and
/// association, object, tag and property): what the steps did before a
/// refusal stays, except what the domain rule itself cleans up as Glance
/// does. Still one transaction for other requests: none sees a half.
fn write_steps<T>(
    state: &AppState,
    mut steps: impl FnMut(&mut Tables) -> Result<T, Fault>,
) -> Result<T, Fault> {
    let mut out = None;
    state.repo.metadefs.transaction(&mut |t| {
        out = Some(steps(t));
        Ok(())
    })?;
    out.unwrap_or_else(|| Err(Fault::internal()))
}

/// `ResourceTypeController.index`: every resource type.
pub fn list_resource_types(state: &AppState, who: &Identity) -> Result<Value, Fault> {
    resource_types::list(&*read(state)?, who)
}

/// `ResourceTypeController.show`: `namespace`'s resource type
/// associations.
pub fn list_associations(
    state: &AppState,
    who: &Identity,
    namespace: &str,
) -> Result<Value, Fault> {
    resource_types::associations(&*read(state)?, who, namespace)
}

/// `ResourceTypeController.create`: associate `namespace` with a resource
/// type (created if new).
pub fn create_association(
    state: &AppState,
    who: &Identity,
    namespace: &str,
    association: &AssociationBody,
) -> Result<Value, Fault> {
    write(state, |t| {
        resource_types::create(t, who, namespace, association, time::now())
    })
}

/// `ResourceTypeController.delete`: end `namespace`'s association with
/// `resource_type`.
pub fn delete_association(
    state: &AppState,
    who: &Identity,
    namespace: &str,
    resource_type: &str,
) -> Result<(), Fault> {
    write(state, |t| {
        resource_types::delete(t, who, namespace, resource_type)
    })
}
