//! The control plane's operations: the state dumped ([`mod@dump`]), loaded
//! (seeded, [`mod@seed`]) and reset (the document and its rules are in
//! [`crate::control::dump`]), fault rules and the request journal. The
//! `/_mock` routes and [`crate::MockServer`]'s methods both call these.

use std::sync::Arc;

use serde::Serialize;

use crate::control::{
    Control, FaultRule, InstalledFault, InvalidFault, JournalEntry, STAGING_STORE,
};
use crate::domain::tasks::Task;
use crate::state::AppState;
use crate::store::{ImageStore, StoreError};

pub mod dump;
pub mod seed;

pub use dump::{dump, dump_json};
pub use seed::{CheckedSeed, check_seed, load, load_checked};

/// A few counts, for `GET /_mock/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Health {
    /// Live images.
    pub images: usize,
    /// Tasks waiting for a manual step.
    pub tasks_waiting: usize,
    /// Installed fault rules.
    pub faults: usize,
    /// Journal entries.
    pub requests: usize,
}

/// The counts [`Health`] reports.
pub fn health(state: &AppState) -> Result<Health, crate::db::RepoError> {
    Ok(Health {
        images: state.repo.images.image_scan(false)?.len(),
        tasks_waiting: state.queue.waiting(),
        faults: state.control.faults.list().len(),
        requests: state.control.journal.len(),
    })
}

/// Install a fault rule (checked first).
pub fn add_fault(control: &Control, rule: FaultRule) -> Result<InstalledFault, InvalidFault> {
    control.faults.add(rule)
}

/// The installed fault rules, oldest first.
pub fn faults(control: &Control) -> Vec<InstalledFault> {
    control.faults.list()
}

/// Remove fault rule `id`; whether there was one.
pub fn remove_fault(control: &Control, id: &str) -> bool {
    control.faults.remove(id)
}

/// Remove every fault rule.
pub fn clear_faults(control: &Control) {
    control.faults.clear();
}

/// The journal's entries, oldest first.
pub fn requests(control: &Control) -> Vec<JournalEntry> {
    control.journal.entries()
}

/// Task `id` as it is now (after a manual step, say).
pub fn task(state: &AppState, id: &str) -> Option<Arc<Task>> {
    state.repo.tasks.task_get(id, true).ok()
}

/// Empty the journal (its sequence numbers count on).
pub fn clear_requests(control: &Control) {
    control.journal.clear();
}

/// The stores of `state` with their dump names, staging last.
pub(super) fn stores(state: &AppState) -> Vec<(String, Arc<dyn ImageStore>)> {
    state
        .store
        .iter()
        .map(|(id, s)| (id.to_owned(), s.clone()))
        .chain(std::iter::once((
            STAGING_STORE.to_owned(),
            state.staging.clone(),
        )))
        .collect()
}

/// Delete the image's bytes from `store`; bytes already gone are fine.
/// A control call that could not read or write the records fails as
/// storage does (a 500 naming the cause).
pub(super) fn records_failed(e: crate::db::RepoError) -> StoreError {
    StoreError::Io(std::io::Error::other(e))
}

pub(super) async fn remove(store: &dyn ImageStore, id: &str) -> Result<(), StoreError> {
    match store.delete(id).await {
        Err(e) if !e.is_not_found() => Err(e),
        _ => Ok(()),
    }
}

/// Back to a fresh start: no images, tasks, image data, staged data,
/// waiting tasks, metadata definitions, fault rules, journal entries,
/// image cache entries or served files.
/// The Keystone shim's identities are the configured ones again: tokens
/// of users and projects created through its API stop working, the
/// others stay valid, and so do files in a store's directory that the
/// store did not write.
pub async fn reset(state: &AppState) -> Result<(), StoreError> {
    state.keystone.restore(None);
    state.repo.images.reset().map_err(records_failed)?;
    state.repo.tasks.reset().map_err(records_failed)?;
    state.repo.metadefs.reset().map_err(records_failed)?;
    state.queue.clear();
    for (_, store) in stores(state) {
        for id in store.image_ids().await? {
            remove(store.as_ref(), &id).await?;
        }
    }
    state.control.faults.clear();
    state.control.journal.clear();
    state.control.files.clear();
    state.cache.clear_cached();
    state.cache.clear_queued();
    Ok(())
}
