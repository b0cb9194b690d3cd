//! `/v2/images/{id}/locations`: list (`GET`) and add (`POST`) locations.
//! The use cases are in [`crate::app::locations`], the rules in
//! [`crate::domain::locations`].

use super::resources::Routes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;

use super::error::ApiError;
use super::identity::Caller;
use super::wsgi::{self, WsgiParams};
use crate::app;
use crate::domain::locations::NewLocation;
use crate::domain::metadefs::wsme;
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Routes {
    Routes::new().route("/v2/images/{id}/locations", get(list).post(add))
}

async fn list(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Result<Response, ApiError> {
    let locations = app::locations::list(&state, &who, params.get("id"))?;
    Ok(Json(locations).into_response())
}

async fn add(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
    wsgi::Body(bytes): wsgi::Body,
) -> Result<Response, ApiError> {
    let body = wsgi::json_body(&method, &headers, &bytes)?.map(|_| wsme::ordered(&bytes));
    let new = NewLocation::read(body.as_ref())?;
    app::locations::add(&state, &who, params.get("id"), &new)?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
    )
        .into_response())
}
