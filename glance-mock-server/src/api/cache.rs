//! `/v2/cache...`: the cache management API, answered as by a Glance
//! without an image cache (see [`crate::domain::cache`]).

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post, put};

use super::SharedState;
use super::error::ApiError;
use super::identity::Caller;
use super::wsgi::WsgiParams;
use crate::domain::cache::{self, Rule};
use crate::domain::{Fault, policy};

/// Routes of this resource.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v2/cache", get(list).delete(clear))
        .route("/v2/cache/{image_id}", put(queue).delete(remove))
        .route("/v2/cache/nodes/{image_id}", get(nodes))
        .route("/v2/cache/clean", post(locked))
        .route("/v2/cache/prune", post(locked))
}

async fn list(Caller(who): Caller) -> ApiError {
    cache::enforce(&who, Rule::List)
        .err()
        .unwrap_or_else(Fault::internal)
        .into()
}

async fn clear(Caller(who): Caller) -> ApiError {
    cache::enforce(&who, Rule::Delete)
        .err()
        .unwrap_or_else(Fault::internal)
        .into()
}

async fn nodes(Caller(who): Caller) -> ApiError {
    cache::enforce(&who, Rule::ListCachedNodes)
        .err()
        .unwrap_or_else(Fault::internal)
        .into()
}

/// Whether the caller can see the image (Glance's `image_repo.get`).
fn visible(state: &SharedState, who: &crate::domain::Identity, id: &str) -> bool {
    state
        .db
        .get(id, false)
        .is_some_and(|img| policy::can_see(who, &img))
}

async fn queue(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> ApiError {
    let id = params.get("image_id");
    if !visible(&state, &who, id) {
        return cache::image_not_found(id).into();
    }
    cache::enforce(&who, Rule::Image)
        .err()
        .unwrap_or_else(Fault::internal)
        .into()
}

async fn remove(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> ApiError {
    if !visible(&state, &who, params.get("image_id")) {
        // Glance asks its (missing) cache whether it holds the image.
        return Fault::internal().into();
    }
    cache::enforce(&who, Rule::Delete)
        .err()
        .unwrap_or_else(Fault::internal)
        .into()
}

/// `clean_cache` and `prune_cache` take an external lock first, which
/// fails without a configured `lock_path`.
async fn locked(Caller(_): Caller) -> ApiError {
    Fault::internal().into()
}
