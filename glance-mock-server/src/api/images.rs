//! `/v2/images` and `/v2/images/{id}`: create, list, show, delete.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::Value;

use super::SharedState;
use super::error::ApiError;
use super::identity::Caller;
use super::versions::base_url;
use crate::domain::list::ListQuery;
use crate::domain::{Fault, ImageStatus, create, policy, time};

/// Routes of this resource.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v2/images", get(list).post(create))
        .route("/v2/images/{id}", get(show).delete(delete))
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
    let rendered = {
        let mut db = state.db.write();
        if db.contains_key(&image.id) {
            return Err(Fault::Conflict(format!("Image ID {} already exists!", image.id)).into());
        }
        let rendered = image.to_json();
        db.insert(image.id.clone(), image);
        rendered
    };
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
    Caller(who): Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    if !policy::can_read(&who) {
        return Err(Fault::Forbidden(
            "You are not authorized to complete get_images action.".into(),
        )
        .into());
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let q = ListQuery::parse(
        &pairs,
        state.config.limit_param_default,
        state.config.api_limit_max,
    )?;
    let db = state.db.read();
    let body = q.run(&who, db.values(), |id| db.get(id))?;
    Ok(Json(body))
}

async fn show(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let db = state.db.read();
    let img = policy::visible(&who, live(db.get(&id)), &id)?;
    Ok(Json(img.to_json()))
}

/// Deleted rows are kept (their ids stay taken) but never shown.
pub fn live(img: Option<&crate::domain::Image>) -> Option<&crate::domain::Image> {
    img.filter(|i| !matches!(i.status, ImageStatus::Deleted))
}

async fn delete(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let stores = {
        let mut db = state.db.write();
        let not_found = || Fault::NotFound(format!("Failed to find image {id} to delete"));
        let img = db
            .get_mut(&id)
            .filter(|i| i.status != ImageStatus::Deleted)
            .ok_or_else(not_found)?;
        if !(policy::can_read(&who) && policy::can_see(&who, img)) {
            return Err(not_found().into());
        }
        policy::require_modify(&who, img, "delete_image")?;
        if img.protected {
            return Err(Fault::Forbidden(format!(
                "Image {id} is protected and cannot be deleted."
            ))
            .into());
        }
        img.status = ImageStatus::Deleted;
        img.updated_at = time::now();
        std::mem::take(&mut img.stores)
    };
    for store in stores {
        state.store.delete(&store, &id);
    }
    Ok(StatusCode::NO_CONTENT)
}
