//! `POST /v2/images/{id}/import`: start an import, in the order
//! `ImagesController.import_image` checks things (see
//! [`crate::app::import::import_image`]); the import itself runs
//! afterwards as a task (see [`crate::worker`]).

use super::resources::Routes;
use super::wsgi::Param;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

use super::error::ApiError;
use super::identity::{Caller, RequestId};
use super::images::json_body;
use super::wsgi;
use crate::app::import::{self, ImportHeaders};
use crate::domain::import::ImportRequest;
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Routes {
    Routes::new().route("/v2/images/{id}/import", post(import_image))
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

async fn import_image(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Param([id]): Param<1>,
    request_id: Option<Extension<RequestId>>,
    headers: HeaderMap,
    wsgi::Body(body): wsgi::Body,
) -> Result<StatusCode, ApiError> {
    // RequestDeserializer.import_image
    let doc = json_body(&body)?;
    let req = ImportRequest::parse(&doc, &state.config.import_methods)?;
    let headers = ImportHeaders {
        store: header_text(&headers, "x-image-meta-store"),
        request_id: request_id.map(|Extension(RequestId(r))| r),
        token: header_text(&headers, "x-auth-token"),
    };
    // ImagesController.import_image
    import::import_image(&state, &who, &id, req, headers).await?;
    Ok(StatusCode::ACCEPTED)
}
