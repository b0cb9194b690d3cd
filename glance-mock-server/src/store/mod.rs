//! Image bytes, kept per store with the semantics of `glance_store`'s
//! backend API: [`ImageStore::add`] takes a stream, hashes it once and
//! keeps it whole or not at all; [`ImageStore::get`] hands bytes back from
//! an offset; [`ImageStore::delete`] and [`ImageStore::get_size`] do what
//! their names say. [`Stores`] holds the configured stores by id.

#[cfg(test)]
mod conformance;
pub(crate) mod digest;
pub mod filesystem;
pub mod flock;
mod ingest;
pub mod memory;

use std::fmt::Debug;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;

pub use filesystem::FilesystemStore;
pub use memory::MemoryStore;

use crate::config::Config;

/// Image data in flight: chunks in order, or the reason the source failed
/// (a client that went away, or a limit a wrapper enforces).
pub type DataStream = BoxStream<'static, io::Result<Bytes>>;

pub use crate::domain::Stored;

/// Bytes read back from a store.
pub struct ImageData {
    /// How many bytes `stream` yields.
    pub len: u64,
    /// The bytes.
    pub stream: DataStream,
}

impl Debug for ImageData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageData").field("len", &self.len).finish()
    }
}

/// Why a store operation failed. Messages follow `glance_store` where
/// Glance shows them to clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store already holds data for this image (`Duplicate`).
    #[error("Image {0} already exists in the store")]
    Duplicate(String),
    /// The store holds no data for this image (`NotFound`).
    #[error("Image {0} not found in the store")]
    NotFound(String),
    /// More bytes arrived than the expected size (`Invalid`).
    #[error("Size exceeds: expected {expected} bytes, got {got} bytes")]
    SizeExceeds {
        /// The size announced with the upload.
        expected: i64,
        /// Bytes counted when the store noticed.
        got: u64,
    },
    /// Fewer bytes arrived than the expected size (`Invalid`).
    #[error("Size mismatch: expected {expected} bytes, got {got} bytes")]
    SizeMismatch {
        /// The size announced with the upload.
        expected: i64,
        /// Bytes received.
        got: u64,
    },
    /// More bytes than the size cap (Glance's `ImageSizeLimitExceeded`).
    #[error("The provided image is too large.")]
    TooLarge,
    /// The data stream failed; its error is passed on untouched so the
    /// caller can tell a client that went away from a limit it imposed.
    #[error("reading image data failed: {0}")]
    Source(#[source] io::Error),
    /// The store has no room left for the bytes (glance_store's
    /// `StorageFull`): its disk is full, or an in-memory store reached its
    /// configured capacity. Nothing of the upload is kept.
    #[error("There is not enough disk space on the image storage media.")]
    StorageFull,
    /// The store itself failed.
    #[error("store I/O failed: {0}")]
    Io(#[source] io::Error),
}

impl StoreError {
    /// The store's own I/O failure `e`: [`StoreError::StorageFull`] when it
    /// says there is no room (no space left, quota exceeded), otherwise
    /// [`StoreError::Io`].
    pub fn from_io(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => StoreError::StorageFull,
            _ => StoreError::Io(e),
        }
    }

    /// Whether the error is the store's `NotFound`.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound(_))
    }
}

/// One image store (a `glance_store` backend).
///
/// Every operation is keyed by image id; a store holds at most one blob
/// per image. Failed or abandoned `add`s leave nothing behind.
pub trait ImageStore: Debug + Send + Sync {
    /// Store `data` as the image's bytes, computing md5 and the multihash in the
    /// same pass. `expected_size` is the size the client announced, checked
    /// both ways as `glance_store` does (`Some(0)` counts as unknown, and a
    /// negative one is exceeded by any data); more than `size_cap` bytes fails with
    /// [`StoreError::TooLarge`]. Fails with [`StoreError::Duplicate`] if the
    /// image already has data here. On any error nothing is kept, and the
    /// same holds if the returned future is dropped half-way.
    fn add<'a>(
        &'a self,
        image_id: &'a str,
        data: DataStream,
        expected_size: Option<i64>,
        size_cap: u64,
    ) -> BoxFuture<'a, Result<Stored, StoreError>>;

    /// The image's bytes from `offset`, at most `len` of them (all the
    /// rest when `None`); a span past the end is cut short.
    fn get<'a>(
        &'a self,
        image_id: &'a str,
        offset: u64,
        len: Option<u64>,
    ) -> BoxFuture<'a, Result<ImageData, StoreError>>;

    /// Remove the image's bytes; [`StoreError::NotFound`] if there are none.
    fn delete<'a>(&'a self, image_id: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// How many bytes the store holds for the image.
    fn get_size<'a>(&'a self, image_id: &'a str) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// The ids of every image the store holds data for, sorted (what the
    /// control plane dumps and resets). Only data the store wrote (or
    /// adopted): never a file someone else put in its directory.
    fn image_ids(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;

    /// How many bytes a seed's by-reference entry for the image finds
    /// here: [`ImageStore::get_size`], plus, for a store that only claims
    /// the files it wrote, data an earlier version of the mock left without
    /// a record (see [`filesystem`]). Changes nothing.
    fn seed_size<'a>(&'a self, image_id: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        self.get_size(image_id)
    }

    /// Remove what uploads in flight left when the process that ran them
    /// died (temporary files): run on start, before anything is written.
    /// Returns how many were removed. Image data, the store's own or
    /// not, is never touched; by default there is nothing to do.
    fn remove_leftovers(&self) -> BoxFuture<'_, Result<usize, StoreError>> {
        async { Ok(0) }.boxed()
    }

    /// Take the data [`ImageStore::seed_size`] found for these images as
    /// the store's own, so that later resets, seeds and deletions may
    /// remove it. Data already the store's is left as it is; by default
    /// there is nothing to do.
    fn adopt<'a>(&'a self, image_ids: &'a [String]) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = image_ids;
        async { Ok(()) }.boxed()
    }
}

