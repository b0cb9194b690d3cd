//! `/v2/images/{id}/actions/deactivate` and `.../reactivate`. A body is
//! refused before the handlers run (the route's `body_reject`, in
//! [`super::routes`]).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;

use super::error::ApiError;
use super::identity::Caller;
use crate::domain::policy::Rule;
use crate::domain::{Fault, Identity, Image, activation, policy, time};
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Router<super::ApiState> {
    Router::new()
        .route("/v2/images/{id}/actions/deactivate", post(deactivate))
        .route("/v2/images/{id}/actions/reactivate", post(reactivate))
}

type Switch = fn(&mut Image, ::time::OffsetDateTime) -> Result<bool, Fault>;

/// `ImageActionsController`: look the image up (404), check the `rule`
/// (403, or 404 for a caller who may not even read it), then switch its
/// status (403 from a wrong state; no change when it is already there).
fn act(
    state: &SharedState,
    who: &Identity,
    id: &str,
    rule: Rule,
    switch: Switch,
) -> Result<StatusCode, ApiError> {
    let current = state.db.get(id, false);
    let current = policy::lookup(who, current.as_deref(), id)?;
    policy::enforce(who, rule, current)?;
    let not_found = || Fault::NotFound(format!("No image found with ID {id}"));
    // A repeated action leaves the record as it is, updated_at included.
    state
        .db
        .update(id, &mut |img| switch(img, time::now()).map(drop))
        .ok_or_else(not_found)??;
    Ok(StatusCode::NO_CONTENT)
}

async fn deactivate(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    act(&state, &who, &id, Rule::Deactivate, activation::deactivate)
}

async fn reactivate(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    act(&state, &who, &id, Rule::Reactivate, activation::reactivate)
}
