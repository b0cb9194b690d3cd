//! `/v2/images/{id}/locations`: list (`GET`) and add (`POST`) locations.
//! The rules are in [`crate::domain::locations`].

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;

use super::error::ApiError;
use super::identity::Caller;
use super::wsgi::{self, WsgiParams};
use crate::domain::locations::{self, NewLocation};
use crate::domain::metadefs::wsme;
use crate::domain::{Identity, Image, policy};
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Router<super::ApiState> {
    Router::new().route("/v2/images/{id}/locations", get(list).post(add))
}

/// `image_repo.get`: the image if the caller can see it.
fn image(state: &SharedState, who: &Identity, id: &str) -> Result<Image, ApiError> {
    let img = state.db.get(id, false);
    Ok(policy::lookup(who, img.as_deref(), id)?.clone())
}

async fn list(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Result<Response, ApiError> {
    let img = image(&state, &who, params.get("id"))?;
    Ok(Json(locations::list(&who, &img)?).into_response())
}

async fn add(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let body = wsgi::json_body(&method, &headers, &bytes)?.map(|_| wsme::ordered(&bytes));
    let new = NewLocation::read(body.as_ref())?;
    let img = image(&state, &who, params.get("id"))?;
    locations::add(&who, &img, &new)?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
    )
        .into_response())
}
