//! A store keeping one file per image in a directory, as `glance_store`'s
//! filesystem driver does (`<data_dir>/<image id>`). Uploads go to a
//! temporary file in the same directory and are renamed into place only
//! when complete, so a failed or abandoned upload leaves no file.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use tempfile::NamedTempFile;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::ingest::{ChunkSink, PIECE, ingest};
use super::{DataStream, ImageData, ImageStore, StoreError, Stored};
use crate::config::HashAlgorithm;

/// Write buffer for uploads: fewer, larger writes.
const WRITE_BUFFER: usize = 1 << 20;

/// Image files under one directory, created on first use.
#[derive(Debug)]
pub struct FilesystemStore {
    dir: PathBuf,
    hashing: HashAlgorithm,
}

impl FilesystemStore {
    /// A store keeping its files in `dir`.
    pub fn new(dir: PathBuf) -> Self {
        FilesystemStore {
            dir,
            hashing: HashAlgorithm::default(),
        }
    }

    /// The same store computing `os_hash_value` with `algo` (default sha512).
    pub fn hashing(mut self, algo: HashAlgorithm) -> Self {
        self.hashing = algo;
        self
    }

    /// The directory the store writes to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where an image's file lives, or `None` for an id that is not a
    /// plain file name (`..`, slashes): such an id can hold no data here.
    fn path(&self, image_id: &str) -> Option<PathBuf> {
        let plain = !image_id.is_empty()
            && image_id != "."
            && image_id != ".."
            && !image_id.contains(['/', '\\', '\0']);
        plain.then(|| self.dir.join(image_id))
    }
}

struct TempFileSink(BufWriter<NamedTempFile>);

impl ChunkSink for TempFileSink {
    fn write(&mut self, chunk: bytes::Bytes) -> io::Result<()> {
        self.0.write_all(&chunk)
    }
}

fn not_found(image_id: &str, e: io::Error) -> StoreError {
    if e.kind() == io::ErrorKind::NotFound {
        StoreError::NotFound(image_id.to_owned())
    } else {
        StoreError::Io(e)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(io::Error::other(e)))
}

