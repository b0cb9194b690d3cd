//! Staging: data for a later glance-direct import, kept in the staging
//! area (not one of the configured stores) while the image is `uploading`
//! (`ImageDataController.stage`).

use super::records::{self, save_image};
use crate::domain::import::{abandon_stage, begin_stage, finish_stage, restore_staged};
use crate::domain::policy::{self, Rule};
use crate::domain::{Fault, Identity, time};
use crate::state::SharedState;
use crate::store::{DataStream, StoreError};

/// Why staging failed.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// Glance's answer (policy, the image's status, the data's size, data
    /// already staged, a body that could not be read).
    #[error(transparent)]
    Refused(#[from] Fault),
    /// The staging area itself failed: the mock's own failure, not one of
    /// Glance's answers.
    #[error("staging failed: {0}")]
    Failed(#[source] StoreError),
    /// An import took the image while its data was being staged: the stage
    /// failed at its end and the image is `queued` again (Glance answers
    /// 500 here, an unhandled conflict).
    #[error(
        "The image {0} was taken by an import while its data was being staged: the stage failed and the image is queued again"
    )]
    Overtaken(String),
}

/// While data is being staged the image is `uploading`; whatever ends the
/// stage early (an error, or the request dropped when the client goes
/// away) puts it back to `queued` and drops what was staged.
struct StagingGuard {
    state: SharedState,
    id: String,
    armed: bool,
}

impl StagingGuard {
    /// `_restore`/`_unstage` now: back to `queued`, nothing staged.
    async fn restore(mut self) {
        self.armed = false;
        self.queue_again();
        let _ = self.state.staging.delete(&self.id).await;
    }

    /// `_restore` only: back to `queued`, what is staged left alone.
    fn disarm_and_queue_again(mut self) {
        self.armed = false;
        self.queue_again();
    }

    /// Done: the image stays as staging left it.
    fn disarm(mut self) {
        self.armed = false;
    }

    fn queue_again(&self) {
        let _ = save_image(&self.state, &self.id, Fault::internal, |img| {
            restore_staged(img, time::now());
            Ok(())
        });
    }
}

impl Drop for StagingGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // The request was dropped half-way (the client went away).
        self.queue_again();
        let (state, id) = (self.state.clone(), self.id.clone());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = state.staging.delete(&id).await;
            });
        }
    }
}

/// What a failure of the staging store answers, as Glance's `stage`
/// handles the exceptions of `set_data` into the staging store.
fn staging_failure(e: StoreError, id: &str) -> StageError {
    let refused = match e {
        StoreError::SizeExceeds { .. } | StoreError::SizeMismatch { .. } => {
            Fault::BadRequest(e.to_string())
        }
        StoreError::TooLarge => Fault::TooLarge(format!("The incoming image is too large: {e}")),
        StoreError::StorageFull => Fault::TooLarge(format!("Image storage media is full: {e}")),
        StoreError::Duplicate(_) => Fault::Conflict(format!("The image {id} has data on staging")),
        StoreError::Source(source) => {
            Fault::BadRequest(format!("Error reading the request body: {source}"))
        }
        StoreError::NotFound(_) | StoreError::Io(_) => return StageError::Failed(e),
    };
    StageError::Refused(refused)
}

/// `ImageDataController.stage` (after `RequestDeserializer.stage` checked
/// that glance-direct is enabled and read the headers): `get_image`
/// access, `modify_image`, the image to `uploading`, `data` (`size` bytes
/// if announced, at most `image_size_cap`) into the staging area, then
/// the staged size recorded. Any failure (or the future dropped half-way)
/// puts the image back to `queued` and drops what was staged, except
/// data already on staging, which is someone else's.
pub async fn stage(
    state: &SharedState,
    who: &Identity,
    id: &str,
    data: DataStream,
    size: Option<i64>,
) -> Result<(), StageError> {
    let current = records::find_image(state, id)?;
    let current = policy::lookup(who, current.as_deref(), id)?;
    policy::enforce(who, Rule::ModifyImage, current)?;
    let not_found = || Fault::NotFound(format!("No image found with ID {id}"));
    save_image(state, id, not_found, |img| begin_stage(img, time::now()))?;
    let guard = StagingGuard {
        state: state.clone(),
        id: id.to_owned(),
        armed: true,
    };
    let staged = state
        .staging
        .add(id, data, size, state.config.image_size_cap)
        .await;
    let stored = match staged {
        Ok(stored) => stored,
        Err(e) => {
            // A duplicate is someone else's data: leave it.
            let theirs = matches!(e, StoreError::Duplicate(_));
            let err = staging_failure(e, id);
            if theirs {
                guard.disarm_and_queue_again();
            } else {
                guard.restore().await;
            }
            return Err(err);
        }
    };
    let saved = save_image(state, id, not_found, |img| {
        finish_stage(img, stored.size, time::now())
    });
    match saved {
        Ok(_) => {
            guard.disarm();
            Ok(())
        }
        // Deleted (or changed) while staging: what was staged goes.
        Err(e) => {
            let abandoned = save_image(state, id, not_found, |img| {
                Ok(abandon_stage(img, time::now()))
            });
            guard.restore().await;
            if let Ok((_, true)) = abandoned {
                return Err(StageError::Overtaken(id.to_owned()));
            }
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    #[test]
    fn staging_store_failures_are_answered_as_glance_answers_them() {
        let refused = |e| match staging_failure(e, "img") {
            StageError::Refused(f) => Some(f),
            StageError::Failed(_) | StageError::Overtaken(_) => None,
        };
        let size = StoreError::SizeMismatch {
            expected: 3,
            got: 2,
        };
        assert_eq!(
            refused(size),
            Some(Fault::BadRequest(
                "Size mismatch: expected 3 bytes, got 2 bytes".into()
            ))
        );
        assert_eq!(
            refused(StoreError::TooLarge),
            Some(Fault::TooLarge(
                "The incoming image is too large: The provided image is too large.".into()
            ))
        );
        assert_eq!(
            refused(StoreError::Duplicate("img".into())),
            Some(Fault::Conflict("The image img has data on staging".into()))
        );
        assert_eq!(
            refused(StoreError::Source(io::Error::other("gone"))),
            Some(Fault::BadRequest(
                "Error reading the request body: gone".into()
            ))
        );
        assert_eq!(refused(StoreError::Io(io::Error::other("disk"))), None);
        assert_eq!(refused(StoreError::NotFound("img".into())), None);
    }
}
