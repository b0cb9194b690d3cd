//! `/_mock/files`: HTTP over the served files ([`crate::app::files`]).
//!
//! | request | answer |
//! | --- | --- |
//! | `PUT /_mock/files/{name}` (the bytes as body) | 201 (new) or 200 (replaced), `{"name", "size", "url"}` |
//! | `GET`/`HEAD /_mock/files/{name}` | 200, the bytes (`application/octet-stream`); open to anyone |
//! | `DELETE /_mock/files/{name}` | 204 |
//! | `GET /_mock/files` | `{"files": [{"name", "size"}, ...]}` |
//!
//! An unknown name is a 404; a name that is not one plain segment
//! ([`crate::control::files::valid_name`]) a 400; a body over
//! [`FILE_SIZE_LIMIT`] a 413.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::api::ApiState;
use crate::api::error::ApiError;
use crate::api::versions::base_url;
use crate::app::files;
use crate::control::Control;
use crate::control::files::FILE_SIZE_LIMIT;

/// The `/_mock/files` routes, merged into the control plane's.
pub fn routes() -> Router<ApiState> {
    Router::new().route("/_mock/files", get(list)).route(
        "/_mock/files/{name}",
        get(read)
            .put(put)
            .delete(remove)
            .layer(DefaultBodyLimit::max(FILE_SIZE_LIMIT)),
    )
}

async fn list(State(c): State<Arc<Control>>) -> Json<serde_json::Value> {
    Json(json!({ "files": files::files(&c) }))
}

async fn put(
    State(c): State<Arc<Control>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::with_detail(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("A served file holds at most {FILE_SIZE_LIMIT} bytes."),
            )
        } else {
            ApiError::bad_request(format!("Could not read the file's body: {e}"))
        }
    })?;
    let size = body.len();
    let replaced =
        files::put_file(&c, &name, body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let status = if replaced {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let url = files::file_url(&base_url(&headers), &name);
    Ok((
        status,
        Json(json!({ "name": name, "size": size, "url": url })),
    )
        .into_response())
}

async fn read(
    State(c): State<Arc<Control>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let content = files::file(&c, &name).ok_or_else(|| no_file(&name))?;
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Body::from(content),
    )
        .into_response())
}

async fn remove(
    State(c): State<Arc<Control>>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    if files::remove_file(&c, &name) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(no_file(&name))
    }
}

fn no_file(name: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("No file {name} is served"))
}
