//! `/v2/images/{id}/members` and `/v2/images/{id}/members/{member_id}`:
//! sharing an image with other projects. The use cases are in
//! [`crate::app::members`].

use super::resources::Routes;
use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::Json;
use axum::routing::get;
use serde_json::Value;

use super::error::ApiError;
use super::identity::Caller;
use super::wsgi::{self, WsgiParams};
use crate::app;
use crate::domain::members;
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Routes {
    Routes::new()
        .route(
            "/v2/images/{id}/members",
            get(list)
                .post(create)
                .merge(wsgi::reject_other_methods("GET, POST")),
        )
        .route(
            "/v2/images/{id}/members/{member_id}",
            get(show)
                .put(update)
                .delete(remove)
                .merge(wsgi::reject_other_methods("GET, PUT, DELETE")),
        )
}

async fn list(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    wsgi::reject_body(&method, &headers)?;
    let id = params.get("id");
    let rows = app::members::list(&state, &who, id)?;
    Ok(Json(members::list_view(id, &rows)))
}

async fn create(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
    wsgi::Body(body): wsgi::Body,
) -> Result<Json<Value>, ApiError> {
    let body = wsgi::json_body(&method, &headers, &body)?;
    let new = members::NewMember::from_body(body.as_ref())?;
    let id = params.get("id");
    let member = app::members::add(&state, &who, id, &new)?;
    Ok(Json(new.view(id, &member)))
}

async fn show(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    wsgi::reject_body(&method, &headers)?;
    let id = params.get("id");
    let member = app::members::show(&state, &who, id, params.get("member_id"))?;
    Ok(Json(members::view(id, &member)))
}

async fn update(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
    wsgi::Body(body): wsgi::Body,
) -> Result<Json<Value>, ApiError> {
    let body = wsgi::json_body(&method, &headers, &body)?;
    let status = members::status_from_body(body.as_ref())?;
    let (id, member_id) = (params.get("id"), params.get("member_id"));
    let member = app::members::set_status(&state, &who, id, member_id, &status)?;
    Ok(Json(members::view(id, &member)))
}

async fn remove(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    wsgi::reject_body(&method, &headers)?;
    app::members::remove(&state, &who, params.get("id"), params.get("member_id"))?;
    // `webob.Response(status=204)`: no content type.
    Ok(wsgi::untyped_no_content())
}
