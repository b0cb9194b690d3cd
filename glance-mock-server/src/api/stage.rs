//! `PUT /v2/images/{id}/stage`: data for a later glance-direct import,
//! kept in the staging area (not a configured store) while the image is
//! `uploading`, in the order Glance's deserializer and controller check
//! (the controller's part is [`crate::app::staging::stage`]).

use super::resources::Routes;
use super::wsgi::Param;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::put;

use super::data::{octet_stream, upload_size, upload_stream};
use super::error::ApiError;
use super::identity::Caller;
use crate::app::staging::{self, StageError};
use crate::domain::Fault;
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Routes {
    Routes::new().route("/v2/images/{id}/stage", put(stage))
}

impl From<StageError> for ApiError {
    fn from(e: StageError) -> Self {
        match e {
            StageError::Refused(fault) => fault.into(),
            StageError::Failed(e) => {
                tracing::error!("staging failed: {e}");
                ApiError::internal()
            }
            StageError::Overtaken(_) => {
                ApiError::glance_crash(axum::http::StatusCode::CONFLICT, e.to_string())
            }
        }
    }
}

async fn stage(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Param([id]): Param<1>,
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
    // ImageDataController.stage
    staging::stage(&state, &who, &id, upload_stream(body), size).await?;
    Ok(StatusCode::NO_CONTENT)
}
