//! `DELETE /v2/stores/{store_id}/{image_id}`: remove an image's data from
//! one of the stores holding it.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::delete;

use super::error::ApiError;
use super::identity::Caller;
use crate::domain::{Fault, import, policy, time};
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Router<super::ApiState> {
    Router::new().route("/v2/stores/{store}/{id}", delete(delete_from_store))
}

/// `ImagesController.delete_from_store`: a configured store (409), a
/// visible image (404), then the rules of
/// [`import::delete_from_store`]; the data goes with the location.
async fn delete_from_store(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Path((store, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    if state.config.stores.is_empty() {
        return Err(ApiError::not_found_default());
    }
    if !state.config.has_store(&store) {
        return Err(Fault::Conflict(format!(
            "The selected store {store} is not available on this node."
        ))
        .into());
    }
    let not_found = || Fault::NotFound(format!("Failed to find image {id}"));
    let current = state.db.get(&id, false);
    policy::lookup(&who, current.as_deref(), &id).map_err(|_| not_found())?;
    state
        .db
        .update(&id, &mut |img| {
            import::delete_from_store(&who, img, &store)?;
            img.updated_at = time::now();
            Ok(())
        })
        .ok_or_else(not_found)??;
    state.store.delete(&store, &id).await;
    Ok(StatusCode::NO_CONTENT)
}
