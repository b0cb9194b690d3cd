//! The state loaded (seeded): a seed checked whole first, then applied.
//! [`load`] takes a [`StateDump`] value; the `/_mock/state` handler
//! parses a [`Seed`] that borrows the inline data from the request body,
//! checks it ([`check_seed`], which decodes the base64), lets the body
//! go, and applies the result ([`load_checked`]).

use std::collections::{BTreeSet, HashSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use futures::StreamExt;

use super::{records_failed, remove, stores};
use crate::config::HashAlgorithm;
use crate::control::{Seed, SeedError, StateDump};
use crate::domain::Image;
use crate::domain::tasks::Task;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::digest::Hasher;

/// Whether `id` is a UUID spelt with hex digits and hyphens only, so it is
/// safe as a file name.
fn valid_data_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok() && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// A checked data entry, ready to apply.
#[derive(Debug)]
struct Blob {
    store: String,
    image_id: String,
    /// The bytes to write; `None` keeps what the store holds.
    content: Option<Bytes>,
}

/// A seed found loadable by [`check_seed`]: its records, and its inline
/// data decoded (held in memory until [`load_checked`] writes it).
#[derive(Debug)]
pub struct CheckedSeed {
    images: Vec<Image>,
    tasks: Vec<Task>,
    blobs: Vec<Blob>,
    identities: Option<crate::keystone::Directory>,
}

/// Check every entry of `seed` against `state` without changing anything,
/// decoding the inline data (each entry's base64 is dropped once decoded).
pub async fn check_seed(state: &AppState, seed: Seed<'_>) -> Result<CheckedSeed, SeedError> {
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
    for entry in seed.data {
        let (image, store_id) = (&entry.image_id, &entry.store);
        if !valid_data_id(image) {
            return Err(SeedError::InvalidId(image.clone()));
        }
        let Some((_, store)) = stores.iter().find(|(id, _)| id == store_id) else {
            return Err(SeedError::UnknownStore(store_id.clone()));
        };
        if !placed.insert((store_id.clone(), image.clone())) {
            return Err(SeedError::Duplicate(format!(
                "data of image {image} in store {store_id}"
            )));
        }
        let mismatch = |what| SeedError::Mismatch {
            what,
            image: image.clone(),
            store: store_id.clone(),
        };
        let content = match entry.content_base64 {
            Some(b64) => {
                let bytes = BASE64
                    .decode(b64.as_bytes())
                    .map_err(|_| SeedError::Base64(image.clone(), store_id.clone()))?;
                drop(b64);
                if bytes.len() as u64 != entry.size {
                    return Err(mismatch("size"));
                }
                let given = |h: &Option<String>, actual: String| {
                    h.as_ref().is_some_and(|h| !h.eq_ignore_ascii_case(&actual))
                };
                let hex_of = |algo| Hasher::hex_of(algo, &bytes).map_err(StoreError::Io);
                if given(&entry.md5, hex_of(HashAlgorithm::Md5)?) {
                    return Err(mismatch("md5"));
                }
                if given(&entry.sha512, hex_of(HashAlgorithm::Sha512)?) {
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
            store: entry.store,
            image_id: entry.image_id,
            content,
        });
    }
    Ok(CheckedSeed {
        images: seed.images,
        tasks: seed.tasks,
        blobs,
        identities: seed.identities,
    })
}

/// Replace the state of `state` by `seed` (see [`crate::control::dump`]).
pub async fn load(state: &AppState, seed: StateDump) -> Result<(), SeedError> {
    let checked = check_seed(state, Seed::from(seed)).await?;
    load_checked(state, checked).await
}

/// Replace the state of `state` by a seed [`check_seed`] accepted. Each
/// blob's bytes are let go once written (a memory store keeps them).
pub async fn load_checked(state: &AppState, seed: CheckedSeed) -> Result<(), SeedError> {
    let CheckedSeed {
        images,
        tasks,
        mut blobs,
        identities,
    } = seed;
    state.keystone.restore(identities);
    state.repo.images.reset().map_err(records_failed)?;
    state.repo.tasks.reset().map_err(records_failed)?;
    state.queue.clear();
    for (store_id, store) in stores(state) {
        let kept: BTreeSet<String> = blobs
            .iter()
            .filter(|b| b.store == store_id && b.content.is_none())
            .map(|b| b.image_id.clone())
            .collect();
        // Only the store's own data is listed, so only it is removed.
        for id in store.image_ids().await? {
            if !kept.contains(&id) {
                remove(store.as_ref(), &id).await?;
            }
        }
        // Data a previous version of the mock left, referred to by the seed.
        let kept: Vec<String> = kept.into_iter().collect();
        store.adopt(&kept).await?;
        let (here, others): (Vec<Blob>, Vec<Blob>) =
            blobs.into_iter().partition(|b| b.store == store_id);
        blobs = others;
        for blob in here {
            if let Some(content) = blob.content {
                let data = futures::stream::iter([Ok(content)]).boxed();
                store.add(&blob.image_id, data, None, u64::MAX).await?;
            }
        }
    }
    for image in images {
        // Ids were checked unique and the table is empty.
        state
            .repo
            .images
            .image_create(image)
            .map_err(records_failed)?;
    }
    for task in tasks {
        // Ids were checked unique too.
        state.repo.tasks.task_create(task).map_err(records_failed)?;
    }
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
