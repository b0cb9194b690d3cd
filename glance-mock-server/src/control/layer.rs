//! The middleware around everything but `/_mock`: fault rules act here,
//! before the request reaches Glance's pipeline or the Keystone shim, and
//! every request is journaled on its way out.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::faults::{FaultAction, alter_body};
use super::journal::JournalEntry;
use crate::api::SharedState;
use crate::api::error::{ApiError, Format};
use crate::api::identity::identify;
use crate::domain::Identity;
use crate::keystone::Lookup;
use crate::keystone::guard::request_token;

/// The identity a request will act as, as far as it can be told before
/// the API sees it: a token the shim issued acts as its user and project;
/// otherwise the identity headers, unless authentication is required.
pub fn identity_of(state: &SharedState, headers: &HeaderMap) -> Option<Identity> {
    match request_token(headers).map(|t| state.keystone.lookup(t)) {
        Some(Lookup::Valid(token)) => Some(token.data.identity()),
        Some(Lookup::Invalid(_)) => None,
        _ if state.config.require_auth => None,
        _ => identify(headers),
    }
}

/// A Glance-shaped error body for `status`, by the request's `Accept`.
pub fn glance_error(headers: &HeaderMap, err: &ApiError) -> Response {
    let format = Format::from_accept(headers.get(header::ACCEPT).map(HeaderValue::as_bytes));
    err.body(format)
}

/// The answer of a `respond` action.
fn respond(
    headers: &HeaderMap,
    status: u16,
    extra: &std::collections::BTreeMap<String, String>,
    body: Option<&str>,
) -> Response {
    // Rules were validated when installed.
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match body {
        Some(body) => {
            let mut r = Response::new(Body::from(body.to_owned()));
            *r.status_mut() = status;
            r
        }
        None => glance_error(headers, &ApiError::default_for(status)),
    };
    for (name, value) in extra {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            resp.headers_mut().insert(n, v);
        }
    }
    resp
}

/// Middleware: fire a matching fault rule, pass the request on (unless
/// the rule answers it), and journal it.
pub async fn intercept(State(state): State<SharedState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let who = identity_of(&state, req.headers());
    let fired = state.control.faults.fire(&method, &path, who.as_ref());
    let resp = match fired.as_ref().map(|f| &f.action) {
        Some(FaultAction::Respond {
            status,
            headers,
            body,
        }) => respond(req.headers(), *status, headers, body.as_deref()),
        Some(FaultAction::Delay { ms }) => {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            next.run(req).await
        }
        Some(action) => alter_body(action, next.run(req).await),
        None => next.run(req).await,
    };
    state.control.journal.record(JournalEntry {
        seq: 0,
        method,
        path,
        query,
        project_id: who.as_ref().and_then(|w| w.project_id.clone()),
        user_id: who.and_then(|w| w.user_id),
        status: resp.status().as_u16(),
        // Microsecond precision is all a journal reader can use.
        duration_ms: started.elapsed().as_micros() as f64 / 1000.0,
        fault: fired.map(|f| f.id),
    });
    resp
}
