//! Uploading image data (`PUT /v2/images/{id}/file`), the record's side:
//! the `queued → saving → active` steps of `ImageDataController.upload`
//! and `ImageProxy.set_data`, the storage quota (`user_storage_quota`),
//! and what a failure leaves on the image (back to `queued`; Glance keeps
//! the hashes of data it refused after storing it).

use std::sync::Arc;

use time::OffsetDateTime;

use super::inspect::InvalidImageData;
use super::{Fault, Image, ImageStatus};
use crate::domain::Stored;

/// Why an upload failed after it started, beyond the plain [`Fault`]s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadFault {
    /// A fault with its usual status.
    #[error(transparent)]
    Fault(#[from] Fault),
    /// The data does not match the disk format (415).
    #[error(transparent)]
    InvalidData(#[from] InvalidImageData),
    /// Glance fails with an unexpected exception (500).
    #[error("internal error")]
    Internal,
}

/// `image.status = 'saving'`: only from `queued`, and only with both
/// formats set.
pub fn begin(img: &mut Image, now: OffsetDateTime) -> Result<(), Fault> {
    if !img.status.can_become(ImageStatus::Saving) {
        return Err(Fault::Conflict(format!(
            "Image status transition from {} to saving is not allowed",
            img.status.as_str()
        )));
    }
    let missing: Vec<&str> = [
        ("disk_format", img.disk_format.is_none()),
        ("container_format", img.container_format.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, unset)| unset.then_some(name))
    .collect();
    match missing.as_slice() {
        [] => {}
        [one] => {
            return Err(Fault::BadRequest(format!(
                "Property {one} must be set prior to saving data."
            )));
        }
        several => {
            return Err(Fault::BadRequest(format!(
                "Properties {} must be set prior to saving data.",
                several.join(", ")
            )));
        }
    }
    img.status = ImageStatus::Saving;
    img.updated_at = now;
    Ok(())
}

/// `image.status = 'queued'` after a failed upload: size and virtual size
/// are cleared, anything else (hashes Glance already set) stays.
pub fn restore_queued(img: &mut Image, now: OffsetDateTime) {
    if img.status == ImageStatus::Saving {
        img.status = ImageStatus::Queued;
        img.size = None;
        img.virtual_size = None;
        img.updated_at = now;
    }
}

/// Whether format inspection applies: only to `bare` containers.
pub fn inspected(img: &Image) -> bool {
    img.container_format.as_deref() == Some("bare")
}

/// Bytes `owner` may still store under `quota` (`user_storage_quota`, 0 is
/// unlimited), given all live images; the image being uploaded does not
/// count. `None` when unlimited. May be negative.
pub fn remaining_quota(
    quota: u64,
    images: &[Arc<Image>],
    owner: Option<&str>,
    image_id: &str,
) -> Option<i128> {
    if quota == 0 {
        return None;
    }
    let used: i128 = images
        .iter()
        .filter(|i| owner.is_some() && i.owner.as_deref() == owner && i.id != image_id)
        .filter(|i| {
            !matches!(
                i.status,
                ImageStatus::Killed | ImageStatus::Deleted | ImageStatus::PendingDelete
            )
        })
        .map(|i| i128::from(i.size.unwrap_or(0)) * i.stores.len() as i128)
        .sum();
    Some(i128::from(quota) - used)
}

fn quota_full(size: impl std::fmt::Display, remaining: i128) -> Fault {
    Fault::TooLarge(format!(
        "Image exceeds the storage quota: The size of the data {size} will exceed the limit. {remaining} bytes remaining."
    ))
}

/// `check_quota` before the data is read: refuse a known size that does
/// not fit, or any data when nothing is left. Returns the limit to
/// enforce while reading (none when the size is unknown or unlimited).
pub fn check_quota(size: Option<i64>, remaining: Option<i128>) -> Result<Option<u64>, Fault> {
    let Some(remaining) = remaining else {
        return Ok(None);
    };
    match size {
        None if remaining <= 0 => Err(quota_full("None", remaining)),
        None => Ok(None),
        Some(size) if i128::from(size) > remaining => Err(quota_full(size, remaining)),
        Some(_) => Ok(Some(u64::try_from(remaining).unwrap_or(0))),
    }
}

/// The 413 when the limit from [`check_quota`] is crossed while reading:
/// Glance raises it without arguments, so the template shows.
pub fn quota_crossed() -> Fault {
    Fault::TooLarge(
        "Image exceeds the storage quota: The size of the data %(image_size)s will exceed the limit. %(remaining)s bytes remaining.".into(),
    )
}

/// Finish an upload whose data is stored: on the `saving` record, check
/// the hashes against values already set, record them, apply the format
/// inspection `verdict` (for bare containers) and the storage quota, and
/// activate. On failure the record is left as Glance leaves it (queued,
/// hashes kept when Glance had already set them) and should be saved;
/// the stored data must then be removed.
pub fn finish(
    img: &mut Image,
    stored: &Stored,
    store_id: &str,
    verdict: Option<Result<Option<u64>, InvalidImageData>>,
    remaining: Option<i128>,
    now: OffsetDateTime,
) -> Result<(), UploadFault> {
    // `_verify_uploaded_data`: values already on the image must agree.
    let disagrees = img.size.is_some_and(|s| s != stored.size)
        || img
            .os_hash_value
            .as_deref()
            .is_some_and(|h| h != stored.os_hash_value)
        || img.checksum.as_deref().is_some_and(|c| c != stored.md5);
    if disagrees {
        restore_queued(img, now);
        return Err(UploadFault::Internal);
    }
    img.checksum = Some(stored.md5.clone());
    img.os_hash_algo = Some(stored.os_hash_algo.name().into());
    img.os_hash_value = Some(stored.os_hash_value.clone());
    img.size = Some(stored.size);
    let virtual_size = match verdict {
        None => None,
        Some(Ok(v)) => v,
        Some(Err(e)) => {
            restore_queued(img, now);
            return Err(e.into());
        }
    };
    if let Some(remaining) = remaining.filter(|r| i128::from(stored.size) > *r) {
        restore_queued(img, now);
        return Err(quota_full(stored.size, remaining).into());
    }
    if virtual_size.is_some() {
        img.virtual_size = virtual_size;
    }
    if !img.stores.iter().any(|s| s == store_id) {
        img.stores.push(store_id.to_owned());
    }
    img.status = ImageStatus::Active;
    img.updated_at = now;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HashAlgorithm;
    use crate::domain::time::now;

    fn queued() -> Image {
        let mut img = Image::new("i".into(), Some("p".into()), now());
        img.disk_format = Some("raw".into());
        img.container_format = Some("bare".into());
        img
    }

    fn stored(size: u64) -> Stored {
        Stored {
            size,
            md5: "m".into(),
            os_hash_algo: HashAlgorithm::Sha512,
            os_hash_value: "s".into(),
        }
    }

    #[test]
    fn begin_needs_queued_and_both_formats() {
        let mut img = queued();
        begin(&mut img, now()).expect("queued");
        assert_eq!(img.status, ImageStatus::Saving);
        assert_eq!(
            begin(&mut img, now()),
            Err(Fault::Conflict(
                "Image status transition from saving to saving is not allowed".into()
            ))
        );
        let mut bare = Image::new("i".into(), None, now());
        assert_eq!(
            begin(&mut bare, now()),
            Err(Fault::BadRequest(
                "Properties disk_format, container_format must be set prior to saving data.".into()
            ))
        );
        bare.disk_format = Some("raw".into());
        assert_eq!(
            begin(&mut bare, now()),
            Err(Fault::BadRequest(
                "Property container_format must be set prior to saving data.".into()
            ))
        );
        assert_eq!(bare.status, ImageStatus::Queued);
    }

    #[test]
    fn finish_activates_with_hashes_and_store() {
        let mut img = queued();
        begin(&mut img, now()).expect("saving");
        finish(
            &mut img,
            &stored(11),
            "cheap",
            Some(Ok(Some(11))),
            None,
            now(),
        )
        .expect("active");
        assert_eq!(img.status, ImageStatus::Active);
        assert_eq!(img.size, Some(11));
        assert_eq!(img.virtual_size, Some(11));
        assert_eq!(img.os_hash_algo.as_deref(), Some("sha512"));
        assert_eq!(img.stores, vec!["cheap".to_owned()]);
    }

    #[test]
    fn refused_data_leaves_hashes_on_a_queued_image() {
        let mut img = queued();
        img.disk_format = Some("qcow2".into());
        begin(&mut img, now()).expect("saving");
        let refused =
            InvalidImageData("Image disk_format qcow2 does not match stream data raw".into());
        let err = finish(
            &mut img,
            &stored(5),
            "fast",
            Some(Err(refused.clone())),
            None,
            now(),
        )
        .expect_err("refused");
        assert_eq!(err, UploadFault::InvalidData(refused));
        assert_eq!(img.status, ImageStatus::Queued);
        assert_eq!(img.size, None);
        assert_eq!(img.checksum.as_deref(), Some("m"));
        assert_eq!(img.os_hash_value.as_deref(), Some("s"));
        assert!(img.stores.is_empty());
        // Different data next time disagrees with the kept checksum: 500.
        begin(&mut img, now()).expect("saving again");
        let other = Stored {
            md5: "other".into(),
            ..stored(5)
        };
        assert_eq!(
            finish(&mut img, &other, "fast", None, None, now()),
            Err(UploadFault::Internal)
        );
        assert_eq!(img.status, ImageStatus::Queued);
    }

    #[test]
    fn quota_counts_other_live_images_per_store() {
        let mut a = queued();
        a.id = "a".into();
        a.size = Some(10);
        a.stores = vec!["fast".into(), "cheap".into()];
        a.status = ImageStatus::Active;
        let mut b = a.clone();
        b.id = "b".into();
        b.owner = Some("other".into());
        let mut c = a.clone();
        c.id = "c".into();
        c.status = ImageStatus::Killed;
        let images: Vec<Arc<Image>> = [a, b, c].into_iter().map(Arc::new).collect();
        assert_eq!(remaining_quota(0, &images, Some("p"), "x"), None);
        assert_eq!(remaining_quota(25, &images, Some("p"), "x"), Some(5));
        assert_eq!(remaining_quota(25, &images, Some("p"), "a"), Some(25));
        assert_eq!(remaining_quota(15, &images, Some("p"), "x"), Some(-5));
    }

    #[test]
    fn quota_checks_before_and_after_reading() {
        assert_eq!(check_quota(Some(25), None), Ok(None));
        assert_eq!(
            check_quota(Some(25), Some(20)),
            Err(Fault::TooLarge(
                "Image exceeds the storage quota: The size of the data 25 will exceed the limit. 20 bytes remaining.".into()
            ))
        );
        assert_eq!(check_quota(Some(5), Some(20)), Ok(Some(20)));
        assert_eq!(check_quota(None, Some(20)), Ok(None));
        assert!(
            matches!(check_quota(None, Some(0)), Err(Fault::TooLarge(m)) if m.contains("data None"))
        );
        let mut img = queued();
        begin(&mut img, now()).expect("saving");
        let err = finish(&mut img, &stored(30), "fast", None, Some(20), now()).expect_err("over");
        assert!(
            matches!(err, UploadFault::Fault(Fault::TooLarge(m)) if m.contains("data 30 will"))
        );
        assert_eq!(img.status, ImageStatus::Queued);
    }
}
