//! What an import does to its image, step by step (`api_image_import`'s
//! `_ImportActions`): the lock, the `os_glance_importing_to_stores` and
//! `os_glance_failed_import` lists, locations gained and lost, and the
//! status it starts and ends with. Each function changes a draft of the
//! record; the caller saves it only when Glance would.

use time::OffsetDateTime;

use super::ImportMethod;
use crate::domain::Stored;
use crate::domain::inspect::InvalidImageData;
use crate::domain::{Fault, Image, ImageStatus};

/// The image property naming the task that holds the import lock.
pub const IMPORT_TASK: &str = "os_glance_import_task";
/// Stores an import still has to fill.
pub const IMPORTING: &str = "os_glance_importing_to_stores";
/// Stores an import failed to fill.
pub const FAILED: &str = "os_glance_failed_import";
/// Where the data was staged (dropped when an import starts).
pub const STAGE_HOST: &str = "os_glance_stage_host";

/// Whether `task_id` holds the image's import lock.
pub fn holds_lock(img: &Image, task_id: &str) -> bool {
    img.properties.get(IMPORT_TASK).map(String::as_str) == Some(task_id)
}

/// `set_property_atomic`: take the lock (refused if someone holds it).
pub fn take_lock(img: &mut Image, task_id: &str) -> Result<(), Fault> {
    if img.properties.contains_key(IMPORT_TASK) {
        return Err(Fault::Conflict(format!(
            "New operation on image '{}' is not permitted as prior operation is still in progress",
            img.id
        )));
    }
    img.properties.insert(IMPORT_TASK.into(), task_id.into());
    Ok(())
}

/// `delete_property_atomic`: drop the lock if `task_id` holds it.
pub fn drop_lock(img: &mut Image, task_id: &str) -> bool {
    if holds_lock(img, task_id) {
        img.properties.remove(IMPORT_TASK);
        true
    } else {
        false
    }
}

/// `merge_store_list`: add `stores` to (or take them from) the list
/// property `key`, which is then the sorted, comma-joined set.
pub fn merge_store_list(img: &mut Image, key: &str, stores: &[String], subtract: bool) {
    let mut set: std::collections::BTreeSet<String> = img
        .properties
        .get(key)
        .map(String::as_str)
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    for store in stores.iter().filter(|s| !s.is_empty()) {
        if subtract {
            set.remove(store);
        } else {
            set.insert(store.clone());
        }
    }
    let joined: Vec<String> = set.into_iter().collect();
    img.properties.insert(key.into(), joined.join(","));
}

/// The end of `get_flow`: the image is `importing` (copy-image leaves it
/// active), the target stores are being imported to and no longer failed.
pub fn begin(
    img: &mut Image,
    method: ImportMethod,
    stores: &[String],
    now: OffsetDateTime,
) -> Result<(), Fault> {
    if method != ImportMethod::CopyImage {
        if img.status != ImageStatus::Importing && !img.status.can_become(ImageStatus::Importing) {
            return Err(Fault::Conflict(format!(
                "Image status transition from {} to importing is not allowed",
                img.status.as_str()
            )));
        }
        img.status = ImageStatus::Importing;
    }
    merge_store_list(img, IMPORTING, stores, false);
    merge_store_list(img, FAILED, stores, true);
    img.properties.remove(STAGE_HOST);
    img.updated_at = now;
    Ok(())
}

