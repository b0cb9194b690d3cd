//! `/v2/images/{id}/tags/{tag}`: add (`PUT`) and remove (`DELETE`) one tag.
//! The use cases are in [`crate::app::tags`].

use super::resources::Routes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::put;

use super::error::ApiError;
use super::identity::Caller;
use super::wsgi::{self, WsgiParams};
use crate::app;
use crate::domain::tags;
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Routes {
    Routes::new().route(
        "/v2/images/{id}/tags/{tag}",
        put(add)
            .delete(remove)
            .merge(wsgi::reject_other_methods("PUT, DELETE")),
    )
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
    app::tags::add(&state, &who, params.get("id"), tag)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    wsgi::reject_body(&method, &headers)?;
    app::tags::remove(&state, &who, params.get("id"), params.get("tag"))?;
    Ok(StatusCode::NO_CONTENT)
}
