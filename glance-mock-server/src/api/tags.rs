//! `/v2/images/{id}/tags/{tag}`: add (`PUT`) and remove (`DELETE`) one tag.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::put;

use super::error::ApiError;
use super::identity::Caller;
use super::wsgi::{self, WsgiParams};
use crate::domain::{Fault, Image, tags, time};
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Router<super::ApiState> {
    Router::new().route(
        "/v2/images/{id}/tags/{tag}",
        put(add)
            .delete(remove)
            .merge(wsgi::reject_other_methods("PUT, DELETE")),
    )
}

/// Apply a tag change to the live image `id` atomically.
fn change(
    state: &SharedState,
    id: &str,
    mut f: impl FnMut(&mut Image) -> Result<(), Fault>,
) -> Result<StatusCode, ApiError> {
    state
        .db
        .update(id, &mut f)
        .ok_or_else(|| tags::image_not_found(id))??;
    Ok(StatusCode::NO_CONTENT)
}

async fn add(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    wsgi::reject_body(&method, &headers)?;
    let tag = params.get("tag");
    tags::validate(tag)?;
    change(&state, params.get("id"), |img| {
        tags::add(&who, img, tag, time::now())
    })
}

async fn remove(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    wsgi::reject_body(&method, &headers)?;
    let tag = params.get("tag");
    change(&state, params.get("id"), |img| {
        tags::remove(&who, img, tag, time::now())
    })
}
