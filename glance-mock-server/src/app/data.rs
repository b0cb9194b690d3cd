//! Image data: `ImageDataController.upload` (the record's `queued →
//! saving → active` steps around the store, the storage quota, format
//! inspection) and `ImageDataController.download` with the read its
//! response serializer does (preferred stores, the cache filter).

use std::io;
use std::sync::Arc;

use futures::StreamExt;

use super::ingest;
use super::records::{self, save_image};
use crate::domain::inspect::InvalidImageData;
use crate::domain::policy::Rule;
use crate::domain::upload::{self, UploadFault};
use crate::domain::{Fault, Identity, Image, ImageStatus, policy, time};
use crate::state::AppState;
use crate::store::{DataStream, ImageData, StoreError};

/// Why an upload failed, beyond Glance's ordinary refusals.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// One of Glance's ordinary refusals (the storage quota's 413 among them).
    #[error(transparent)]
    Fault(#[from] Fault),
    /// The data is not an image of its `disk_format` (Glance's 415,
    /// `InvalidImageData`).
    #[error(transparent)]
    InvalidData(InvalidImageData),
    /// The data disagrees with the size or checksum the image already
    /// records: Glance crashes (500).
    #[error("The uploaded data does not match the size or checksum the image records.")]
    Mismatch,
    /// The store refused the data (its size checks, the size cap), the
    /// data stream failed, or the store itself did.
    #[error(transparent)]
    Store(StoreError),
}

impl From<UploadFault> for UploadError {
    fn from(f: UploadFault) -> Self {
        match f {
            UploadFault::Fault(f) => UploadError::Fault(f),
            UploadFault::InvalidData(e) => UploadError::InvalidData(e),
            UploadFault::Internal => UploadError::Mismatch,
        }
    }
}

/// The storage quota crossed while reading (Glance's `LimitingReader`).
#[derive(Debug, thiserror::Error)]
#[error("storage quota exceeded")]
struct QuotaCrossed;

/// Glance's `LimitingReader`: `data`, failing with [`QuotaCrossed`] as soon
/// as more than `limit` bytes have passed (checked per piece read).
fn quota_limited(data: DataStream, limit: Option<u64>) -> DataStream {
    let Some(limit) = limit else {
        return data;
    };
    let mut read: u64 = 0;
    data.map(move |piece| {
        let piece = piece?;
        read = read.saturating_add(piece.len() as u64);
        if read > limit {
            return Err(io::Error::other(QuotaCrossed));
        }
        Ok(piece)
    })
    .boxed()
}

/// A store's failure as the upload answers it: the quota crossed while
/// reading is Glance's 413, anything else the store's.
fn store_failure(e: StoreError) -> UploadError {
    match e {
        StoreError::Source(source)
            if source
                .get_ref()
                .is_some_and(|inner| inner.is::<QuotaCrossed>()) =>
        {
            upload::quota_crossed().into()
        }
        e => UploadError::Store(e),
    }
}

/// While an upload runs the image is `saving`; whatever ends it early (an
/// error, or the client going away and the upload's future being dropped)
/// puts it back to `queued`, unless the upload got that far.
struct SavingGuard<'a> {
    state: &'a AppState,
    id: &'a str,
    armed: bool,
}

impl<'a> SavingGuard<'a> {
    fn new(state: &'a AppState, id: &'a str) -> Self {
        SavingGuard {
            state,
            id,
            armed: true,
        }
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for SavingGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = save_image(self.state, self.id, Fault::internal, |img| {
                upload::restore_queued(img, time::now());
                Ok(())
            });
        }
    }
}

/// `ImageDataController.upload` (with `ImageProxy.set_data`): look the
/// image up (404), `upload_image`, `queued → saving`, the storage quota
/// for the announced `size`, then `data` through the quota limit and
/// format inspection into store `store_id`, and the image finished
/// (hashes, verdict, the quota again with the real size) and active.
/// A failure after the data is stored removes it again; any failure (or
/// the future dropped) leaves the image `queued`.
pub async fn upload(
    state: &AppState,
    who: &Identity,
    id: &str,
    store_id: &str,
    data: DataStream,
    size: Option<i64>,
) -> Result<(), UploadError> {
    let current = records::find_image(state, id)?;
    let current = policy::lookup(who, current.as_deref(), id)?;
    policy::enforce(who, Rule::UploadImage, current)?;
    let not_found = || Fault::NotFound(format!("No image found with ID {id}"));
    let (saving, ()) = save_image(state, id, not_found, |img| upload::begin(img, time::now()))?;
    let guard = SavingGuard::new(state, id);

    let remaining = upload::remaining_quota(
        state.config.user_storage_quota,
        &state
            .repo
            .images
            .image_scan(false)
            .map_err(records::unhandled)?,
        saving.owner.as_deref(),
        id,
    );
    let quota_limit = upload::check_quota(size, remaining)?;
    let store = state
        .store
        .get(store_id)
        .ok_or_else(|| Fault::BadRequest(format!("Store for identifier {store_id} not found")))?;
    let data = quota_limited(data, quota_limit);
    let (stored, verdict) = ingest::store_inspected(
        store.as_ref(),
        &saving,
        data,
        size,
        state.config.image_size_cap,
    )
    .await
    .map_err(store_failure)?;

    // Glance re-checks the quota with the real size (a chunked upload
    // announces none). From here on, a failure removes the stored data.
    let remaining = match state.repo.images.image_scan(false) {
        Ok(images) => upload::remaining_quota(
            state.config.user_storage_quota,
            &images,
            saving.owner.as_deref(),
            id,
        ),
        Err(e) => {
            state.store.delete(store_id, id).await;
            return Err(records::unhandled(e).into());
        }
    };
    // Saved from `saving` only (Glance's `from_state='saving'`); a
    // refused finish is saved too (it puts the image back). An image
    // deleted (or moved on) meanwhile is Glance's 410.
    let gone = || {
        Fault::Gone(format!(
            "Image {id} could not be found after upload. The image may have been deleted during the upload, cleaning up the chunks uploaded."
        ))
    };
    let saved = save_image(state, id, gone, |img| {
        if img.status != ImageStatus::Saving {
            return Err(gone());
        }
        Ok(upload::finish(
            img,
            &stored,
            store_id,
            verdict.clone(),
            remaining,
            time::now(),
        ))
    });
    guard.disarm();
    match saved {
        Ok((_, Ok(()))) => Ok(()),
        Ok((_, Err(refused))) => {
            state.store.delete(store_id, id).await;
            Err(refused.into())
        }
        Err(f) => {
            state.store.delete(store_id, id).await;
            Err(f.into())
        }
    }
}

