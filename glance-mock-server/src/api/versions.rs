//! The version documents at `/` (300) and `/versions` (200).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use serde_json::{Value, json};

use super::SharedState;

/// Versions a multi-store Glance 33 without an image cache announces.
const VERSIONS: &[(&str, &str)] = &[
    ("v2.17", "CURRENT"),
    ("v2.15", "SUPPORTED"),
    ("v2.13", "SUPPORTED"),
    ("v2.12", "SUPPORTED"),
    ("v2.11", "SUPPORTED"),
    ("v2.10", "SUPPORTED"),
    ("v2.9", "SUPPORTED"),
    ("v2.8", "SUPPORTED"),
    ("v2.7", "SUPPORTED"),
    ("v2.6", "SUPPORTED"),
    ("v2.5", "SUPPORTED"),
    ("v2.4", "SUPPORTED"),
    ("v2.3", "SUPPORTED"),
    ("v2.2", "SUPPORTED"),
    ("v2.1", "SUPPORTED"),
    ("v2.0", "SUPPORTED"),
];

/// The base URL a client used to reach us, from the `Host` header.
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

fn document(headers: &HeaderMap) -> Value {
    let href = format!("{}/v2/", base_url(headers));
    let versions: Vec<Value> = VERSIONS
        .iter()
        .map(|(id, status)| json!({"id": id, "status": status, "links": [{"rel": "self", "href": href}]}))
        .collect();
    json!({ "versions": versions })
}

/// `GET /versions`.
pub async fn versions(State(_): State<SharedState>, headers: HeaderMap) -> Response {
    Json(document(&headers)).into_response()
}

/// `GET /` and any path outside a known API version: 300 Multiple Choices.
pub async fn multiple_choices(headers: HeaderMap) -> Response {
    (StatusCode::MULTIPLE_CHOICES, Json(document(&headers))).into_response()
}