/// The staging area (`os_glance_staging_store`): a [`FilesystemStore`] in
/// `tasks.staging_dir` when configured, else a [`MemoryStore`].
pub fn staging_store(config: &Config) -> Arc<dyn ImageStore> {
    match &config.tasks.staging_dir {
        Some(dir) => Arc::new(FilesystemStore::new(dir.clone()).hashing(config.hashing_algorithm)),
        None => Arc::new(
            MemoryStore::default()
                .hashing(config.hashing_algorithm)
                .capacity(config.tasks.staging_capacity),
        ),
    }
}

/// The configured stores, by id, in configuration order.
#[derive(Debug, Clone)]
pub struct Stores {
    stores: Vec<(String, Arc<dyn ImageStore>)>,
}

impl Stores {
    /// One store per configured entry: a [`FilesystemStore`] where a
    /// `data_dir` is given, else a [`MemoryStore`].
    pub fn from_config(config: &Config) -> Self {
        let stores = config
            .stores
            .iter()
            .map(|s| {
                let store: Arc<dyn ImageStore> = match &s.data_dir {
                    Some(dir) => Arc::new(
                        FilesystemStore::new(dir.clone()).hashing(config.hashing_algorithm),
                    ),
                    None => Arc::new(
                        MemoryStore::default()
                            .hashing(config.hashing_algorithm)
                            .capacity(s.capacity),
                    ),
                };
                (s.id.clone(), store)
            })
            .collect();
        Stores { stores }
    }

    /// Every store with its id, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<dyn ImageStore>)> {
        self.stores.iter().map(|(id, s)| (id.as_str(), s))
    }

    /// The store with this id.
    pub fn get(&self, store_id: &str) -> Option<&Arc<dyn ImageStore>> {
        self.stores
            .iter()
            .find(|(id, _)| id == store_id)
            .map(|(_, s)| s)
    }

    /// Whether store `store_id` holds data for `image_id`.
    pub async fn holds(&self, store_id: &str, image_id: &str) -> bool {
        match self.get(store_id) {
            Some(store) => store.get_size(image_id).await.is_ok(),
            None => false,
        }
    }

    /// Best-effort removal of an image's bytes from a store, as Glance
    /// does when it deletes an image: data already gone is fine, other
    /// failures are logged.
    pub async fn delete(&self, store_id: &str, image_id: &str) {
        let Some(store) = self.get(store_id) else {
            return;
        };
        match store.delete(image_id).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => tracing::warn!("deleting image {image_id} from store {store_id}: {e}"),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::StoreConfig;
    use futures::{StreamExt, stream};

    /// `data` as a stream of `chunk`-byte pieces.
    pub(crate) fn data_stream(data: &[u8], chunk: usize) -> DataStream {
        let pieces: Vec<io::Result<Bytes>> = data
            .chunks(chunk.max(1))
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        stream::iter(pieces).boxed()
    }

    /// Everything a stream yields.
    pub(crate) async fn collect(mut stream: DataStream) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.expect("readable"));
        }
        out
    }

    #[tokio::test]
    async fn the_memory_store_passes_the_conformance_suite() {
        super::conformance::run(&MemoryStore::default()).await;
    }

    #[tokio::test]
    async fn the_filesystem_store_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().expect("temp dir");
        super::conformance::run(&FilesystemStore::new(dir.path().join("store"))).await;
    }

    #[test]
    fn stores_follow_the_configuration() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config {
            stores: vec![
                StoreConfig::memory("mem", "in memory"),
                StoreConfig::filesystem("disk", "on disk", dir.path()),
            ],
            ..Config::default()
        };
        let stores = Stores::from_config(&config);
        assert!(format!("{:?}", stores.get("mem")).contains("MemoryStore"));
        assert!(format!("{:?}", stores.get("disk")).contains("FilesystemStore"));
        assert!(stores.get("fast").is_none());
    }
}
