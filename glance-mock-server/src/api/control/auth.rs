//! Who may use the control plane over HTTP: the one place that decides.
//!
//! Without [`crate::Config::require_auth`] anyone may (the mock's
//! historical behaviour, for tests on loopback). With it, every `/_mock`
//! request but `GET /_mock/health` must carry an `X-Auth-Token` the
//! Keystone shim issued and that is still valid (401 otherwise), with the
//! `admin` role (403 otherwise): the control plane can read every project's
//! data, rewrite owners and forge answers, so it is an admin's tool.
//! Reading a served file (`GET`/`HEAD /_mock/files/NAME`) stays open too:
//! web-download fetches it without a token.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::error::ApiError;
use crate::api::keystone::guard::{request_token, unauthorized};
use crate::control::files::ServedFiles;
use crate::keystone::Lookup;
use crate::state::IdentityState;

/// The route that stays open whatever the configuration (a liveness probe).
const HEALTH: &str = "/_mock/health";

/// What a `/_mock` request may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go on.
    Allow,
    /// No token, or one the shim did not issue, or an expired or revoked one.
    Unauthenticated,
    /// A valid token without the `admin` role.
    Forbidden,
}

/// The decision for a request with `method`, `path` and `token`.
pub fn decide(state: &IdentityState, method: &Method, path: &str, token: Option<&str>) -> Decision {
    let reading = method == Method::GET || method == Method::HEAD;
    if !state.require_auth || (reading && (path == HEALTH || ServedFiles::is_file_path(path))) {
        return Decision::Allow;
    }
    match token.map(|t| state.keystone.lookup(t)) {
        Some(Lookup::Valid(token)) if token.data.identity().is_admin() => Decision::Allow,
        Some(Lookup::Valid(_)) => Decision::Forbidden,
        Some(Lookup::Invalid(_) | Lookup::Unknown) | None => Decision::Unauthenticated,
    }
}

/// Middleware around the `/_mock` routes (inside their error rendering, so
/// refusals get Glance-shaped bodies by `Accept`).
pub async fn authorize(State(state): State<IdentityState>, req: Request, next: Next) -> Response {
    let token = request_token(req.headers());
    match decide(&state, req.method(), req.uri().path(), token) {
        Decision::Allow => next.run(req).await,
        Decision::Unauthenticated => unauthorized(req.headers()),
        Decision::Forbidden => ApiError::with_detail(
            StatusCode::FORBIDDEN,
            "The mock's control plane requires a token with the admin role.",
        )
        .into_response(),
    }
}
