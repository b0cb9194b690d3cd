//! The mock's whole HTTP surface as one tower service: which part of the
//! mock answers a request is decided here, by its path, before any router
//! sees it.
//!
//! - `/_mock` and below: the control plane's routes.
//! - Everything else passes the fault rules and the journal
//!   ([`intercept`]), then goes to the Keystone shim (`/identity` and
//!   below) or through Glance's pipeline (`api::pipeline`) to the
//!   resources' router.
//!
//! These were nested axum routers, each the fallback of the one around
//! it. axum routes a fallback as a catch-all route, so every request to
//! Glance's API went through three routers, twice percent-decoding its
//! whole path into URL parameters nobody read, and through two `from_fn`
//! layers that boxed a clone of everything inside them: about a quarter
//! of the mock's own instructions for a `GET /v2/images/{id}`
//! (BENCHMARKS.md, section 3). The prefixes decide exactly what those
//! routers' own routes did.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use futures::future::BoxFuture;
use tower::ServiceExt;

use super::ApiState;
use super::control::ControlPlane;
use super::control::intercept::intercept;
use super::resources::Resources;

/// The whole API, built once per server by [`super::service()`]; cloning
/// it is one reference count.
#[derive(Debug, Clone)]
pub struct MockService(Arc<Parts>);

#[derive(Debug)]
struct Parts {
    /// `/_mock` and the fault and journal layer; `None` without the
    /// control plane.
    control: Option<ControlPlane>,
    /// The Keystone shim.
    keystone: Router,
    /// Glance's resources, behind `api::pipeline`.
    resources: Resources,
    state: ApiState,
}

impl MockService {
    pub(super) fn new(
        control: Option<ControlPlane>,
        keystone: Router,
        resources: Resources,
        state: ApiState,
    ) -> MockService {
        MockService(Arc::new(Parts {
            control,
            keystone,
            resources,
            state,
        }))
    }

    /// The service as an axum [`Router`] (every path to it), for
    /// embedding the mock in a router of one's own.
    pub fn into_router(self) -> Router {
        Router::new().fallback_service(self)
    }
}

/// Whether the Keystone shim's router answers `path`: `/identity` and
/// below (its last route is the catch-all `/identity/{*rest}`).
fn is_keystone(path: &str) -> bool {
    path.strip_prefix("/identity")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `router`'s answer to `req`.
async fn route(router: &Router, req: Request) -> Response {
    router
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|never| match never {})
}

impl Parts {
    async fn answer(&self, req: Request) -> Response {
        match &self.control {
            Some(control) if ControlPlane::serves(req.uri().path()) => {
                route(&control.routes, req).await
            }
            Some(control) => intercept(&control.intercept, req, |req| self.api(req)).await,
            None => self.api(req).await,
        }
    }

    /// Glance's API or the Keystone shim.
    async fn api(&self, req: Request) -> Response {
        if is_keystone(req.uri().path()) {
            route(&self.keystone, req).await
        } else {
            super::pipeline(&self.state, req, |req| self.resources.answer(req)).await
        }
    }
}

impl<B> tower::Service<axum::http::Request<B>> for MockService
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: axum::http::Request<B>) -> Self::Future {
        let parts = self.0.clone();
        let req = req.map(Body::new);
        Box::pin(async move { Ok(parts.answer(req).await) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_the_routers_own() {
        for served in ["/_mock", "/_mock/health", "/_mock/a/b", "/_mock//"] {
            assert!(ControlPlane::serves(served), "{served}");
        }
        for not in ["/_mock/", "/_mockx", "/_moc", "/v2/_mock", "/"] {
            assert!(!ControlPlane::serves(not), "{not}");
        }
        for served in ["/identity", "/identity/", "/identity/v3/auth/tokens"] {
            assert!(is_keystone(served), "{served}");
        }
        for not in ["/identityx", "/identit", "/v2/identity", "/"] {
            assert!(!is_keystone(not), "{not}");
        }
    }
}
