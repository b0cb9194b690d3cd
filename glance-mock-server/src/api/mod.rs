//! HTTP only: what Glance's request pipeline does around its handlers
//! (version negotiation, identity and request ids, its router's rules, error
//! bodies by `Accept`), then routers per resource and their extractors. The
//! rules of the Image API live in [`crate::domain`].

pub mod accept;
pub mod actions;
pub mod cache;
pub mod data;
pub mod error;
pub mod identity;
pub mod images;
pub mod import;
pub mod info;
pub mod locations;
pub mod members;
pub mod metadefs;
pub mod routes;
pub mod schemas;
pub mod stage;
pub mod stores;
pub mod tags;
pub mod tasks;
pub mod versions;
pub mod wsgi;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::Layer;

use crate::config::Config;
use crate::db::{ImageRepository, MemoryDb, MemoryMetadefs, MetadefRepository};
use crate::store::Stores;
use error::ApiError;

/// Everything a request handler can reach.
#[derive(Debug)]
pub struct AppState {
    /// Deployment settings.
    pub config: Config,
    /// Image records.
    pub db: Box<dyn ImageRepository>,
    /// Image bytes, by store id.
    pub store: Stores,
    /// Metadata definitions.
    pub metadefs: Box<dyn MetadefRepository>,
    /// The Keystone shim: identity configuration and issued tokens.
    pub keystone: crate::keystone::Keystone,
    /// Task records (imports, `/v2/tasks`).
    pub tasks: Box<dyn crate::db::TaskRepository>,
    /// The staging area (`os_glance_staging_store`): staged and fetched
    /// data waiting to be imported; not one of the configured stores.
    pub staging: Arc<dyn crate::store::ImageStore>,
    /// Tasks waiting to move on (see [`crate::worker`]).
    pub worker: crate::worker::Worker,
    /// The image cache's records (used when `config.cache.enabled`).
    pub cache: crate::db::ImageCache,
    /// Fault rules and the request journal (see [`crate::control`]).
    pub control: crate::control::Control,
    /// List pages already rendered.
    pub pages: crate::db::PageCache,
}

impl AppState {
    /// State for `config`, with empty in-memory records and the configured stores.
    pub fn new(config: Config) -> Self {
        AppState {
            store: Stores::from_config(&config),
            keystone: crate::keystone::Keystone::new(config.identity.clone()),
            tasks: Box::new(crate::db::MemoryTaskDb::default()),
            staging: crate::store::staging_store(&config),
            worker: crate::worker::Worker::new(&config),
            config,
            db: Box::new(MemoryDb::default()),
            metadefs: Box::new(MemoryMetadefs::default()),
            cache: crate::db::ImageCache::default(),
            control: crate::control::Control::default(),
            pages: crate::db::PageCache::default(),
        }
    }
}

/// The state as handlers receive it.
pub type SharedState = Arc<AppState>;

/// The whole API as one router.
///
/// Requests pass, in this order, what Glance's pipeline does around its
/// handlers: CORS preflights, version negotiation (which rewrites paths, so
/// it wraps the routing), error rendering by `Accept`, the identity context
/// (401, request ids), and the route table's rules; then the resources.
pub fn router(state: SharedState) -> Router {
    let resources = Router::new()
        .merge(images::router())
        .merge(data::router())
        .merge(actions::router())
        .merge(tags::router())
        .merge(members::router())
        .merge(schemas::router())
        .merge(info::router())
        .merge(tasks::router())
        .merge(metadefs::router())
        .merge(cache::router())
        .merge(locations::router())
        .merge(stage::router())
        .merge(import::router())
        .merge(stores::router())
        .fallback(not_found)
        .with_state(state.clone());
    // The pipeline wraps the resources' router itself, not a router of
    // its own around it: one router less to pass per request.
    let glance = middleware::from_fn_with_state(state.clone(), pipeline).layer(resources);
    // The Keystone shim answers as Keystone, outside Glance's pipeline.
    let app = Router::new()
        .merge(crate::keystone::api::router().with_state(state.clone()))
        .fallback_service(glance);
    // The control plane (`/_mock`) sits beside both, its faults and journal around them.
    crate::control::router(state, app)
}

/// A route of Glance's table the mock does not serve.
async fn not_found() -> ApiError {
    ApiError::not_found_default()
}

/// Middleware: what Glance's pipeline does around its handlers, outermost
/// first: a path that does not decode, CORS preflights, version negotiation
/// (which rewrites paths, so it wraps the routing), error rendering by
/// `Accept`, softening Glance's crashes, the Keystone shim's tokens, the
/// identity context (401, request ids), and the route table's rules.
///
/// One layer calling each step in turn, not a layer per step: each
/// `from_fn` layer cloned and boxed the services inside it for every
/// request, most of the mock's own cost of a `GET /v2/images/{id}`
/// (BENCHMARKS.md, section 3).
async fn pipeline(State(state): State<SharedState>, req: Request, next: Next) -> Response {
    let state = &state;
    wsgi::undecodable_path(state, req, |req| {
        preflight(req, |req| {
            versions::negotiate(state, req, |req| {
                error::render(req, |req| {
                    error::soften_crashes(state, req, |req| {
                        crate::keystone::guard(state, req, |req| {
                            identity::context(req, |req| routes::screen(req, |req| next.run(req)))
                        })
                    })
                })
            })
        })
    })
    .await
}

/// Glance's CORS filter answers every `OPTIONS` request itself, with an
/// empty 200 (no CORS origins are configured, so no CORS headers).
async fn preflight<F: std::future::Future<Output = Response>>(
    req: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    if req.method() == Method::OPTIONS {
        return StatusCode::OK.into_response();
    }
    next(req).await
}