/// Why storing imported data into one store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreFault {
    /// The data's size, checksum or hash disagrees with the image's
    /// (Glance's `UploadException`: the task fails with this text).
    #[error("{0} of uploaded data is different from current value set on the image.")]
    Disagrees(&'static str),
    /// The staged size is not the image's (`ImportTaskError`).
    #[error("Image size mismatch. Expected {expected} but got {actual}")]
    SizeMismatch {
        /// The image's size.
        expected: u64,
        /// The staged data's.
        actual: u64,
    },
    /// Format inspection refused the data.
    #[error(transparent)]
    InvalidData(#[from] InvalidImageData),
}

/// `set_image_data` before the data moves: a size already on the image
/// must be the staged data's.
pub fn check_size(img: &Image, staged: u64) -> Result<(), StoreFault> {
    match img.size {
        Some(expected) if expected != staged => Err(StoreFault::SizeMismatch {
            expected,
            actual: staged,
        }),
        _ => Ok(()),
    }
}

/// `set_data` after the data reached `store`: values already set must
/// agree, then the location, hashes and size are recorded, the format
/// `verdict` (bare containers only) gives the virtual size, and the image
/// becomes active when `set_active`.
///
/// A refused format is reported after the location was recorded, as in
/// Glance: an import that goes on past a failed store
/// (`all_stores_must_succeed: false`) saves the image that way.
pub fn record_location(
    img: &mut Image,
    stored: &Stored,
    store: &str,
    verdict: Option<Result<Option<u64>, InvalidImageData>>,
    set_active: bool,
    now: OffsetDateTime,
) -> Result<(), StoreFault> {
    if img.size.is_some_and(|s| s != stored.size) {
        return Err(StoreFault::Disagrees("size"));
    }
    if img
        .os_hash_value
        .as_deref()
        .is_some_and(|h| h != stored.os_hash_value)
    {
        return Err(StoreFault::Disagrees("os_hash_value"));
    }
    if img.checksum.as_deref().is_some_and(|c| c != stored.md5) {
        return Err(StoreFault::Disagrees("checksum"));
    }
    if !img.stores.iter().any(|s| s == store) {
        img.stores.push(store.to_owned());
    }
    img.checksum = Some(stored.md5.clone());
    img.os_hash_value = Some(stored.os_hash_value.clone());
    img.size = Some(stored.size);
    img.os_hash_algo = Some(stored.os_hash_algo.name().into());
    img.updated_at = now;
    let virtual_size = match verdict {
        None => None,
        Some(v) => v?,
    };
    if let Some(v) = virtual_size.filter(|v| *v > 0) {
        img.virtual_size = Some(v);
    }
    if set_active {
        img.status = ImageStatus::Active;
    }
    img.updated_at = now;
    Ok(())
}

/// `remove_location_for_store`: the location in `store` goes; with the
/// last one go the checksum, hashes and size. Whether there was one.
pub fn remove_location(img: &mut Image, store: &str) -> bool {
    let Some(at) = img.stores.iter().position(|s| s == store) else {
        return false;
    };
    img.stores.remove(at);
    if img.stores.is_empty() {
        img.checksum = None;
        img.os_hash_algo = None;
        img.os_hash_value = None;
        img.size = None;
    }
    true
}

/// A failed import of one store, when the flow goes on
/// (`all_stores_must_succeed: false`) or is reverted: it is no longer
/// being imported to, and (if it is the one that failed) it failed.
pub fn store_done(img: &mut Image, store: &str, failed: bool) {
    let one = [store.to_owned()];
    if failed {
        merge_store_list(img, FAILED, &one, false);
    }
    merge_store_list(img, IMPORTING, &one, true);
}

/// `BaseDownload.revert`: a failed download puts the image back to
/// `queued` with every target store failed.
pub fn download_failed(img: &mut Image, stores: &[String], now: OffsetDateTime) {
    img.status = ImageStatus::Queued;
    merge_store_list(img, IMPORTING, stores, true);
    merge_store_list(img, FAILED, stores, false);
    img.updated_at = now;
}

/// `_cleanup_stale_task_progress`: after taking over a stale lock, the
/// old task's stores leave both lists (each list is rewritten in its
/// order, without re-sorting). Whether anything changed.
pub fn clean_stale_progress(img: &mut Image, stores: &[String]) -> bool {
    let mut changed = false;
    for store in stores {
        for key in [IMPORTING, FAILED] {
            let mut values: Vec<String> = img
                .properties
                .get(key)
                .map_or("", String::as_str)
                .split(',')
                .map(str::to_owned)
                .collect();
            if let Some(at) = values.iter().position(|v| v == store) {
                values.remove(at);
                changed = true;
            }
            img.properties.insert(key.into(), values.join(","));
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HashAlgorithm;
    use crate::domain::time::now;

    fn image(status: ImageStatus) -> Image {
        let mut img = Image::new("i".into(), Some("p".into()), now());
        img.status = status;
        img
    }

    fn stored() -> Stored {
        Stored {
            size: 5,
            md5: "m".into(),
            os_hash_algo: HashAlgorithm::Sha512,
            os_hash_value: "s".into(),
        }
    }

    fn stores(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn store_lists_are_sorted_sets() {
        let mut img = image(ImageStatus::Uploading);
        begin(
            &mut img,
            ImportMethod::GlanceDirect,
            &stores(&["fast", "cheap"]),
            now(),
        )
        .expect("importing");
        assert_eq!(img.status, ImageStatus::Importing);
        assert_eq!(img.properties[IMPORTING], "cheap,fast");
        assert_eq!(img.properties[FAILED], "");
        store_done(&mut img, "cheap", true);
        assert_eq!(img.properties[IMPORTING], "fast");
        assert_eq!(img.properties[FAILED], "cheap");
        store_done(&mut img, "fast", false);
        assert_eq!(img.properties[IMPORTING], "");
    }

    #[test]
    fn copy_image_stays_active_and_others_need_a_valid_transition() {
        let mut img = image(ImageStatus::Active);
        begin(
            &mut img,
            ImportMethod::CopyImage,
            &stores(&["cheap"]),
            now(),
        )
        .expect("copying");
        assert_eq!(img.status, ImageStatus::Active);
        let mut gone = image(ImageStatus::Active);
        assert!(
            begin(
                &mut gone,
                ImportMethod::WebDownload,
                &stores(&["fast"]),
                now()
            )
            .is_err()
        );
    }

    #[test]
    fn locks_belong_to_one_task() {
        let mut img = image(ImageStatus::Uploading);
        take_lock(&mut img, "t1").expect("free");
        assert!(take_lock(&mut img, "t2").is_err());
        assert!(!drop_lock(&mut img, "t2"));
        assert!(drop_lock(&mut img, "t1"));
        assert!(!img.properties.contains_key(IMPORT_TASK));
    }

    #[test]
    fn locations_bring_hashes_and_take_them_away() {
        let mut img = image(ImageStatus::Importing);
        img.size = Some(5);
        record_location(&mut img, &stored(), "fast", Some(Ok(Some(5))), false, now())
            .expect("stored");
        assert_eq!(img.status, ImageStatus::Importing);
        record_location(&mut img, &stored(), "cheap", None, true, now()).expect("stored");
        assert_eq!(img.status, ImageStatus::Active);
        assert_eq!(img.stores, stores(&["fast", "cheap"]));
        assert_eq!(
            (img.virtual_size, img.os_hash_algo.as_deref()),
            (Some(5), Some("sha512"))
        );
        let other = Stored {
            md5: "x".into(),
            ..stored()
        };
        assert_eq!(
            record_location(&mut img, &other, "x", None, true, now()),
            Err(StoreFault::Disagrees("checksum"))
        );
        assert!(remove_location(&mut img, "fast"));
        assert_eq!(img.size, Some(5));
        assert!(remove_location(&mut img, "cheap"));
        assert_eq!((img.size, img.checksum.as_deref()), (None, None));
        assert_eq!(check_size(&image(ImageStatus::Importing), 7), Ok(()));
        assert_eq!(
            StoreFault::Disagrees("size").to_string(),
            "size of uploaded data is different from current value set on the image."
        );
    }

    #[test]
    fn failed_downloads_queue_the_image_again() {
        let mut img = image(ImageStatus::Importing);
        img.properties.insert(IMPORTING.into(), "cheap,fast".into());
        download_failed(&mut img, &stores(&["fast", "cheap"]), now());
        assert_eq!(img.status, ImageStatus::Queued);
        assert_eq!(img.properties[FAILED], "cheap,fast");
        assert_eq!(img.properties[IMPORTING], "");
    }

    #[test]
    fn stale_progress_is_cleaned_in_place() {
        let mut img = image(ImageStatus::Uploading);
        img.properties.insert(IMPORTING.into(), "fast,cheap".into());
        assert!(clean_stale_progress(&mut img, &stores(&["fast"])));
        assert_eq!(img.properties[IMPORTING], "cheap");
        assert_eq!(img.properties[FAILED], "");
        assert!(!clean_stale_progress(&mut img, &stores(&["x"])));
    }
}
