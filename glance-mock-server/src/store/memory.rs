//! A store keeping each image's bytes in memory, as the chunks they
//! arrived in: reference-counted buffers, never copied. A capacity, when
//! set, bounds the bytes it holds: an upload that would go over it fails
//! with [`StoreError::StorageFull`], as a full disk does.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, stream};

use super::ingest::{ChunkSink, ingest};
use super::{DataStream, ImageData, ImageStore, StoreError, Stored};
use crate::config::HashAlgorithm;

/// One image's bytes: its chunks in order.
#[derive(Debug, Default)]
struct Blob {
    chunks: Vec<Bytes>,
    len: u64,
}

impl Blob {
    /// The bytes in `start..end` (within the blob) as zero-copy slices.
    fn span(&self, start: u64, end: u64) -> Vec<Bytes> {
        let mut out = Vec::new();
        let mut at = 0u64;
        for chunk in &self.chunks {
            let (from, to) = (at, at + chunk.len() as u64);
            at = to;
            if to <= start || from >= end {
                continue;
            }
            // Both bounds fall inside this chunk, so they fit in usize.
            let lo = (start.max(from) - from) as usize;
            let hi = (end.min(to) - from) as usize;
            out.push(chunk.slice(lo..hi));
        }
        out
    }
}

/// The bytes a store holds or is being sent, against its capacity.
#[derive(Debug, Default)]
struct Usage {
    used: AtomicU64,
    capacity: Option<u64>,
}

/// An upload on its way into the store: its bytes counted against the
/// capacity as they arrive, and given back if it never gets in.
struct Pending {
    blob: Blob,
    usage: Arc<Usage>,
    counted: u64,
}

impl Pending {
    /// The upload is in: its bytes stay counted, now as the blob's.
    fn commit(mut self) -> Blob {
        self.counted = 0;
        std::mem::take(&mut self.blob)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.usage.used.fetch_sub(self.counted, Ordering::AcqRel);
    }
}

impl ChunkSink for Pending {
    fn write(&mut self, chunk: Bytes) -> io::Result<()> {
        let n = chunk.len() as u64;
        let before = self.usage.used.fetch_add(n, Ordering::AcqRel);
        self.counted += n;
        if self
            .usage
            .capacity
            .is_some_and(|cap| before.saturating_add(n) > cap)
        {
            return Err(io::ErrorKind::StorageFull.into());
        }
        self.blob.write(chunk)
    }
}

/// Image bytes in memory, by image id.
#[derive(Debug, Default)]
pub struct MemoryStore {
    blobs: RwLock<HashMap<String, Arc<Blob>>>,
    hashing: HashAlgorithm,
    usage: Arc<Usage>,
}

impl MemoryStore {
    /// The same store computing `os_hash_value` with `algo` (default sha512).
    pub fn hashing(mut self, algo: HashAlgorithm) -> Self {
        self.hashing = algo;
        self
    }

    /// The same store holding at most `bytes` (`None`: no bound). Uploads
    /// in flight count as they arrive, so concurrent ones cannot together
    /// go over it.
    pub fn capacity(mut self, bytes: Option<u64>) -> Self {
        self.usage = Arc::new(Usage {
            used: AtomicU64::new(self.usage.used.load(Ordering::Acquire)),
            capacity: bytes,
        });
        self
    }

    /// Bytes held (and being uploaded) now.
    pub fn used(&self) -> u64 {
        self.usage.used.load(Ordering::Acquire)
    }

    fn blob(&self, image_id: &str) -> Option<Arc<Blob>> {
        self.blobs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(image_id)
            .cloned()
    }
}

impl ChunkSink for Blob {
    fn write(&mut self, chunk: Bytes) -> std::io::Result<()> {
        self.len += chunk.len() as u64;
        if !chunk.is_empty() {
            self.chunks.push(chunk);
        }
        Ok(())
    }
}

