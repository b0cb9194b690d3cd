//! The state dumped: as a [`StateDump`] value ([`dump`]) or as the JSON
//! document `GET /_mock/state` sends, streamed ([`dump_json`]).
//!
//! The stream holds little in memory whatever the images' size: the
//! records (serialized up front), then for each blob its entry and, when
//! inline, its bytes read from the store and turned into base64 one piece
//! ([`BASE64_PIECE`]) at a time. The entry's `md5` and `sha512` come
//! before `content_base64`, so they must be known before the bytes are
//! sent: they come from the image record when it has them for that store
//! (as a by-reference dump takes them), else from a first, streaming pass
//! over the bytes.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use futures::{Stream, StreamExt};

use super::stores;
use crate::config::HashAlgorithm;
use crate::control::{DataMode, StateDump, StoredData};
use crate::domain::Image;
use crate::domain::tasks::Task;
use crate::state::AppState;
use crate::store::digest::Hasher;
use crate::store::{ImageData, ImageStore, StoreError};

/// Image bytes per base64 piece of an inline dump (192 KiB, 256 KiB of
/// text): a multiple of 3, so that only a blob's last piece is padded and
/// the pieces join into one valid base64 string.
pub const BASE64_PIECE: usize = 3 << 16;

/// One blob the dump lists, before its bytes are read.
struct Listed {
    store_id: String,
    store: Arc<dyn ImageStore>,
    image_id: String,
    /// md5 and sha512 from the image record, when it has them for this store.
    known: Option<(String, String)>,
}

/// What a dump holds but the bytes: records in the dump's order (images
/// by `created_at` then id, tasks in creation order), and the blobs by
/// store then image id.
async fn list(
    state: &AppState,
) -> Result<(Vec<Arc<Image>>, Vec<Arc<Task>>, Vec<Listed>), StoreError> {
    let mut images: Vec<Arc<Image>> = state
        .repo
        .images
        .image_scan(true)
        .map_err(super::records_failed)?;
    images.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let by_id: BTreeMap<&str, &Image> = images.iter().map(|i| (i.id.as_str(), &**i)).collect();
    let mut blobs = Vec::new();
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
            blobs.push(Listed {
                store_id: store_id.clone(),
                store: store.clone(),
                image_id,
                known,
            });
        }
    }
    let tasks = state
        .repo
        .tasks
        .task_scan()
        .map_err(super::records_failed)?;
    Ok((images, tasks, blobs))
}

/// The state of `state` now, as a value. Inline, every blob's base64 is
/// in memory at once (about 1.33 times the bytes, on top of what the
/// stores hold): for small images; [`dump_json`] streams.
pub async fn dump(state: &AppState, mode: DataMode) -> Result<StateDump, StoreError> {
    let (images, tasks, blobs) = list(state).await?;
    let mut data = Vec::with_capacity(blobs.len());
    for blob in &blobs {
        let (mut entry, bytes) = describe(blob, mode).await?;
        if let Some(bytes) = bytes {
            let mut text = Vec::with_capacity(base64_len(bytes.len));
            let mut pieces = std::pin::pin!(base64_pieces(&blob.image_id, bytes));
            while let Some(piece) = pieces.next().await {
                text.extend_from_slice(&piece?);
            }
            entry.content_base64 = Some(String::from_utf8(text).expect("base64 is ASCII"));
        }
        data.push(entry);
    }
    Ok(StateDump {
        images: images.iter().map(|i| Image::clone(i)).collect(),
        tasks: tasks.iter().map(|t| Task::clone(t)).collect(),
        data,
        identities: Some(state.keystone.directory().clone()),
    })
}

/// The state of `state` now as the JSON document `GET /_mock/state`
/// answers, byte for byte what serializing [`dump`]'s value gives, as a
/// stream of pieces. Records and the list of blobs are taken now (a
/// failure there is this function's error); the bytes are read as the
/// stream is polled, and a failure then (a blob deleted meanwhile, a
/// store that cannot read) ends the stream with that error.
///
/// Memory: the serialized records, plus, inline, a few base64 pieces
/// ([`BASE64_PIECE`]) at a time, whatever the images' size.
pub async fn dump_json(
    state: &AppState,
    mode: DataMode,
) -> Result<impl Stream<Item = Result<Bytes, StoreError>> + Send + 'static, StoreError> {
    let (images, tasks, blobs) = list(state).await?;
    let images: Vec<&Image> = images.iter().map(|i| &**i).collect();
    let tasks: Vec<&Task> = tasks.iter().map(|t| &**t).collect();
    let mut head = b"{\"images\":".to_vec();
    serde_json::to_writer(&mut head, &images).expect("records serialize");
    head.extend_from_slice(b",\"tasks\":");
    serde_json::to_writer(&mut head, &tasks).expect("records serialize");
    head.extend_from_slice(b",\"data\":[");
    // The identities go last, as `StateDump` orders its fields.
    let mut tail = b"],\"identities\":".to_vec();
    serde_json::to_writer(&mut tail, &*state.keystone.directory()).expect("records serialize");
    tail.push(b'}');
    Ok(async_stream::try_stream! {
        yield Bytes::from(head);
        for (n, blob) in blobs.iter().enumerate() {
            let (entry, bytes) = describe(blob, mode).await?;
            let mut text = if n == 0 { Vec::new() } else { b",".to_vec() };
            serde_json::to_writer(&mut text, &entry).expect("an entry serializes");
            if let Some(bytes) = bytes {
                // `content_base64` is the entry's last field: open it in
                // place of the closing brace, and close both after it.
                text.pop();
                text.extend_from_slice(b",\"content_base64\":\"");
                yield Bytes::from(text);
                for await piece in base64_pieces(&blob.image_id, bytes) {
                    yield piece?;
                }
                text = b"\"}".to_vec();
            }
            yield Bytes::from(text);
        }
        yield Bytes::from(tail);
    })
}

