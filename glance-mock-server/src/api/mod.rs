//! HTTP only: what Glance's request pipeline does around its handlers
//! (version negotiation, identity and request ids, its router's rules, error
//! bodies by `Accept`), then routers per resource and their extractors. The
//! rules of the Image API live in [`crate::domain`].

pub mod accept;
pub mod actions;
pub mod cache;
pub mod control;
pub mod data;
pub mod error;
pub mod identity;
pub mod images;
pub mod import;
pub mod info;
pub mod keystone;
pub mod locations;
pub mod members;
pub mod metadefs;
pub mod render;
pub mod resources;
pub mod routes;
pub mod schemas;
pub mod segments;
pub mod service;
pub mod stage;
pub mod stores;
pub mod tags;
pub mod tasks;
pub mod versions;
pub mod wsgi;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{FromRef, Request};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::state::{IdentityState, SharedState};
pub use service::MockService;

/// What the HTTP layer's handlers receive: the application's state, the
/// substate the identity steps use, and the renderings kept between
/// requests. Handlers take the part they need (`State<SharedState>`,
/// `State<IdentityState>`, `State<Arc<Views>>`, …) through `FromRef`.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// The application's state.
    pub app: SharedState,
    /// The Keystone shim's part of it.
    pub identity: IdentityState,
    /// Cached renderings of records and list pages.
    pub views: Arc<render::Views>,
}

impl ApiState {
    /// The HTTP layer's state around `app`.
    pub fn new(app: SharedState) -> Self {
        ApiState {
            identity: IdentityState::from_ref(&app),
            views: Arc::new(render::Views::default()),
            app,
        }
    }
}

impl FromRef<ApiState> for SharedState {
    fn from_ref(state: &ApiState) -> Self {
        state.app.clone()
    }
}

impl FromRef<ApiState> for IdentityState {
    fn from_ref(state: &ApiState) -> Self {
        state.identity.clone()
    }
}

impl FromRef<ApiState> for Arc<render::Views> {
    fn from_ref(state: &ApiState) -> Self {
        state.views.clone()
    }
}

impl FromRef<ApiState> for Arc<crate::control::Control> {
    fn from_ref(state: &ApiState) -> Self {
        state.app.control.clone()
    }
}

/// The routers that hold no state, built once per process: building them
/// (every route into its tree, every handler boxed) was most of what a
/// mock's start cost, about 0.35 ms of 0.5-0.75 ms. Each server then only
/// gives them its state ([`Router::with_state`], which boxes each handler
/// with it) and wraps them in its middleware (BENCHMARKS.md, "A mock per
/// test"). They hold no state, so nothing passes from one server to another.
struct Routers {
    /// Glance's resources.
    resources: resources::Routes,
    /// The Keystone shim, `/identity` and below.
    keystone: Router<ApiState>,
}

static ROUTERS: OnceLock<Routers> = OnceLock::new();

impl Routers {
    fn get() -> &'static Routers {
        ROUTERS.get_or_init(|| Routers {
            resources: resources::Routes::new()
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
                .merge(stores::router()),
            keystone: keystone::router(),
        })
    }
}

/// The whole API as one service (see [`MockService`]).
pub fn service(app: SharedState) -> MockService {
    let state = ApiState::new(app);
    let routers = Routers::get();
    MockService::new(
        control::ControlPlane::new(&state),
        routers.keystone.clone().with_state(state.clone()),
        resources::Resources::new(&routers.resources, &state),
        state,
    )
}

/// What Glance's pipeline does around its handlers, outermost
/// first: a path that does not decode, CORS preflights, version negotiation
/// (which rewrites paths, so it wraps the routing), error rendering by
/// `Accept`, softening Glance's crashes, the Keystone shim's tokens, the
/// identity context (401, request ids), and the route table's rules; and
/// on the way out, webob's default content type on answers without a body
/// ([`wsgi::default_content_type`]).
///
/// One function calling each step in turn, not a layer per step: each
/// `from_fn` layer cloned and boxed the services inside it for every
/// request, most of the mock's own cost of a `GET /v2/images/{id}`
/// (BENCHMARKS.md, section 3). [`MockService`] calls it with the
/// resources' router as `next`.
pub(crate) async fn pipeline<F: std::future::Future<Output = Response>>(
    api: &ApiState,
    req: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    let state = &api.app;
    let mut resp = wsgi::undecodable_path(state, req, |req| {
        preflight(req, |req| {
            versions::negotiate(state, req, |req| {
                error::render(req, |req| {
                    error::soften_crashes(state, req, |req| {
                        keystone::guard(&api.identity, req, |req| {
                            identity::context(req, |req| routes::screen(req, next))
                        })
                    })
                })
            })
        })
    })
    .await;
    wsgi::default_content_type(&mut resp);
    resp
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