impl ImageStore for MemoryStore {
    fn add<'a>(
        &'a self,
        image_id: &'a str,
        data: DataStream,
        expected_size: Option<i64>,
        size_cap: u64,
    ) -> BoxFuture<'a, Result<Stored, StoreError>> {
        async move {
            if self.blob(image_id).is_some() {
                return Err(StoreError::Duplicate(image_id.to_owned()));
            }
            let pending = Pending {
                blob: Blob::default(),
                usage: self.usage.clone(),
                counted: 0,
            };
            let (stored, pending) =
                ingest(data, expected_size, size_cap, self.hashing, pending).await?;
            let mut blobs = self.blobs.write().unwrap_or_else(|p| p.into_inner());
            if blobs.contains_key(image_id) {
                return Err(StoreError::Duplicate(image_id.to_owned()));
            }
            blobs.insert(image_id.to_owned(), Arc::new(pending.commit()));
            Ok(stored)
        }
        .boxed()
    }

    fn get<'a>(
        &'a self,
        image_id: &'a str,
        offset: u64,
        len: Option<u64>,
    ) -> BoxFuture<'a, Result<ImageData, StoreError>> {
        async move {
            let blob = self
                .blob(image_id)
                .ok_or_else(|| StoreError::NotFound(image_id.to_owned()))?;
            let start = offset.min(blob.len);
            let end = len.map_or(blob.len, |n| start.saturating_add(n).min(blob.len));
            let parts = blob.span(start, end);
            Ok(ImageData {
                len: end - start,
                stream: stream::iter(parts.into_iter().map(Ok)).boxed(),
            })
        }
        .boxed()
    }

    fn delete<'a>(&'a self, image_id: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            self.blobs
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .remove(image_id)
                .map(|blob| {
                    self.usage.used.fetch_sub(blob.len, Ordering::AcqRel);
                })
                .ok_or_else(|| StoreError::NotFound(image_id.to_owned()))
        }
        .boxed()
    }

    fn get_size<'a>(&'a self, image_id: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        async move {
            self.blob(image_id)
                .map(|b| b.len)
                .ok_or_else(|| StoreError::NotFound(image_id.to_owned()))
        }
        .boxed()
    }

    fn image_ids(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        async move {
            let mut ids: Vec<String> = self
                .blobs
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .keys()
                .cloned()
                .collect();
            ids.sort();
            Ok(ids)
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{collect, data_stream};

    #[tokio::test]
    async fn keeps_whole_uploads_and_serves_spans() {
        let store = MemoryStore::default();
        let stored = store
            .add("i", data_stream(b"hello world", 4), Some(11), 100)
            .await
            .expect("stored");
        assert_eq!(stored.size, 11);
        assert_eq!(store.get_size("i").await.expect("size"), 11);
        let got = store.get("i", 6, Some(3)).await.expect("span");
        assert_eq!(got.len, 3);
        assert_eq!(collect(got.stream).await, b"wor");
        let rest = store.get("i", 6, Some(100)).await.expect("clamped");
        assert_eq!(collect(rest.stream).await, b"world");
        // Spans across the chunks the data arrived in.
        for start in 0..11u64 {
            for n in 0..12u64 {
                let got = store.get("i", start, Some(n)).await.expect("span");
                let want = &b"hello world"[start as usize..(start + n).min(11) as usize];
                assert_eq!(got.len, want.len() as u64);
                assert_eq!(collect(got.stream).await, want);
            }
        }
        assert!(matches!(
            store.add("i", data_stream(b"x", 1), None, 100).await,
            Err(StoreError::Duplicate(_))
        ));
        store.delete("i").await.expect("deleted");
        assert!(store.get_size("i").await.expect_err("gone").is_not_found());
    }

    #[tokio::test]
    async fn failed_uploads_leave_nothing() {
        let store = MemoryStore::default();
        let err = store
            .add("i", data_stream(b"hello world", 4), Some(5), 100)
            .await
            .expect_err("size exceeds");
        assert!(matches!(err, StoreError::SizeExceeds { .. }));
        assert!(store.get_size("i").await.is_err());
        let err = store
            .add("i", data_stream(b"hello world", 4), None, 10)
            .await
            .expect_err("too large");
        assert!(matches!(err, StoreError::TooLarge));
        assert!(store.get_size("i").await.is_err());
    }

    #[tokio::test]
    async fn a_capacity_bounds_what_is_held_and_failures_give_room_back() {
        let store = MemoryStore::default().capacity(Some(10));
        store
            .add("a", data_stream(b"123456", 2), None, 100)
            .await
            .expect("fits");
        let err = store
            .add("b", data_stream(b"12345", 2), None, 100)
            .await
            .expect_err("over capacity");
        assert!(matches!(err, StoreError::StorageFull), "{err:?}");
        assert!(store.get_size("b").await.is_err(), "nothing half-stored");
        assert_eq!(store.used(), 6, "the failed upload's bytes are given back");
        store
            .add("c", data_stream(b"1234", 2), None, 100)
            .await
            .expect("exactly full");
        assert_eq!(store.used(), 10);
        store.delete("a").await.expect("deleted");
        assert_eq!(store.used(), 4);
        store
            .add("b", data_stream(b"12345", 2), None, 100)
            .await
            .expect("room again");
        // A refused upload for an id already held gives its bytes back too.
        let err = store
            .add("c", data_stream(b"x", 1), None, 100)
            .await
            .expect_err("duplicate");
        assert!(matches!(err, StoreError::Duplicate(_)));
        assert_eq!(store.used(), 9);
    }
}
