//! `/v2/images` and `/v2/images/{id}`: create, list, show, update (PATCH), delete.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::Value;

use super::error::ApiError;
use super::identity::Caller;
use super::render::Views;
use super::versions::base_url;
use crate::domain::image::LocationView;
use crate::domain::list::ListQuery;
use crate::domain::patch::{Dialect, MEDIA_TYPES, Patch};
use crate::domain::policy::Rule;
use crate::domain::{Fault, ImageStatus, create, policy, time};
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Router<super::ApiState> {
    Router::new()
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
    body: Bytes,
) -> Result<Response, ApiError> {
    let doc = json_body(&body)?;
    let image = create::new_image(&doc, &who, time::now(), || uuid::Uuid::new_v4().to_string())?;
    let rendered = state
        .db
        .create(image)?
        .to_json_for(&who, LocationView::of(&state.config));
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
    let generation = state.db.generation();
    if let Some(page) = views.cached_page(generation, &who, &query) {
        return Ok(json_response(page));
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let q = ListQuery::parse(
        &pairs,
        state.config.limit_param_default,
        state.config.api_limit_max,
    )?;
    // Glance validates the query before it checks the policy.
    if !policy::can_read(&who) {
        return Err(Fault::Forbidden(
            "You are not authorized to complete get_images action.".into(),
        )
        .into());
    }
    let all = state.db.all();
    let page = q.run(&who, &all, |id| state.db.get(id, true))?;
    let body = views.page(&page, &who, LocationView::of(&state.config));
    views.keep_page(generation, &who, &query, body.clone());
    Ok(json_response(body))
}

async fn show(
    State(state): State<SharedState>,
    State(views): State<Arc<Views>>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let record = state.db.get(&id, false);
    policy::visible(&who, record.as_deref(), &id)?;
    // `visible` refuses a missing record.
    let body = record
        .map(|r| views.image(&r, &who, LocationView::of(&state.config)))
        .unwrap_or_default();
    Ok(json_response(body))
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
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
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

    let not_found = || Fault::NotFound(format!("No image found with ID {id}"));
    let current = state
        .db
        .get(&id, false)
        .filter(|img| policy::can_see(&who, img))
        .ok_or_else(not_found)?;
    if patch.is_empty() {
        return Ok(Json(
            current.to_json_for(&who, LocationView::of(&state.config)),
        ));
    }
    let updated = state
        .db
        .update(&id, &mut |img| {
            if !policy::can_see(&who, img) {
                return Err(not_found());
            }
            patch.apply(img, &who, time::now())
        })
        .ok_or_else(not_found)??;
    // A location removed through the patch takes its store's copy along.
    for store in current
        .stores
        .iter()
        .filter(|s| !updated.stores.contains(s))
    {
        state.store.delete(store, &id).await;
    }
    Ok(Json(
        updated.to_json_for(&who, LocationView::of(&state.config)),
    ))
}

async fn delete(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let not_found = || Fault::NotFound(format!("Failed to find image {id} to delete"));
    let current = state.db.get(&id, false).ok_or_else(not_found)?;
    if !policy::can_see(&who, &current) {
        return Err(not_found().into());
    }
    policy::enforce(&who, Rule::DeleteImage, &current)?;
    let mut stores = Vec::new();
    state
        .db
        .update(&id, &mut |img| {
            if img.protected {
                return Err(Fault::Forbidden(format!(
                    "Image {id} is protected and cannot be deleted."
                )));
            }
            img.status = ImageStatus::Deleted;
            img.updated_at = time::now();
            stores = std::mem::take(&mut img.stores);
            Ok(())
        })
        .ok_or_else(not_found)??;
    for store in stores {
        state.store.delete(&store, &id).await;
    }
    // Glance also drops whatever is staged for the image, and the cache
    // filter its cached copy.
    let _ = state.staging.delete(&id).await;
    state.cache.remove(&id);
    Ok(StatusCode::NO_CONTENT)
}
