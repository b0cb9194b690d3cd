//! Data on its way into a store, inspected as it passes: Glance wraps the
//! data of an upload, of an import's copy from staging and of a legacy
//! import task in a format inspector when the image has a bare container,
//! and judges the image's `disk_format` by what it saw once the data is
//! stored. Every path that stores image data does it through
//! [`store_inspected`].

use std::io;
use std::sync::{Arc, Mutex};

use futures::StreamExt;

use crate::domain::Image;
use crate::domain::inspect::{FormatInspector, InvalidImageData};
use crate::domain::upload;
use crate::store::{DataStream, ImageStore, StoreError, Stored};

/// What format inspection said of stored data: `None` when the image is
/// not inspected (not a bare container), else the virtual size the
/// inspector found or why the data is not a `disk_format` image.
pub type Verdict = Option<Result<Option<u64>, InvalidImageData>>;

/// Store `data` as `image`'s bytes in `store` (at most `size_cap` bytes;
/// `expected_size` checked as the store checks it), shown on its way to a
/// format inspector when Glance inspects the image. The store's own rule
/// holds: an error, or the future dropped half-way, leaves nothing stored.
pub async fn store_inspected(
    store: &dyn ImageStore,
    image: &Image,
    data: DataStream,
    expected_size: Option<i64>,
    size_cap: u64,
) -> Result<(Stored, Verdict), StoreError> {
    let inspector = upload::inspected(image).then(|| Arc::new(Mutex::new(FormatInspector::new())));
    let data = inspected(data, inspector.clone());
    let stored = store.add(&image.id, data, expected_size, size_cap).await?;
    let disk_format = image.disk_format.as_deref().unwrap_or_default();
    let verdict = inspector.map(|i| {
        let i = std::mem::take(&mut *i.lock().unwrap_or_else(|p| p.into_inner()));
        i.finish().verdict(disk_format)
    });
    Ok((stored, verdict))
}

/// `data`, shown to `inspector` (if any) on its way.
fn inspected(data: DataStream, inspector: Option<Arc<Mutex<FormatInspector>>>) -> DataStream {
    let Some(inspector) = inspector else {
        return data;
    };
    data.map(move |chunk: io::Result<bytes::Bytes>| {
        let chunk = chunk?;
        inspector
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .eat(&chunk);
        Ok(chunk)
    })
    .boxed()
}