/// An image whose data the caller may download, with the stores to read
/// it from in the order they are tried.
#[derive(Debug)]
pub struct Download {
    /// The image (its size, checksum and status shape the response).
    pub image: Arc<Image>,
    /// The image's stores, the preferred ones first.
    stores: Vec<String>,
}

/// Reading a store failed (other than the data not being there).
#[derive(Debug, thiserror::Error)]
#[error("reading image {image} from store {store}: {source}")]
pub struct ReadFailed {
    /// The image.
    pub image: String,
    /// The store that failed.
    pub store: String,
    /// How.
    #[source]
    pub source: StoreError,
}

/// `ImageDataController.download`: look the image up (404), refuse a
/// deactivated one to all but admins (403), `download_image`, then the
/// `prefer`red stores, each of which must be configured (400).
pub fn download(
    state: &AppState,
    who: &Identity,
    id: &str,
    prefer: &[String],
) -> Result<Download, Fault> {
    let image = records::find_image(state, id)?;
    let img = policy::lookup(who, image.as_deref(), id)?;
    if img.status == ImageStatus::Deactivated && !who.is_admin() {
        return Err(Fault::Forbidden(
            "The requested image has been deactivated. Image data download is forbidden.".into(),
        ));
    }
    policy::enforce(who, Rule::DownloadImage, img)?;
    if let Some(store) = prefer.iter().find(|s| !state.config.has_store(s)) {
        return Err(Fault::BadRequest(format!(
            "Store '{store}' is not configured."
        )));
    }
    let mut stores: Vec<String> = prefer
        .iter()
        .filter(|p| img.stores.contains(p))
        .cloned()
        .collect();
    stores.extend(img.stores.iter().filter(|s| !prefer.contains(s)).cloned());
    // `lookup` refuses a missing record.
    let image = image.ok_or_else(|| Fault::NotFound(format!("No image found with ID {id}")))?;
    Ok(Download { image, stores })
}

impl Download {
    /// What the response serializer's `image.get_data` reads: the bytes
    /// `span` (offset and length; all of them when `None`) from the first
    /// store that holds the data, `None` when none does. A complete
    /// download of an active image passes the cache filter (a hit, or
    /// the copy it keeps).
    pub async fn read(
        &self,
        state: &AppState,
        span: Option<(u64, u64)>,
    ) -> Result<Option<ImageData>, ReadFailed> {
        let id = self.image.id.as_str();
        let (offset, len) = span.map_or((0, None), |(offset, len)| (offset, Some(len)));
        let mut data = None;
        for store_id in &self.stores {
            let Some(store) = state.store.get(store_id) else {
                continue;
            };
            match store.get(id, offset, len).await {
                Ok(d) => {
                    data = Some(d);
                    break;
                }
                Err(e) if e.is_not_found() => {}
                Err(source) => {
                    return Err(ReadFailed {
                        image: id.to_owned(),
                        store: store_id.clone(),
                        source,
                    });
                }
            }
        }
        let Some(data) = data else {
            return Ok(None);
        };
        if state.config.cache.enabled && span.is_none() && self.image.status == ImageStatus::Active
        {
            state
                .cache
                .read_through(id, data.len, time::epoch_seconds(time::now()));
        }
        Ok(Some(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{collect, data_stream};

    #[tokio::test]
    async fn the_quota_limit_fails_the_piece_that_crosses_it() {
        let data = vec![1u8; 10];
        let mut limited = quota_limited(data_stream(&data, 4), Some(8));
        assert_eq!(
            limited.next().await.map(|p| p.map(|b| b.len()).ok()),
            Some(Some(4))
        );
        assert_eq!(
            limited.next().await.map(|p| p.map(|b| b.len()).ok()),
            Some(Some(4))
        );
        let crossed = limited.next().await.and_then(Result::err).expect("crossed");
        assert!(crossed.get_ref().is_some_and(|e| e.is::<QuotaCrossed>()));
        assert!(matches!(
            store_failure(StoreError::Source(crossed)),
            UploadError::Fault(Fault::TooLarge(_))
        ));
        let all = collect(quota_limited(data_stream(&data, 4), None)).await;
        assert_eq!(all, data);
    }
}