/// One blob's entry without its content, and, inline, the bytes to put
/// in it. Hashes come from the image record when it has them (no need to
/// read the bytes for them), else from reading the bytes once.
async fn describe(
    blob: &Listed,
    mode: DataMode,
) -> Result<(StoredData, Option<ImageData>), StoreError> {
    let (store, id) = (blob.store.as_ref(), blob.image_id.as_str());
    let (hashed, (md5, sha512)) = match &blob.known {
        Some(known) => (None, known.clone()),
        None => {
            let (size, md5, sha512) = hash(store, id).await?;
            (Some(size), (md5, sha512))
        }
    };
    let bytes = match mode {
        DataMode::Inline => Some(store.get(id, 0, None).await?),
        DataMode::Reference => None,
    };
    let size = match (hashed, bytes.as_ref().map(|b| b.len)) {
        (Some(hashed), Some(len)) if len != hashed => return Err(changed(id)),
        (Some(size), _) | (None, Some(size)) => size,
        (None, None) => store.get_size(id).await?,
    };
    let entry = StoredData {
        store: blob.store_id.clone(),
        image_id: id.to_owned(),
        size,
        md5: Some(md5),
        sha512: Some(sha512),
        content_base64: None,
    };
    Ok((entry, bytes))
}

/// Size, md5 and sha512 of the image's bytes in `store`, read as a stream.
async fn hash(store: &dyn ImageStore, id: &str) -> Result<(u64, String, String), StoreError> {
    let mut stream = store.get(id, 0, None).await?.stream;
    let (mut md5, mut sha512, mut size) = (
        Hasher::new(HashAlgorithm::Md5),
        Hasher::new(HashAlgorithm::Sha512),
        0u64,
    );
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(StoreError::Io)?;
        md5.update(&chunk);
        sha512.update(&chunk);
        size += chunk.len() as u64;
    }
    Ok((
        size,
        md5.finish().map_err(StoreError::Io)?,
        sha512.finish().map_err(StoreError::Io)?,
    ))
}

/// The bytes of a blob that changed size between being hashed (or
/// listed) and being read.
fn changed(id: &str) -> StoreError {
    StoreError::Io(io::Error::other(format!(
        "the data of image {id} changed while it was dumped"
    )))
}

/// The length of the base64 of `n` bytes (padded).
fn base64_len(n: u64) -> usize {
    usize::try_from(n.div_ceil(3) * 4).unwrap_or(usize::MAX)
}

/// `bytes` as base64 text in pieces of [`BASE64_PIECE`] bytes' worth,
/// whatever the sizes of the chunks the store hands out; fails if the
/// store yields other than the `len` bytes it announced.
fn base64_pieces(
    id: &str,
    bytes: ImageData,
) -> impl Stream<Item = Result<Bytes, StoreError>> + Send + 'static {
    let id = id.to_owned();
    async_stream::try_stream! {
        let ImageData { len, mut stream } = bytes;
        let mut pending = Vec::with_capacity(BASE64_PIECE.min(usize::try_from(len).unwrap_or(usize::MAX)));
        let mut seen = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(StoreError::Io)?;
            seen += chunk.len() as u64;
            let mut rest = &chunk[..];
            while !rest.is_empty() {
                let take = (BASE64_PIECE - pending.len()).min(rest.len());
                pending.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                if pending.len() == BASE64_PIECE {
                    yield Bytes::from(BASE64.encode(&pending));
                    pending.clear();
                }
            }
        }
        if seen != len {
            Err(changed(&id))?;
        }
        if !pending.is_empty() {
            yield Bytes::from(BASE64.encode(&pending));
        }
    }
}
