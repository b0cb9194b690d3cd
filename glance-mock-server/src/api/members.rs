//! `/v2/images/{id}/members` and `/v2/images/{id}/members/{member_id}`:
//! sharing an image with other projects.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Json;
use axum::routing::get;
use serde_json::Value;

use super::error::ApiError;
use super::identity::Caller;
use super::wsgi::{self, WsgiParams};
use crate::domain::{Fault, Image, members, time};
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Router<super::ApiState> {
    Router::new()
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

/// Apply a membership change to the live image `id` atomically, and
/// return what the change returned.
fn change<T>(
    state: &SharedState,
    id: &str,
    mut f: impl FnMut(&mut Image) -> Result<T, Fault>,
) -> Result<T, ApiError> {
    let mut out = None;
    state
        .db
        .update(id, &mut |img| {
            out = Some(f(img)?);
            Ok(())
        })
        .ok_or_else(|| members::image_not_found(id))??;
    out.ok_or_else(|| members::image_not_found(id).into())
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
    let image = state.db.get(id, false);
    let rows = members::list(&who, image.as_deref(), id)?;
    Ok(Json(members::list_view(id, &rows)))
}

async fn create(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = wsgi::json_body(&method, &headers, &body)?;
    let new = members::NewMember::from_body(body.as_ref())?;
    let id = params.get("id");
    let member = change(&state, id, |img| members::add(&who, img, &new, time::now()))?;
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
    let image = state.db.get(id, false);
    let member = members::show(&who, image.as_deref(), id, params.get("member_id"))?;
    Ok(Json(members::view(id, &member)))
}

async fn update(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = wsgi::json_body(&method, &headers, &body)?;
    let status = members::status_from_body(body.as_ref())?;
    let (id, member_id) = (params.get("id"), params.get("member_id"));
    let member = change(&state, id, |img| {
        members::set_status(&who, img, member_id, &status, time::now())
    })?;
    Ok(Json(members::view(id, &member)))
}

async fn remove(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    wsgi::reject_body(&method, &headers)?;
    let member_id = params.get("member_id");
    change(&state, params.get("id"), |img| {
        members::remove(&who, img, member_id)
    })?;
    Ok(StatusCode::NO_CONTENT)
}
