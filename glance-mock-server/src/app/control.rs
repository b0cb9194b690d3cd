//! The control plane's operations: the state dumped, loaded (seeded) and
//! reset (the document and its rules are in [`crate::control::dump`]),
//! fault rules and the request journal. The `/_mock` routes and
//! [`crate::MockServer`]'s methods both call these.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use futures::StreamExt;
use md5::{Digest, Md5};
use serde::Serialize;

use crate::control::{
    Control, DataMode, FaultRule, InstalledFault, InvalidFault, JournalEntry, STAGING_STORE,
    SeedError, StateDump, StoredData,
};
use crate::domain::Image;
use crate::domain::tasks::Task;
use crate::state::AppState;
use crate::store::{ImageStore, StoreError};

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
pub fn health(state: &AppState) -> Health {
    Health {
        images: state.db.all().len(),
        tasks_waiting: state.queue.waiting(),
        faults: state.control.faults.list().len(),
        requests: state.control.journal.len(),
    }
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
    state.tasks.get(id)
}

/// Empty the journal (its sequence numbers count on).
pub fn clear_requests(control: &Control) {
    control.journal.clear();
}

/// The stores of `state` with their dump names, staging last.
fn stores(state: &AppState) -> Vec<(String, Arc<dyn ImageStore>)> {
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

/// Whether `id` is a UUID spelt with hex digits and hyphens only, so it is
/// safe as a file name.
fn valid_data_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok() && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// The state of `state` now.
pub async fn dump(state: &AppState, mode: DataMode) -> Result<StateDump, StoreError> {
    let mut images: Vec<Arc<crate::domain::Image>> = state.db.all_with_deleted();
    images.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let by_id: BTreeMap<&str, &Image> = images.iter().map(|i| (i.id.as_str(), &**i)).collect();
    let mut data = Vec::new();
    for (store_id, store) in stores(state) {
        for image_id in store.image_ids().await? {
            let known = by_id.get(image_id.as_str()).and_then(|img| {
                // The record's hash is the dump's sha512 only when the
                // deployment's hashing_algorithm is sha512.
                let holds =
                    img.stores.contains(&store_id) && img.os_hash_algo.as_deref() == Some("sha512");
                match (&img.checksum, &img.os_hash_value) {
                    (Some(md5), Some(sha)) if holds => Some((md5.clone(), sha.clone())),
                    _ => None,
                }
            });
            data.push(describe(&store_id, store.as_ref(), image_id, known, mode).await?);
        }
    }
    Ok(StateDump {
        images: images.iter().map(|i| Image::clone(i)).collect(),
        tasks: state.tasks.all().iter().map(|t| Task::clone(t)).collect(),
        data,
    })
}

/// One blob's entry: hashes from the image record when it has them (no
/// need to read the bytes), else read and hashed.
async fn describe(
    store_id: &str,
    store: &dyn ImageStore,
    image_id: String,
    known: Option<(String, String)>,
    mode: DataMode,
) -> Result<StoredData, StoreError> {
    if let (Some((md5, sha512)), DataMode::Reference) = (&known, mode) {
        return Ok(StoredData {
            store: store_id.to_owned(),
            size: store.get_size(&image_id).await?,
            image_id,
            md5: Some(md5.clone()),
            sha512: Some(sha512.clone()),
            content_base64: None,
        });
    }
    let mut stream = store.get(&image_id, 0, None).await?.stream;
    let (mut md5, mut sha512, mut size) = (
        Md5::new(),
        aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA512),
        0u64,
    );
    let mut content = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(StoreError::Io)?;
        md5.update(&chunk);
        sha512.update(&chunk);
        size += chunk.len() as u64;
        if mode == DataMode::Inline {
            content.extend_from_slice(&chunk);
        }
    }
    Ok(StoredData {
        store: store_id.to_owned(),
        image_id,
        size,
        md5: Some(hex::encode(md5.finalize())),
        sha512: Some(hex::encode(sha512.finish().as_ref())),
        content_base64: (mode == DataMode::Inline).then(|| BASE64.encode(&content)),
    })
}

/// A checked data entry, ready to apply.
struct Blob {
    store: String,
    image_id: String,
    /// The bytes to write; `None` keeps what the store holds.
    content: Option<Bytes>,
}

