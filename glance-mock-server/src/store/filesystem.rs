//! A store keeping one file per image in a directory, as `glance_store`'s
//! filesystem driver does (`<data_dir>/<image id>`). Uploads go to a
//! temporary file in the same directory and are renamed into place only
//! when complete, so a failed or abandoned upload leaves no file.
//!
//! # Which files are the store's own
//!
//! The directory may hold other files (`--store fast=DIR` pointed at a
//! folder in use). The store lists, reads and deletes **only the files it
//! wrote**: an image's file counts as the store's own when its id is
//! recorded in the directory's manifest, [`MANIFEST`]
//! (`<data_dir>/glance-mock-owned`, one image id a line; `.glance-mock-owned`
//! in earlier versions, read and then replaced). Every other
//! file, whatever its name (a UUID too), is foreign: it is never listed
//! (so never dumped, reset or removed by a seed), read or deleted, and an
//! upload under its name fails as a duplicate instead of replacing it.
//!
//! The manifest is rewritten whole on every add and delete: written to a
//! temporary file in the directory, synced, then renamed over the old one,
//! so a crash at any point leaves either the old or the new record, never
//! a torn one. Updates are serialized by one lock per directory, shared by
//! every store of the process on that directory, so concurrent uploads of
//! different images cannot lose each other's entries. An image's id is
//! recorded before its file is renamed into place (from a temporary file
//! the store made, in the same directory), and its file is removed before
//! its id is unrecorded: a crash in between leaves a record of a missing
//! file, which reads as no data and is pruned on the next start
//! ([`ImageStore::remove_leftovers`]), never a file of the store's that
//! no record claims (which would be kept for ever, as foreign).
//!
//! Several processes serving one state may share the directory: each
//! change of the manifest holds an advisory lock on
//! `<data_dir>/glance-mock-owned.lock` (processes take turns), and a
//! process reads the manifest again whenever another replaced it. Each
//! upload's temporary file stays locked while the upload runs, so a
//! process starting meanwhile removes only the temporary files of dead
//! ones ([`ImageStore::remove_leftovers`]).
//!
//! Directories written by earlier versions of the mock have image files
//! named by UUID and no manifest. Their files are not taken for the
//! store's own on sight (a folder holding UUID-named files of someone else
//! looks the same); they are adopted when a seed refers to them by
//! reference ([`ImageStore::seed_size`], [`ImageStore::adopt`]): a file
//! named by a UUID, of the size the seed says. Adoption is only possible
//! while the directory has no manifest yet, which the first upload or
//! adoption creates; from then on, the manifest alone decides.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, Weak};

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

/// The file in a store's directory recording which files the store wrote.
pub const MANIFEST: &str = "glance-mock-owned";

/// The file processes lock while they change the manifest.
pub const LOCK_FILE: &str = "glance-mock-owned.lock";

/// Whether `name` is one of the store's own bookkeeping files in its
/// directory (the manifest and its lock), not image data.
pub fn is_bookkeeping(name: &str) -> bool {
    name == MANIFEST || name == LOCK_FILE
}

/// Where earlier versions kept the manifest: read when [`MANIFEST`] is
/// missing, removed once the manifest is next written.
const LEGACY_MANIFEST: &str = ".glance-mock-owned";

/// How the temporary file of an upload in flight is named (then random
/// letters); renamed to the image's id once complete.
const UPLOAD_PREFIX: &str = ".upload-";

/// How the temporary file of a manifest being rewritten is named.
const MANIFEST_TEMP_PREFIX: &str = ".glance-mock-owned-";

/// The manifest's first line.
const MANIFEST_HEADER: &str =
    "# glance-mock-server: the image files it wrote here; it leaves every other file alone";

/// Image files under one directory, created on first use.
#[derive(Debug)]
pub struct FilesystemStore {
    dir: PathBuf,
    hashing: HashAlgorithm,
    owned: Arc<Mutex<Owned>>,
}

