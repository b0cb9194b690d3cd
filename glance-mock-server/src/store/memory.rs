//! Image data held in memory, one immutable buffer per (store, image).

use std::collections::HashMap;
use std::sync::RwLock;

use bytes::Bytes;

/// Bytes of every image in every store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    blobs: RwLock<HashMap<(String, String), Bytes>>,
}

impl MemoryStore {
    /// Store `data` as the image's bytes in `store`.
    pub fn put(&self, store: &str, image_id: &str, data: Bytes) {
        self.blobs
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert((store.to_owned(), image_id.to_owned()), data);
    }

    /// The image's bytes in `store`, if any (a cheap reference-counted clone).
    pub fn get(&self, store: &str, image_id: &str) -> Option<Bytes> {
        self.blobs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(store.to_owned(), image_id.to_owned()))
            .cloned()
    }

    /// Drop the image's bytes from `store`.
    pub fn delete(&self, store: &str, image_id: &str) {
        self.blobs
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(store.to_owned(), image_id.to_owned()));
    }
}