impl ImageStore for FilesystemStore {
    fn add<'a>(
        &'a self,
        image_id: &'a str,
        data: DataStream,
        expected_size: Option<i64>,
        size_cap: u64,
    ) -> BoxFuture<'a, Result<Stored, StoreError>> {
        async move {
            let path = self.path(image_id).ok_or_else(|| {
                StoreError::Io(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{image_id:?} cannot name a file"),
                ))
            })?;
            if tokio::fs::try_exists(&path).await.map_err(StoreError::Io)? {
                return Err(StoreError::Duplicate(image_id.to_owned()));
            }
            let dir = self.dir.clone();
            let temp = blocking(move || {
                std::fs::create_dir_all(&dir)?;
                tempfile::Builder::new()
                    .prefix(".upload-")
                    .tempfile_in(&dir)
            })
            .await
            .map_err(StoreError::Io)?;
            let sink = TempFileSink(BufWriter::with_capacity(WRITE_BUFFER, temp));
            let (stored, TempFileSink(writer)) =
                ingest(data, expected_size, size_cap, self.hashing, sink).await?;
            let id = image_id.to_owned();
            blocking(move || {
                let temp = writer.into_inner().map_err(|e| e.into_error())?;
                // Never replaces a file that appeared meanwhile; the
                // temporary file is removed when this fails.
                temp.persist_noclobber(&path).map_err(|e| e.error)?;
                Ok(())
            })
            .await
            .map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    StoreError::Duplicate(id)
                } else {
                    StoreError::Io(e)
                }
            })?;
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
            let path = self
                .path(image_id)
                .ok_or_else(|| StoreError::NotFound(image_id.to_owned()))?;
            let mut file = tokio::fs::File::open(&path)
                .await
                .map_err(|e| not_found(image_id, e))?;
            let size = file.metadata().await.map_err(StoreError::Io)?.len();
            let start = offset.min(size);
            let end = len.map_or(size, |n| start.saturating_add(n).min(size));
            file.seek(io::SeekFrom::Start(start))
                .await
                .map_err(StoreError::Io)?;
            let reader = file.take(end - start);
            Ok(ImageData {
                len: end - start,
                stream: ReaderStream::with_capacity(reader, PIECE as usize).boxed(),
            })
        }
        .boxed()
    }

    fn delete<'a>(&'a self, image_id: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            let path = self
                .path(image_id)
                .ok_or_else(|| StoreError::NotFound(image_id.to_owned()))?;
            tokio::fs::remove_file(&path)
                .await
                .map_err(|e| not_found(image_id, e))
        }
        .boxed()
    }

    fn get_size<'a>(&'a self, image_id: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        async move {
            let path = self
                .path(image_id)
                .ok_or_else(|| StoreError::NotFound(image_id.to_owned()))?;
            let meta = tokio::fs::metadata(&path)
                .await
                .map_err(|e| not_found(image_id, e))?;
            Ok(meta.len())
        }
        .boxed()
    }

    fn image_ids(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        async move {
            let dir = self.dir.clone();
            blocking(move || {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    // Created on first upload: no directory, no data.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                    Err(e) => return Err(e),
                };
                let mut ids = Vec::new();
                for entry in entries {
                    let entry = entry?;
                    // Uploads in flight are dot files; they hold no image yet.
                    let Ok(name) = entry.file_name().into_string() else {
                        continue;
                    };
                    if !name.starts_with('.') && entry.file_type()?.is_file() {
                        ids.push(name);
                    }
                }
                ids.sort();
                Ok(ids)
            })
            .await
            .map_err(StoreError::Io)
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{collect, data_stream};
    use bytes::Bytes;
    use futures::stream;

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    #[tokio::test]
    async fn writes_one_file_per_image_and_reads_spans() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FilesystemStore::new(dir.path().join("fast"));
        let stored = store
            .add("img", data_stream(b"hello world", 3), None, 100)
            .await
            .expect("stored");
        assert_eq!(stored.md5, "5eb63bbbe01eeed093cb22bb8f5acdc3");
        assert_eq!(files_in(store.dir()), vec!["img".to_owned()]);
        assert_eq!(store.image_ids().await.expect("listed"), vec!["img"]);
        assert_eq!(store.get_size("img").await.expect("size"), 11);
        let part = store.get("img", 6, Some(100)).await.expect("read");
        assert_eq!(part.len, 5);
        assert_eq!(collect(part.stream).await, b"world");
        assert!(matches!(
            store.add("img", data_stream(b"x", 1), None, 100).await,
            Err(StoreError::Duplicate(_))
        ));
        store.delete("img").await.expect("deleted");
        assert!(files_in(store.dir()).is_empty());
        assert!(store.delete("img").await.expect_err("gone").is_not_found());
    }

    #[tokio::test]
    async fn reads_stream_in_pieces_not_whole_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FilesystemStore::new(dir.path().to_owned());
        let data = vec![7u8; 5 * PIECE as usize + 3];
        store
            .add("img", data_stream(&data, 1 << 20), None, u64::MAX)
            .await
            .expect("stored");
        let mut stream = store.get("img", 0, None).await.expect("read").stream;
        let mut sizes = Vec::new();
        while let Some(chunk) = stream.next().await {
            sizes.push(chunk.expect("readable").len());
        }
        // A download holds one piece at a time, whatever the image's size.
        assert!(sizes.len() >= 6, "{sizes:?}");
        assert!(sizes.iter().all(|&n| n <= PIECE as usize), "{sizes:?}");
        assert_eq!(sizes.iter().sum::<usize>(), data.len());
    }

    #[tokio::test]
    async fn failures_leave_no_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FilesystemStore::new(dir.path().to_owned());
        let err = store
            .add("img", data_stream(b"hello world", 3), Some(4), 100)
            .await
            .expect_err("size exceeds");
        assert!(matches!(err, StoreError::SizeExceeds { .. }));
        let broken: DataStream = stream::iter(vec![
            Ok(Bytes::from_static(b"abc")),
            Err(io::Error::new(io::ErrorKind::ConnectionReset, "gone")),
        ])
        .boxed();
        assert!(matches!(
            store.add("img", broken, None, 100).await,
            Err(StoreError::Source(_))
        ));
        assert!(files_in(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn abandoned_uploads_leave_no_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FilesystemStore::new(dir.path().to_owned());
        let endless: DataStream = stream::iter(std::iter::once(Ok(Bytes::from_static(b"abc"))))
            .chain(stream::pending())
            .boxed();
        let add = store.add("img", endless, None, 100);
        let timed_out = tokio::time::timeout(std::time::Duration::from_millis(100), add).await;
        assert!(timed_out.is_err());
        // The hashing thread notices the dropped channel and drops the file.
        for _ in 0..50 {
            if files_in(dir.path()).is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(files_in(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn ids_that_are_not_file_names_hold_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FilesystemStore::new(dir.path().join("s"));
        assert!(store.get_size("../s").await.is_err());
        assert!(
            store
                .add("../escape", data_stream(b"x", 1), None, 10)
                .await
                .is_err()
        );
        assert!(files_in(dir.path()).is_empty());
    }
}
