//! `/v2/cache...`: the cache management API. The use cases are in
//! [`crate::app::cache`] (rules in [`crate::domain::cache`], records in
//! [`crate::db::ImageCache`]).

use super::resources::Routes;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use super::error::ApiError;
use super::identity::Caller;
use super::versions::base_url;
use super::wsgi::WsgiParams;
use crate::app;
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Routes {
    Routes::new()
        .route("/v2/cache", get(list).delete(clear))
        .route("/v2/cache/{image_id}", put(queue).delete(remove))
        .route("/v2/cache/nodes/{image_id}", get(nodes))
        .route("/v2/cache/clean", post(clean))
        .route("/v2/cache/prune", post(prune))
}

async fn list(
    State(state): State<SharedState>,
    Caller(who): Caller,
) -> Result<Json<Value>, ApiError> {
    let (cached, queued) = app::cache::list(&state, &who)?;
    Ok(Json(
        json!({"cached_images": cached, "queued_images": queued}),
    ))
}

async fn clear(
    State(state): State<SharedState>,
    Caller(who): Caller,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let target = headers
        .get("x-image-cache-clear-target")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    app::cache::clear(&state, &who, target.as_deref())?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /v2/cache/{id}`: queue an active image (and, in the mock, cache it
/// before answering).
async fn queue(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Result<StatusCode, ApiError> {
    app::cache::queue(&state, &who, params.get("image_id")).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn remove(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Result<StatusCode, ApiError> {
    app::cache::remove(&state, &who, params.get("image_id"))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The nodes caching the image: this one (its `worker_self_reference_url`
/// is the URL it was reached at) or none.
async fn nodes(
    State(state): State<SharedState>,
    Caller(who): Caller,
    headers: HeaderMap,
    params: WsgiParams,
) -> Result<Json<Value>, ApiError> {
    let nodes: Vec<String> = if app::cache::cached_here(&state, &who, params.get("image_id"))? {
        vec![base_url(&headers)]
    } else {
        Vec::new()
    };
    Ok(Json(json!(nodes)))
}

async fn clean(
    State(state): State<SharedState>,
    Caller(who): Caller,
) -> Result<Response, ApiError> {
    app::cache::clean(&state, &who)?;
    Ok(StatusCode::OK.into_response())
}

async fn prune(
    State(state): State<SharedState>,
    Caller(who): Caller,
) -> Result<Json<Value>, ApiError> {
    let pruned = app::cache::prune(&state, &who)?;
    Ok(Json(json!({
        "total_files_pruned": pruned.files,
        "total_bytes_pruned": pruned.bytes,
    })))
}