/// What a directory's manifest says, as last read or written.
#[derive(Debug, Default)]
struct Owned {
    /// `None` until the manifest has been read.
    loaded: Option<Loaded>,
    /// Which manifest file `loaded` was read from.
    stamp: Option<(u64, u64)>,
}

/// The manifest file's identity (device, inode), if it exists.
fn manifest_stamp(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(dir.join(MANIFEST))
        .or_else(|_| std::fs::metadata(dir.join(LEGACY_MANIFEST)))
        .ok()?;
    Some((meta.dev(), meta.ino()))
}

/// The lock every process takes on a store's directory while it changes
/// the manifest (`DIR/glance-mock-owned.lock`, an advisory `flock`):
/// writers in several processes on one directory take turns.
fn lock_dir(dir: &Path) -> io::Result<std::fs::File> {
    std::fs::create_dir_all(dir)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))?;
    super::flock::lock(&file)?;
    Ok(file)
}

#[derive(Debug)]
struct Loaded {
    ids: BTreeSet<String>,
    /// Whether the manifest exists on disk.
    exists: bool,
}

/// One [`Owned`] per directory in the process, so that two stores on the
/// same directory (or a store made again on it) update one record.
static OWNED: LazyLock<Mutex<HashMap<PathBuf, Weak<Mutex<Owned>>>>> =
    LazyLock::new(Default::default);

fn owned_for(dir: &Path) -> Arc<Mutex<Owned>> {
    let key = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    let mut map = OWNED.lock().unwrap_or_else(|e| e.into_inner());
    map.retain(|_, w| w.strong_count() > 0);
    if let Some(owned) = map.get(&key).and_then(Weak::upgrade) {
        return owned;
    }
    let owned = Arc::new(Mutex::new(Owned::default()));
    map.insert(key, Arc::downgrade(&owned));
    owned
}

