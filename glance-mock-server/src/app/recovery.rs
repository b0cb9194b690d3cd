//! What the mock does when it starts on state a previous process left
//! (`--data-dir`): remove what unfinished transfers left, and make the
//! stores agree with the records.
//!
//! A process killed mid-upload leaves a temporary file in the store's
//! folder; one killed mid-stage, one in the staging area: both go. The
//! image stays as Glance 33 leaves it when its API process dies (tried on
//! the real service): `saving` after an upload, `uploading` after a
//! stage, with no data (its download answers 204) and deletable. Killed
//! between the last byte and the record's update, the store holds the
//! complete file of an image whose record does not list that store: the
//! file goes too, so the image is never active without its data, and no
//! data stays for a record that does not list it. Staged data stays for
//! every image that still exists (it waits for an import).
//!
//! Several processes may serve one state (one `--data-dir`). Temporary
//! files are removed only when no live process holds them (each upload
//! locks its own); files no record lists only by a process that started
//! alone ([`crate::state::NodeLock`]), before it lets others in.

use crate::state::AppState;
use crate::store::StoreError;

/// What [`recover`] removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Temporary files of transfers that never finished.
    pub leftovers: usize,
    /// Image files no record lists, as `(store, image id)`.
    pub orphans: Vec<(String, String)>,
}

/// Clean up after the process that last used this state; run on start,
/// before anything else touches it. Without a database the records start
/// empty, so only temporary files are removed: the stores' data waits for
/// a seed to claim it.
pub async fn recover(state: &AppState) -> Result<Recovered, StoreError> {
    let mut done = Recovered::default();
    for (_, store) in state.store.iter() {
        done.leftovers += store.remove_leftovers().await?;
    }
    done.leftovers += state.staging.remove_leftovers().await?;
    // Files no record lists may be an upload of a live process between
    // its last byte and its record's update: removed only when no other
    // process serves this state.
    if state.config.database.is_none() || !state.node.alone() {
        state.node.share().map_err(StoreError::Io)?;
        return Ok(done);
    }
    let records = state
        .repo
        .images
        .image_scan(false)
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
    let lists = |image: &str, store: &str| {
        records
            .iter()
            .any(|r| r.id == image && r.stores.iter().any(|s| s == store))
    };
    for (store_id, store) in state.store.iter() {
        for image in store.image_ids().await? {
            if !lists(&image, store_id) {
                store.delete(&image).await?;
                done.orphans.push((store_id.to_owned(), image));
            }
        }
    }
    for image in state.staging.image_ids().await? {
        if !records.iter().any(|r| r.id == image) {
            state.staging.delete(&image).await?;
            done.orphans
                .push((crate::control::dump::STAGING_STORE.to_owned(), image));
        }
    }
    state.node.share().map_err(StoreError::Io)?;
    if done != Recovered::default() {
        tracing::warn!(
            "recovered from an unfinished run: removed {} temporary files and {} files of no record ({:?})",
            done.leftovers,
            done.orphans.len(),
            done.orphans
        );
    }
    Ok(done)
}
