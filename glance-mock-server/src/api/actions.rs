//! `/v2/images/{id}/actions/deactivate` and `.../reactivate`. A body is
//! refused before the handlers run (the route's `body_reject`, in
//! [`super::routes`]).

use super::resources::Routes;
use super::wsgi::Param;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;

use super::error::ApiError;
use super::identity::Caller;
use crate::app::images;
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Routes {
    Routes::new()
        .route("/v2/images/{id}/actions/deactivate", post(deactivate))
        .route("/v2/images/{id}/actions/reactivate", post(reactivate))
}

async fn deactivate(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Param([id]): Param<1>,
) -> Result<StatusCode, ApiError> {
    images::deactivate(&state, &who, &id)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reactivate(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Param([id]): Param<1>,
) -> Result<StatusCode, ApiError> {
    images::reactivate(&state, &who, &id)?;
    Ok(StatusCode::NO_CONTENT)
}
