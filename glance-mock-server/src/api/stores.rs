//! `DELETE /v2/stores/{store_id}/{image_id}`: remove an image's data from
//! one of the stores holding it.

use super::resources::Routes;
use super::wsgi::Param;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::delete;

use super::error::ApiError;
use super::identity::Caller;
use crate::app::images;
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Routes {
    Routes::new().route("/v2/stores/{store}/{id}", delete(delete_from_store))
}

/// `DELETE /v2/stores/{store}/{id}`: webob's 404 where no stores are
/// configured (Glance has no such route then), else
/// [`images::delete_from_store`].
async fn delete_from_store(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Param([store, id]): Param<2>,
) -> Result<StatusCode, ApiError> {
    if state.config.stores.is_empty() {
        return Err(ApiError::not_found_default());
    }
    images::delete_from_store(&state, &who, &store, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
