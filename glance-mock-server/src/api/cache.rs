//! `/v2/cache...`: the cache management API (rules in
//! [`crate::domain::cache`], records in [`crate::db::ImageCache`]).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use super::error::ApiError;
use super::identity::Caller;
use super::versions::base_url;
use super::wsgi::WsgiParams;
use crate::domain::cache::{self, ClearTarget, Rule};
use crate::domain::{Fault, Identity, ImageStatus, policy, time};
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Router<super::ApiState> {
    Router::new()
        .route("/v2/cache", get(list).delete(clear))
        .route("/v2/cache/{image_id}", put(queue).delete(remove))
        .route("/v2/cache/nodes/{image_id}", get(nodes))
        .route("/v2/cache/clean", post(clean))
        .route("/v2/cache/prune", post(prune))
}

fn enforce(state: &SharedState, who: &Identity, rule: Rule) -> Result<(), ApiError> {
    Ok(cache::enforce(who, rule, state.config.cache.enabled)?)
}

/// Whether the caller can see the image (Glance's `image_repo.get`), and
/// its status.
fn visible(state: &SharedState, who: &Identity, id: &str) -> Option<ImageStatus> {
    state
        .db
        .get(id, false)
        .filter(|img| policy::can_see(who, img))
        .map(|img| img.status)
}

async fn list(
    State(state): State<SharedState>,
    Caller(who): Caller,
) -> Result<Json<Value>, ApiError> {
    enforce(&state, &who, Rule::List)?;
    let (cached, queued) = state.cache.state();
    Ok(Json(
        json!({"cached_images": cached, "queued_images": queued}),
    ))
}

async fn clear(
    State(state): State<SharedState>,
    Caller(who): Caller,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    enforce(&state, &who, Rule::Delete)?;
    let target = headers
        .get("x-image-cache-clear-target")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    match ClearTarget::parse(target.as_deref())? {
        ClearTarget::Both => {
            state.cache.clear_cached();
            state.cache.clear_queued();
        }
        ClearTarget::Cache => {
            state.cache.clear_cached();
        }
        ClearTarget::Queue => {
            state.cache.clear_queued();
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /v2/cache/{id}`: queue an active image. Glance's cache worker
/// then prefetches it on a thread, usually within milliseconds; the mock
/// prefetches before answering, so the image is listed as cached at once.
async fn queue(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Result<StatusCode, ApiError> {
    let id = params.get("image_id");
    let status = visible(&state, &who, id).ok_or_else(|| cache::image_not_found(id))?;
    enforce(&state, &who, Rule::Image)?;
    if status != ImageStatus::Active {
        return Err(cache::not_active().into());
    }
    state.cache.queue(id);
    prefetch(&state, id).await;
    Ok(StatusCode::ACCEPTED)
}

/// `Prefetcher.fetch_image_into_cache`: read the active image's data from
/// its first store that holds it into the cache.
async fn prefetch(state: &SharedState, id: &str) {
    let Some(img) = state.db.get(id, false) else {
        return;
    };
    if img.status != ImageStatus::Active || state.cache.is_cached(id) {
        return;
    }
    for store_id in &img.stores {
        if let Some(store) = state.store.get(store_id)
            && let Ok(size) = store.get_size(id).await
        {
            state
                .cache
                .read_through(id, size, time::epoch_seconds(time::now()));
            return;
        }
    }
}

async fn remove(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Result<StatusCode, ApiError> {
    let id = params.get("image_id");
    let seen = visible(&state, &who, id).is_some();
    if !state.config.cache.enabled {
        if !seen {
            // Glance asks its (missing) cache whether it holds the image.
            return Err(Fault::internal().into());
        }
        enforce(&state, &who, Rule::Delete)?;
    }
    if !seen && !state.cache.holds(id) {
        return Err(cache::image_not_found(id).into());
    }
    enforce(&state, &who, Rule::Delete)?;
    state.cache.remove(id);
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
    enforce(&state, &who, Rule::ListCachedNodes)?;
    let id = params.get("image_id");
    if visible(&state, &who, id).is_none() {
        return Err(cache::image_not_found(id).into());
    }
    let nodes: Vec<String> = if state.cache.is_cached(id) {
        vec![base_url(&headers)]
    } else {
        Vec::new()
    };
    Ok(Json(json!(nodes)))
}

/// `clean_cache` and `prune_cache` take an external lock first, which
/// fails without a cache (no `lock_path` configured, as in the reference
/// deployment).
fn locked(state: &SharedState) -> Result<(), ApiError> {
    if state.config.cache.enabled {
        Ok(())
    } else {
        Err(Fault::internal().into())
    }
}

/// Nothing in the mock's cache is ever invalid or stalled.
async fn clean(
    State(state): State<SharedState>,
    Caller(who): Caller,
) -> Result<Response, ApiError> {
    locked(&state)?;
    enforce(&state, &who, Rule::Clean)?;
    Ok(StatusCode::OK.into_response())
}

/// The mock's cache holds no copies, so it never exceeds
/// `image_cache_max_size`: nothing to prune.
async fn prune(
    State(state): State<SharedState>,
    Caller(who): Caller,
) -> Result<Json<Value>, ApiError> {
    locked(&state)?;
    enforce(&state, &who, Rule::Prune)?;
    Ok(Json(
        json!({"total_files_pruned": 0, "total_bytes_pruned": 0}),
    ))
}
