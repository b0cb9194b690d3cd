//! HTTP only: routers per resource, extractors and error rendering. The
//! rules live in [`crate::domain`].

pub mod actions;
pub mod data;
pub mod error;
pub mod identity;
pub mod images;
pub mod members;
pub mod schemas;
pub mod tags;
pub mod versions;
pub mod wsgi;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::config::Config;
use crate::db::{ImageRepository, MemoryDb};
use crate::store::MemoryStore;
use error::ApiError;

/// Everything a request handler can reach.
#[derive(Debug)]
pub struct AppState {
    /// Deployment settings.
    pub config: Config,
    /// Image records.
    pub db: Box<dyn ImageRepository>,
    /// Image bytes.
    pub store: MemoryStore,
}

impl AppState {
    /// State for `config`, with empty in-memory records and stores.
    pub fn new(config: Config) -> Self {
        AppState {
            config,
            db: Box::new(MemoryDb::default()),
            store: MemoryStore::default(),
        }
    }
}

/// The state as handlers receive it.
pub type SharedState = Arc<AppState>;

/// The whole API as one router.
pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/", get(versions::multiple_choices))
        .route("/versions", get(versions::versions))
        .merge(images::router())
        .merge(data::router())
        .merge(actions::router())
        .merge(tags::router())
        .merge(members::router())
        .merge(schemas::router())
        .fallback(fallback)
        .layer(middleware::from_fn(error::render))
        .layer(middleware::from_fn(request_id))
        .layer(middleware::from_fn(wsgi::undecodable_path))
        .with_state(state)
}

/// Unknown paths: 404 inside `/v2`, the version document elsewhere (as
/// Glance's version negotiation answers `/v3/...`).
async fn fallback(req: Request) -> Response {
    let path = req.uri().path();
    if path == "/v2" || path.starts_with("/v2/") {
        ApiError::not_found_default().into_response()
    } else {
        versions::multiple_choices(req.headers().clone()).await
    }
}

/// Every `/v2` answer except a 401 carries `x-openstack-request-id`; a
/// request id sent by the client is kept (with `req-` prepended if missing).
async fn request_id(req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get("x-openstack-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64)
        .map(|v| {
            if v.starts_with("req-") {
                v.to_owned()
            } else {
                format!("req-{v}")
            }
        });
    let in_api = req.uri().path().starts_with("/v2");
    let mut resp = next.run(req).await;
    if in_api && resp.status() != StatusCode::UNAUTHORIZED {
        let id = given.unwrap_or_else(|| format!("req-{}", uuid::Uuid::new_v4()));
        if let Ok(v) = HeaderValue::from_str(&id) {
            resp.headers_mut().insert("x-openstack-request-id", v);
        }
    }
    resp
}