/// Whether `id` is a UUID spelt with hex digits and hyphens only (the file
/// names an earlier version of the mock may have left).
fn uuid_name(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok() && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// Whether `id` can name an image file: letters, digits, `-`, `_` and `.`,
/// not starting with a dot (dot files are the store's own bookkeeping).
fn plain_name(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl Owned {
    /// The record, read from `dir`'s manifest on first use.
    fn loaded(&mut self, dir: &Path) -> io::Result<&mut Loaded> {
        // Another process on the directory may have rewritten the
        // manifest (always by a rename: a new file): read it again then.
        let stamp = manifest_stamp(dir);
        if self.loaded.is_none() || self.stamp != stamp {
            self.loaded = Some(read_manifest(dir)?);
            self.stamp = stamp;
        }
        Ok(self.loaded.as_mut().expect("just loaded"))
    }
}

fn read_manifest(dir: &Path) -> io::Result<Loaded> {
    let text = match std::fs::read_to_string(dir.join(MANIFEST)) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::read_to_string(dir.join(LEGACY_MANIFEST))
        }
        read => read,
    };
    match text {
        Ok(text) => Ok(Loaded {
            ids: text
                .lines()
                .map(str::trim)
                .filter(|l| plain_name(l))
                .map(str::to_owned)
                .collect(),
            exists: true,
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Loaded {
            ids: BTreeSet::new(),
            exists: false,
        }),
        // Unreadable: fail rather than take it for empty and overwrite it.
        Err(e) => Err(e),
    }
}

/// Replace `dir`'s manifest by `ids`, atomically (temporary file, sync,
/// rename, then a best-effort sync of the directory).
fn write_manifest(dir: &Path, ids: &BTreeSet<String>) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(MANIFEST_TEMP_PREFIX)
        .tempfile_in(dir)?;
    {
        let mut out = BufWriter::new(temp.as_file_mut());
        writeln!(out, "{MANIFEST_HEADER}")?;
        for id in ids {
            writeln!(out, "{id}")?;
        }
        out.flush()?;
    }
    temp.as_file().sync_all()?;
    temp.persist(dir.join(MANIFEST)).map_err(|e| e.error)?;
    match std::fs::remove_file(dir.join(LEGACY_MANIFEST)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

impl FilesystemStore {
    /// A store keeping its files in `dir`.
    pub fn new(dir: PathBuf) -> Self {
        FilesystemStore {
            owned: owned_for(&dir),
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

    /// Where an image's file lives, or `None` for an id that cannot name
    /// one (`..`, slashes, a leading dot): such an id can hold no data here.
    fn path(&self, image_id: &str) -> Option<PathBuf> {
        (plain_name(image_id) && image_id != MANIFEST && image_id != LOCK_FILE)
            .then(|| self.dir.join(image_id))
    }

    /// The path of the image's file if the store wrote it, else
    /// [`StoreError::NotFound`].
    async fn own_path(&self, image_id: &str) -> Result<PathBuf, StoreError> {
        let path = self
            .path(image_id)
            .ok_or_else(|| StoreError::NotFound(image_id.to_owned()))?;
        let (owned, dir, id) = (self.owned.clone(), self.dir.clone(), image_id.to_owned());
        let mine = blocking(move || {
            let mut owned = owned.lock().unwrap_or_else(|e| e.into_inner());
            Ok(owned.loaded(&dir)?.ids.contains(&id))
        })
        .await
        .map_err(StoreError::Io)?;
        if mine {
            Ok(path)
        } else {
            Err(StoreError::NotFound(image_id.to_owned()))
        }
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
                let temp = tempfile::Builder::new()
                    .prefix(UPLOAD_PREFIX)
                    .tempfile_in(&dir)?;
                // Locked while the upload runs: a process starting on this
                // directory meanwhile sees it is no leftover.
                super::flock::lock(temp.as_file())?;
                Ok(temp)
            })
            .await
            .map_err(StoreError::from_io)?;
            let sink = TempFileSink(BufWriter::with_capacity(WRITE_BUFFER, temp));
            let (stored, TempFileSink(writer)) =
                ingest(data, expected_size, size_cap, self.hashing, sink).await?;
            let id = image_id.to_owned();
            let (owned, dir, recorded) = (self.owned.clone(), self.dir.clone(), id.clone());
            blocking(move || {
                let temp = writer.into_inner().map_err(|e| e.into_error())?;
                // Other processes on the directory wait while this one changes it.
                let _dir_lock = lock_dir(&dir)?;
                let mut owned = owned.lock().unwrap_or_else(|e| e.into_inner());
                let loaded = owned.loaded(&dir)?;
                if std::fs::symlink_metadata(&path).is_ok() {
                    return Err(io::ErrorKind::AlreadyExists.into());
                }
                // Recorded first, so that a crash right after the rename
                // leaves a file the store knows as its own.
                let known = !loaded.ids.insert(recorded.clone());
                if let Err(e) = write_manifest(&dir, &loaded.ids) {
                    if !known {
                        loaded.ids.remove(&recorded);
                    }
                    return Err(e);
                }
                loaded.exists = true;
                // Never replaces a file that appeared meanwhile; the
                // temporary file is removed when this fails.
                if let Err(e) = temp.persist_noclobber(&path) {
                    loaded.ids.remove(&recorded);
                    let _ = write_manifest(&dir, &loaded.ids);
                    return Err(e.error);
                }
                Ok(())
            })
            .await
            .map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    StoreError::Duplicate(id)
                } else {
                    StoreError::from_io(e)
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
            let path = self.own_path(image_id).await?;
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
            let (owned, dir, id) = (self.owned.clone(), self.dir.clone(), image_id.to_owned());
            blocking(move || {
                // Other processes on the directory wait while this one changes it.
                let _dir_lock = lock_dir(&dir)?;
                let mut owned = owned.lock().unwrap_or_else(|e| e.into_inner());
                let loaded = owned.loaded(&dir)?;
                if !loaded.ids.contains(&id) {
                    // Not the store's own: left alone, whatever the name.
                    return Err(io::ErrorKind::NotFound.into());
                }
                // The file goes first, so that a crash right after leaves
                // a record of a missing file (skipped, and pruned on the
                // next start), never a file no record claims.
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    // Gone (or already gone): the record follows.
                    _ => {}
                }
                loaded.ids.remove(&id);
                write_manifest(&dir, &loaded.ids)
            })
            .await
            .map_err(|e| not_found(image_id, e))
        }
        .boxed()
    }

    fn get_size<'a>(&'a self, image_id: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        async move {
            let path = self.own_path(image_id).await?;
            let meta = tokio::fs::metadata(&path)
                .await
                .map_err(|e| not_found(image_id, e))?;
            Ok(meta.len())
        }
        .boxed()
    }

    fn image_ids(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        async move {
            let (owned, dir) = (self.owned.clone(), self.dir.clone());
            blocking(move || {
                let mut owned = owned.lock().unwrap_or_else(|e| e.into_inner());
                let loaded = owned.loaded(&dir)?;
                // Recorded files only, and of those the ones still there
                // (a file removed by hand holds no data).
                let mut ids = Vec::new();
                for id in &loaded.ids {
                    match std::fs::symlink_metadata(dir.join(id)) {
                        Ok(meta) if meta.is_file() => ids.push(id.clone()),
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(ids)
            })
            .await
            .map_err(StoreError::Io)
        }
        .boxed()
    }

    fn seed_size<'a>(&'a self, image_id: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        async move {
            if let Ok(size) = self.get_size(image_id).await {
                return Ok(size);
            }
            let (owned, dir, id) = (self.owned.clone(), self.dir.clone(), image_id.to_owned());
            blocking(move || {
                let mut owned = owned.lock().unwrap_or_else(|e| e.into_inner());
                if owned.loaded(&dir)?.exists || !uuid_name(&id) {
                    return Err(io::ErrorKind::NotFound.into());
                }
                let meta = std::fs::symlink_metadata(dir.join(&id))?;
                if meta.is_file() {
                    Ok(meta.len())
                } else {
                    Err(io::ErrorKind::NotFound.into())
                }
            })
            .await
            .map_err(|e| not_found(image_id, e))
        }
        .boxed()
    }

    fn remove_leftovers(&self) -> BoxFuture<'_, Result<usize, StoreError>> {
        let (owned, dir) = (self.owned.clone(), self.dir.clone());
        async move {
            blocking(move || {
                // Records of files a crash kept from being written, or
                // removed before their record: pruned.
                // Other processes on the directory wait while this one changes it.
                let _dir_lock = lock_dir(&dir)?;
                let mut owned = owned.lock().unwrap_or_else(|e| e.into_inner());
                let loaded = owned.loaded(&dir)?;
                let before = loaded.ids.len();
                loaded
                    .ids
                    .retain(|id| std::fs::symlink_metadata(dir.join(id)).is_ok());
                if loaded.ids.len() != before {
                    write_manifest(&dir, &loaded.ids)?;
                }
                let entries = match std::fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
                    Err(e) => return Err(e),
                };
                let mut removed = 0;
                for entry in entries {
                    let entry = entry?;
                    let name = entry.file_name();
                    let Some(name) = name.to_str() else { continue };
                    if !entry.file_type()?.is_file() {
                        continue;
                    }
                    // A manifest being rewritten (never, under the lock
                    // held here, by a live process), or an upload whose
                    // process holds no lock on it any more (it died).
                    let left = name.starts_with(MANIFEST_TEMP_PREFIX)
                        || (name.starts_with(UPLOAD_PREFIX)
                            && std::fs::File::open(entry.path())
                                .is_ok_and(|f| super::flock::try_lock(&f)));
                    if left {
                        std::fs::remove_file(entry.path())?;
                        removed += 1;
                    }
                }
                Ok(removed)
            })
            .await
            .map_err(StoreError::Io)
        }
        .boxed()
    }

    fn adopt<'a>(&'a self, image_ids: &'a [String]) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            let (owned, dir, ids) = (self.owned.clone(), self.dir.clone(), image_ids.to_vec());
            blocking(move || {
                // Other processes on the directory wait while this one changes it.
                let _dir_lock = lock_dir(&dir)?;
                let mut owned = owned.lock().unwrap_or_else(|e| e.into_inner());
                let loaded = owned.loaded(&dir)?;
                let mut fresh = Vec::new();
                for id in ids {
                    if loaded.ids.contains(&id) {
                        continue;
                    }
                    if loaded.exists || !uuid_name(&id) {
                        return Err(io::Error::new(
                            io::ErrorKind::NotFound,
                            format!("{id} is not this store's file"),
                        ));
                    }
                    fresh.push(id);
                }
                if fresh.is_empty() {
                    return Ok(());
                }
                loaded.ids.extend(fresh.iter().cloned());
                if let Err(e) = write_manifest(&dir, &loaded.ids) {
                    for id in &fresh {
                        loaded.ids.remove(id);
                    }
                    return Err(e);
                }
                loaded.exists = true;
                Ok(())
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
                    // The store's record of its own files, and its lock.
                    .filter(|n| !is_bookkeeping(n))
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

    #[tokio::test]
    async fn only_files_the_store_wrote_are_listed_read_or_deleted() {
        let dir = tempfile::tempdir().expect("temp dir");
        let uuid = "0b8e4b3c-5c36-4d6b-9b5e-0d3c2f1a9e77";
        std::fs::write(dir.path().join("notes.txt"), b"mine").expect("written");
        std::fs::write(dir.path().join(uuid), b"also mine").expect("written");
        let store = FilesystemStore::new(dir.path().to_owned());
        assert!(store.image_ids().await.expect("listed").is_empty());
        for id in [uuid, "notes.txt"] {
            assert!(
                store
                    .get_size(id)
                    .await
                    .expect_err("foreign")
                    .is_not_found()
            );
            assert!(store.get(id, 0, None).await.is_err());
            assert!(store.delete(id).await.expect_err("foreign").is_not_found());
        }
        // Never replaced by an upload either.
        assert!(matches!(
            store.add(uuid, data_stream(b"x", 1), None, 10).await,
            Err(StoreError::Duplicate(_))
        ));
        // A manifest now exists: no adoption of the foreign UUID file.
        store
            .add("img", data_stream(b"x", 1), None, 10)
            .await
            .expect("stored");
        assert!(store.seed_size(uuid).await.is_err());
        assert!(store.adopt(&[uuid.to_owned()]).await.is_err());
        store.delete("img").await.expect("deleted");
        assert_eq!(
            std::fs::read(dir.path().join("notes.txt")).expect("kept"),
            b"mine"
        );
        assert_eq!(
            std::fs::read(dir.path().join(uuid)).expect("kept"),
            b"also mine"
        );
        assert_eq!(
            files_in(dir.path()),
            vec![uuid.to_owned(), "notes.txt".to_owned()]
        );
    }

    #[tokio::test]
    async fn files_without_a_manifest_are_adopted_by_uuid_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let uuid = "0b8e4b3c-5c36-4d6b-9b5e-0d3c2f1a9e77";
        std::fs::write(dir.path().join(uuid), b"old data").expect("written");
        std::fs::write(dir.path().join("notes"), b"n").expect("written");
        let store = FilesystemStore::new(dir.path().to_owned());
        assert_eq!(store.seed_size(uuid).await.expect("found"), 8);
        assert!(store.seed_size("notes").await.is_err());
        assert!(store.get_size(uuid).await.is_err());
        store.adopt(&[uuid.to_owned()]).await.expect("adopted");
        assert_eq!(store.image_ids().await.expect("listed"), vec![uuid]);
        assert_eq!(store.get_size(uuid).await.expect("own"), 8);
        // The record is on disk: a store made afresh sees it.
        drop(store);
        let again = FilesystemStore::new(dir.path().to_owned());
        assert_eq!(again.image_ids().await.expect("listed"), vec![uuid]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_uploads_lose_no_record() {
        let dir = tempfile::tempdir().expect("temp dir");
        // Two stores on one directory share one record.
        let stores = [
            Arc::new(FilesystemStore::new(dir.path().to_owned())),
            Arc::new(FilesystemStore::new(dir.path().join("."))),
        ];
        let mut tasks = Vec::new();
        for i in 0..40 {
            let store = stores[i % 2].clone();
            tasks.push(tokio::spawn(async move {
                let id = format!("img-{i:02}");
                store
                    .add(&id, data_stream(&[i as u8; 3000], 100), None, 10_000)
                    .await
                    .expect("stored");
                if i % 4 == 0 {
                    store.delete(&id).await.expect("deleted");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let expected: Vec<String> = (0..40)
            .filter(|i| i % 4 != 0)
            .map(|i| format!("img-{i:02}"))
            .collect();
        let on_disk = read_manifest(dir.path()).expect("readable");
        assert_eq!(on_disk.ids.into_iter().collect::<Vec<_>>(), expected);
        assert_eq!(stores[0].image_ids().await.expect("listed"), expected);
        // An interrupted rewrite leaves a temporary file, not a torn record.
        std::fs::write(dir.path().join(".glance-mock-owned-x1"), b"img-0").expect("written");
        assert_eq!(
            read_manifest(dir.path()).expect("readable").ids.len(),
            expected.len()
        );
    }

    #[tokio::test]
    async fn a_manifest_of_an_earlier_version_is_read_then_replaced() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("old-1"), b"old").expect("written");
        std::fs::write(
            dir.path().join(LEGACY_MANIFEST),
            format!("{MANIFEST_HEADER}\nold-1\n"),
        )
        .expect("written");
        let store = FilesystemStore::new(dir.path().to_owned());
        assert_eq!(store.image_ids().await.expect("listed"), ["old-1"]);
        store
            .add("new-1", data_stream(b"new", 2), None, u64::MAX)
            .await
            .expect("stored");
        assert!(!dir.path().join(LEGACY_MANIFEST).exists());
        let ids = read_manifest(dir.path()).expect("readable").ids;
        assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["new-1", "old-1"]);
        // The manifest's name is no image's.
        assert!(store.path(MANIFEST).is_none());
    }

    #[tokio::test]
    async fn leftovers_go_on_start_and_nothing_else() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FilesystemStore::new(dir.path().to_owned());
        store
            .add("kept", data_stream(b"bytes", 2), None, u64::MAX)
            .await
            .expect("stored");
        store
            .add("lost", data_stream(b"bytes", 2), None, u64::MAX)
            .await
            .expect("stored");
        // As a crash leaves them: a half-written upload, a manifest being
        // rewritten, a recorded file already removed; and someone's files.
        std::fs::write(dir.path().join(".upload-abc"), b"half").expect("written");
        std::fs::write(dir.path().join(".glance-mock-owned-xyz"), b"x").expect("written");
        std::fs::remove_file(dir.path().join("lost")).expect("removed");
        std::fs::write(dir.path().join("notes.txt"), b"mine").expect("written");
        std::fs::write(dir.path().join(".hidden"), b"mine").expect("written");

        let store = FilesystemStore::new(dir.path().to_owned());
        assert_eq!(store.remove_leftovers().await.expect("cleaned"), 2);
        assert_eq!(files_in(dir.path()), [".hidden", "kept", "notes.txt"]);
        assert!(dir.path().join(MANIFEST).exists());
        let ids = read_manifest(dir.path()).expect("readable").ids;
        assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["kept"]);
    }
}
