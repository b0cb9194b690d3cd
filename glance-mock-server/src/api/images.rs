//! `/v2/images` and `/v2/images/{id}`: create, list, show, update (PATCH), delete.

use std::sync::Arc;

use super::resources::Routes;
use super::wsgi::Param;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::Value;

use super::error::ApiError;
use super::identity::Caller;
use super::render::Views;
use super::versions::base_url;
use super::wsgi;
use crate::app::images;
use crate::domain::image::LocationView;
use crate::domain::list::Page;
use crate::domain::patch::{Dialect, MEDIA_TYPES, Patch};
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Routes {
    Routes::new()
        .route("/v2/images", get(list).post(create))
        .route("/v2/images/{id}", get(show).patch(update).delete(delete))
}

/// Parse a JSON request body the way Glance's deserializer does.
pub fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request("Body expected in request."));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::bad_request("Malformed JSON in request body."))?;
    if !value.is_object() && !value.is_array() {
        return Err(ApiError::bad_request(
            "Unexpected body type. Expected list/dict.",
        ));
    }
    Ok(value)
}

/// Headers Glance adds to a created image's response.
fn discovery_headers(state: &SharedState) -> [(String, String); 2] {
    let stores: Vec<&str> = state.config.stores.iter().map(|s| s.id.as_str()).collect();
    [
        (
            "OpenStack-image-import-methods".into(),
            state.config.import_methods.join(","),
        ),
        ("OpenStack-image-store-ids".into(), stores.join(",")),
    ]
}

async fn create(
    State(state): State<SharedState>,
    Caller(who): Caller,
    headers: HeaderMap,
    wsgi::Body(body): wsgi::Body,
) -> Result<Response, ApiError> {
    let doc = json_body(&body)?;
    let rendered =
        images::create(&state, &who, &doc)?.to_json_for(&who, LocationView::of(&state.config));
    let location = format!(
        "{}/v2/images/{}",
        base_url(&headers),
        rendered["id"].as_str().unwrap_or_default()
    );
    let mut resp = (StatusCode::CREATED, Json(rendered)).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = location.parse() {
        h.insert(header::LOCATION, v);
    }
    for (k, v) in discovery_headers(&state) {
        if let (Ok(k), Ok(v)) = (
            header::HeaderName::try_from(k.as_str()),
            header::HeaderValue::from_str(&v),
        ) {
            h.insert(k, v);
        }
    }
    Ok(resp)
}

async fn list(
    State(state): State<SharedState>,
    State(views): State<Arc<Views>>,
    Caller(who): Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let query = query.unwrap_or_default();
    let generation = images::generation(&state)?;
    if let Some(page) = views.cached_page(generation, &who, &query) {
        return Ok(json_response(page));
    }
    let pairs = wsgi::query_pairs(&query);
    let images::Listing {
        images,
        first,
        next,
    } = images::list(&state, &who, &pairs)?;
    let page = Page {
        images: images.iter().collect(),
        first,
        next,
    };
    let body = views.page(&page, &who, LocationView::of(&state.config));
    views.keep_page(generation, &who, &query, body.clone());
    Ok(json_response(body))
}

async fn show(
    State(state): State<SharedState>,
    State(views): State<Arc<Views>>,
    Caller(who): Caller,
    Param([id]): Param<1>,
) -> Result<Response, ApiError> {
    let record = images::show(&state, &who, &id)?;
    Ok(json_response(views.image(
        &record,
        &who,
        LocationView::of(&state.config),
    )))
}

/// A `200 OK` with a JSON body already rendered.
pub fn json_response(body: bytes::Bytes) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// `Transfer-Encoding` values that make webob read a body even without a length.
const BODY_ENCODINGS: &[&str] = &["chunked", "compress", "deflate", "gzip", "identity"];

/// The PATCH body as Glance's deserializer reads it: an empty body is
/// missing unless a transfer encoding announced one (then it is malformed).
fn patch_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    let encoded = headers
        .get(header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| BODY_ENCODINGS.contains(&v.to_ascii_lowercase().as_str()));
    if body.is_empty() && encoded {
        return Err(ApiError::bad_request("Malformed JSON in request body."));
    }
    json_body(body)
}

async fn update(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Param([id]): Param<1>,
    headers: HeaderMap,
    wsgi::Body(body): wsgi::Body,
) -> Result<Json<Value>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let Some(dialect) = content_type.as_deref().and_then(Dialect::from_content_type) else {
        // Without the header, webob leaves its template's placeholder in.
        let shown = content_type.as_deref().unwrap_or("${CONTENT_TYPE}");
        return Err(ApiError::unsupported_media(
            shown,
            format!("Image PATCH expects Content-Type one of: {MEDIA_TYPES}"),
        )
        .header(HeaderName::from_static("accept-patch"), MEDIA_TYPES));
    };
    let patch = Patch::parse(&patch_body(&headers, &body)?, dialect)?
        .locations_visible(state.config.show_multiple_locations);
    let image = images::update(&state, &who, &id, &patch).await?;
    Ok(Json(
        image.to_json_for(&who, LocationView::of(&state.config)),
    ))
}

async fn delete(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Param([id]): Param<1>,
) -> Result<StatusCode, ApiError> {
    images::delete(&state, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