/// Check every entry of `seed` against `state` without changing anything.
async fn check(state: &AppState, seed: &StateDump) -> Result<Vec<Blob>, SeedError> {
    let mut seen = HashSet::new();
    for image in &seed.images {
        if !seen.insert(("image", image.id.as_str())) {
            return Err(SeedError::Duplicate(format!("image {}", image.id)));
        }
    }
    for task in &seed.tasks {
        if !seen.insert(("task", task.id.as_str())) {
            return Err(SeedError::Duplicate(format!("task {}", task.id)));
        }
    }
    let stores = stores(state);
    let mut blobs = Vec::new();
    let mut placed = BTreeSet::new();
    for entry in &seed.data {
        let (image, store_id) = (&entry.image_id, &entry.store);
        if !valid_data_id(image) {
            return Err(SeedError::InvalidId(image.clone()));
        }
        let Some((_, store)) = stores.iter().find(|(id, _)| id == store_id) else {
            return Err(SeedError::UnknownStore(store_id.clone()));
        };
        if !placed.insert((store_id.as_str(), image.as_str())) {
            return Err(SeedError::Duplicate(format!(
                "data of image {image} in store {store_id}"
            )));
        }
        let mismatch = |what| SeedError::Mismatch {
            what,
            image: image.clone(),
            store: store_id.clone(),
        };
        let content = match &entry.content_base64 {
            Some(b64) => {
                let bytes = BASE64
                    .decode(b64)
                    .map_err(|_| SeedError::Base64(image.clone(), store_id.clone()))?;
                if bytes.len() as u64 != entry.size {
                    return Err(mismatch("size"));
                }
                let given = |h: &Option<String>, actual: String| {
                    h.as_ref().is_some_and(|h| !h.eq_ignore_ascii_case(&actual))
                };
                if given(&entry.md5, hex::encode(Md5::digest(&bytes))) {
                    return Err(mismatch("md5"));
                }
                if given(
                    &entry.sha512,
                    hex::encode(
                        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, &bytes).as_ref(),
                    ),
                ) {
                    return Err(mismatch("sha512"));
                }
                Some(Bytes::from(bytes))
            }
            None => {
                if store.seed_size(image).await.ok() != Some(entry.size) {
                    return Err(SeedError::MissingData {
                        store: store_id.clone(),
                        image: image.clone(),
                        size: entry.size,
                    });
                }
                None
            }
        };
        blobs.push(Blob {
            store: store_id.clone(),
            image_id: image.clone(),
            content,
        });
    }
    Ok(blobs)
}

/// Replace the state of `state` by `seed` (see the module docs).
pub async fn load(state: &AppState, seed: StateDump) -> Result<(), SeedError> {
    let blobs = check(state, &seed).await?;
    state.db.reset();
    state.tasks.reset();
    state.queue.clear();
    for (store_id, store) in stores(state) {
        let kept: BTreeSet<&str> = blobs
            .iter()
            .filter(|b| b.store == store_id && b.content.is_none())
            .map(|b| b.image_id.as_str())
            .collect();
        // Only the store's own data is listed, so only it is removed.
        for id in store.image_ids().await? {
            if !kept.contains(id.as_str()) {
                remove(store.as_ref(), &id).await?;
            }
        }
        // Data a previous version of the mock left, referred to by the seed.
        let kept: Vec<String> = kept.into_iter().map(str::to_owned).collect();
        store.adopt(&kept).await?;
        for blob in blobs.iter().filter(|b| b.store == store_id) {
            if let Some(content) = &blob.content {
                let data = futures::stream::iter([Ok(content.clone())]).boxed();
                store.add(&blob.image_id, data, None, u64::MAX).await?;
            }
        }
    }
    for image in seed.images {
        // Ids were checked unique and the table is empty.
        let _ = state.db.create(image);
    }
    for task in seed.tasks {
        state.tasks.create(task);
    }
    Ok(())
}

async fn remove(store: &dyn ImageStore, id: &str) -> Result<(), StoreError> {
    match store.delete(id).await {
        Err(e) if !e.is_not_found() => Err(e),
        _ => Ok(()),
    }
}

/// Back to a fresh start: no images, tasks, image data, staged data,
/// waiting tasks, metadata definitions, fault rules, journal entries,
/// image cache entries or served files.
/// Tokens the Keystone shim issued stay valid, and so do files in a store's
/// directory that the store did not write.
pub async fn reset(state: &AppState) -> Result<(), StoreError> {
    state.db.reset();
    state.tasks.reset();
    state.metadefs.reset();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_uuids_name_files() {
        assert!(valid_data_id("0b8e4b3c-5c36-4d6b-9b5e-0d3c2f1a9e77"));
        assert!(valid_data_id("0b8e4b3c5c364d6b9b5e0d3c2f1a9e77"));
        assert!(!valid_data_id("../0b8e4b3c-5c36-4d6b-9b5e-0d3c2f1a9e77"));
        assert!(!valid_data_id("{0b8e4b3c-5c36-4d6b-9b5e-0d3c2f1a9e77}"));
        assert!(!valid_data_id(
            "urn:uuid:0b8e4b3c-5c36-4d6b-9b5e-0d3c2f1a9e77"
        ));
        assert!(!valid_data_id(""));
    }
}
