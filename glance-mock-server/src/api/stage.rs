//! `PUT /v2/images/{id}/stage`: data for a later glance-direct import,
//! kept in the staging area (not a configured store) while the image is
//! `uploading`, in the order Glance's deserializer and controller check.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::put;

use super::data::{octet_stream, upload_size, upload_stream};
use super::error::ApiError;
use super::identity::Caller;
use crate::domain::import::{begin_stage, finish_stage, restore_staged};
use crate::domain::policy::{self, Rule};
use crate::domain::{Fault, time};
use crate::state::SharedState;
use crate::store::StoreError;

/// Routes of this resource.
pub fn router() -> Router<super::ApiState> {
    Router::new().route("/v2/images/{id}/stage", put(stage))
}

/// While data is being staged the image is `uploading`; whatever ends the
/// request early (an error, or the client going away) puts it back to
/// `queued` and drops what was staged.
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

    fn queue_again(&self) {
        let _ = self.state.db.update(&self.id, &mut |img| {
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

fn staging_failure(e: StoreError, id: &str) -> ApiError {
    match e {
        StoreError::SizeExceeds { .. } | StoreError::SizeMismatch { .. } => {
            ApiError::bad_request(e.to_string())
        }
        StoreError::TooLarge => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The incoming image is too large: {e}"),
        ),
        StoreError::Duplicate(_) => {
            Fault::Conflict(format!("The image {id} has data on staging")).into()
        }
        StoreError::Source(source) => {
            ApiError::bad_request(format!("Error reading the request body: {source}"))
        }
        StoreError::NotFound(_) | StoreError::Io(_) => {
            tracing::error!("staging failed: {e}");
            ApiError::internal()
        }
    }
}

async fn stage(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    // RequestDeserializer.stage
    if !state
        .config
        .import_methods
        .iter()
        .any(|m| m == "glance-direct")
    {
        return Err(Fault::NotFound(
            "'glance-direct' method is not available at this site.".into(),
        )
        .into());
    }
    octet_stream(&headers)?;
    let size = upload_size(&headers)?;
    // ImageDataController.stage: get_image access, then modify_image.
    let current = state.db.get(&id, false);
    let current = policy::lookup(&who, current.as_deref(), &id)?;
    policy::enforce(&who, Rule::ModifyImage, current)?;
    let not_found = || Fault::NotFound(format!("No image found with ID {id}"));
    state
        .db
        .update(&id, &mut |img| begin_stage(img, time::now()))
        .ok_or_else(not_found)??;
    let mut guard = StagingGuard {
        state: state.clone(),
        id: id.clone(),
        armed: true,
    };
    let staged = state
        .staging
        .add(&id, upload_stream(body), size, state.config.image_size_cap)
        .await;
    let stored = match staged {
        Ok(stored) => stored,
        Err(e) => {
            // A duplicate is someone else's data: leave it.
            let theirs = matches!(e, StoreError::Duplicate(_));
            let err = staging_failure(e, &id);
            if theirs {
                guard.armed = false;
                guard.queue_again();
            } else {
                guard.restore().await;
            }
            return Err(err);
        }
    };
    let saved = state
        .db
        .update(&id, &mut |img| finish_stage(img, stored.size, time::now()));
    match saved {
        Some(Ok(_)) => {
            guard.armed = false;
            Ok(StatusCode::NO_CONTENT)
        }
        // Deleted (or changed) while staging: what was staged goes.
        Some(Err(e)) => {
            guard.restore().await;
            Err(e.into())
        }
        None => {
            guard.restore().await;
            Err(not_found().into())
        }
    }
}
