//! The shim's HTTP routes under `/identity`, answering with Keystone's
//! shapes and headers (JSON errors, `Vary: X-Auth-Token`, a request id on
//! every answer). Merged outside Glance's error rendering.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};

use crate::keystone::catalog::{catalog, identity_url};
pub mod admin;
pub mod guard;

use crate::keystone::{KeystoneError, Lookup, Token};
use crate::state::IdentityState;
pub use guard::guard;
use guard::{base_url, request_token};

/// The version this shim announces (Keystone 30's).
const VERSION: &str = "v3.14";

/// Routes of the shim, absolute paths under `/identity`.
pub fn router() -> Router<crate::api::ApiState> {
    Router::new()
        .route("/identity", get(root).fallback(not_allowed_get))
        .route("/identity/", get(root).fallback(not_allowed_get))
        .route("/identity/v3", get(v3).fallback(not_allowed_get))
        .route("/identity/v3/", get(v3).fallback(not_allowed_get))
        .route(
            "/identity/v3/auth/tokens",
            get(validate)
                .post(issue)
                .delete(revoke)
                .fallback(not_allowed_tokens),
        )
        .route(
            "/identity/v3/auth/catalog",
            get(auth_catalog).fallback(not_allowed_get),
        )
        .merge(admin::router())
        .route("/identity/{*rest}", any(not_found))
        .layer(middleware::from_fn(keystone_headers))
}

/// Every Keystone answer says `Vary: X-Auth-Token` and carries a request id.
async fn keystone_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("X-Auth-Token"));
    if let Ok(v) = HeaderValue::from_str(&format!("req-{}", uuid::Uuid::new_v4())) {
        h.insert("x-openstack-request-id", v);
    }
    resp
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A [`KeystoneError`] as Keystone renders it; a 401 names the identity
/// endpoint in `WWW-Authenticate`.
pub fn error_response(err: &KeystoneError, headers: &HeaderMap) -> Response {
    let status = StatusCode::from_u16(err.code()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = json_response(status, &err.to_json());
    if status == StatusCode::UNAUTHORIZED {
        let value = format!("Keystone uri=\"{}/v3\"", identity_url(&base_url(headers)));
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    resp
}

fn version(headers: &HeaderMap) -> Value {
    json!({
        "id": VERSION,
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{}/v3/", identity_url(&base_url(headers)))}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    })
}

/// `GET /identity`: 300 with the version list, as Keystone's root.
async fn root(headers: HeaderMap) -> Response {
    let location = format!("{}/v3/", identity_url(&base_url(&headers)));
    let mut resp = json_response(
        StatusCode::MULTIPLE_CHOICES,
        &json!({"versions": {"values": [version(&headers)]}}),
    );
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// `GET /identity/v3`: the version document.
async fn v3(headers: HeaderMap) -> Response {
    json_response(StatusCode::OK, &json!({"version": version(&headers)}))
}

pub(crate) fn not_allowed(method: &Method, allow: &'static str) -> Response {
    let allow_header = [(header::ALLOW, allow)];
    if method == Method::OPTIONS {
        return (
            StatusCode::OK,
            allow_header,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        )
            .into_response();
    }
    let mut resp = json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &json!({"message": "The method is not allowed for the requested URL."}),
    );
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    resp
}

async fn not_allowed_get(method: Method) -> Response {
    not_allowed(&method, "GET, HEAD, OPTIONS")
}

async fn not_allowed_tokens(method: Method) -> Response {
    not_allowed(&method, "GET, HEAD, POST, OPTIONS, DELETE")
}

/// Unknown paths: Flask's 404 page, as Keystone answers them.
async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n",
    )
        .into_response()
}

fn wants_catalog(query: Option<&str>) -> bool {
    !form_urlencoded::parse(query.unwrap_or("").as_bytes()).any(|(k, _)| k == "nocatalog")
}

fn token_response(
    state: &IdentityState,
    status: StatusCode,
    token: &Token,
    headers: &HeaderMap,
    with_catalog: bool,
) -> Response {
    let cat = with_catalog.then(|| catalog(&base_url(headers), &state.keystone.config.region));
    let mut resp = json_response(status, &token.data.to_json(cat));
    if let Ok(v) = HeaderValue::from_str(&token.id) {
        resp.headers_mut().insert("x-subject-token", v);
    }
    resp
}

/// `POST /identity/v3/auth/tokens`.
async fn issue(
    State(state): State<IdentityState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if content_type.is_some_and(|c| !c.is_empty() && c != "application/json") {
        let err = KeystoneError::expecting("application/json", "Content-Type header");
        return error_response(&err, &headers);
    }
    let Ok(doc) = serde_json::from_slice::<Value>(&body) else {
        let err = KeystoneError::expecting("valid JSON", "request body");
        return error_response(&err, &headers);
    };
    match state.keystone.issue(&doc) {
        Ok(token) => token_response(
            &state,
            StatusCode::CREATED,
            &token,
            &headers,
            wants_catalog(query.as_deref()),
        ),
        Err(e) => error_response(&e, &headers),
    }
}

fn subject(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// `GET` (and `HEAD`) `/identity/v3/auth/tokens`.
async fn validate(
    State(state): State<IdentityState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    match state
        .keystone
        .validate(request_token(&headers), subject(&headers))
    {
        Ok(token) => token_response(
            &state,
            StatusCode::OK,
            &token,
            &headers,
            wants_catalog(query.as_deref()),
        ),
        Err(e) => error_response(&e, &headers),
    }
}

/// `DELETE /identity/v3/auth/tokens`.
async fn revoke(State(state): State<IdentityState>, headers: HeaderMap) -> Response {
    match state
        .keystone
        .revoke(request_token(&headers), subject(&headers))
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(&e, &headers),
    }
}

/// `GET /identity/v3/auth/catalog`: the caller's token's catalog.
async fn auth_catalog(State(state): State<IdentityState>, headers: HeaderMap) -> Response {
    let token = request_token(&headers);
    let Some(Lookup::Valid(token)) = token.map(|t| state.keystone.lookup(t)) else {
        return error_response(&KeystoneError::unauthorized(), &headers);
    };
    if token.data.project.is_none() {
        let err = KeystoneError::Forbidden(
            "You are not authorized to perform the requested action.".into(),
        );
        return error_response(&err, &headers);
    }
    let base = base_url(&headers);
    json_response(
        StatusCode::OK,
        &json!({
            "catalog": catalog(&base, &state.keystone.config.region),
            "links": {"self": format!("{}/v3/auth/catalog", identity_url(&base))},
        }),
    )
}
