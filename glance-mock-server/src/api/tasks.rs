//! Tasks: `GET /v2/images/{id}/tasks`.
//!
//! Imports are what create tasks; until an image has been imported its
//! task list is empty.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Json;
use axum::routing::get;
use serde_json::{Value, json};

use super::SharedState;
use super::error::ApiError;
use super::identity::Caller;
use crate::domain::policy::{self, Rule};

/// Routes of this resource.
pub fn router() -> Router<SharedState> {
    Router::new().route("/v2/images/{id}/tasks", get(image_tasks))
}

async fn image_tasks(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let img = state.db.get(&id, false);
    let img = policy::lookup(&who, img.as_deref(), &id)?;
    policy::enforce(&who, Rule::GetImage, img)?;
    Ok(Json(json!({ "tasks": [] })))
}
