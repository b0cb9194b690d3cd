//! The `/_mock` routes: HTTP over the control plane's operations
//! ([`crate::app::control`]) and the worker's manual steps. Errors are Glance-shaped (by
//! `Accept`), bodies and answers JSON. Who may call them is decided in
//! [`auth`]; whether they exist at all by [`crate::Config::control_plane`].

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;

pub mod auth;
pub mod files;
pub mod intercept;

use crate::api::ApiState;
use crate::api::error::{self, ApiError};
use crate::app::control;
use crate::control::{Control, DataMode, FaultRule, Seed, SeedError};
use crate::state::SharedState;
use std::sync::{Arc, OnceLock};

/// The control plane's routes, built once per process (see
/// [`crate::api::service()`]); [`ControlPlane::new`] gives them a server's
/// state and puts them behind [`auth::authorize`], errors rendered as
/// Glance renders them.
fn routes() -> &'static Router<ApiState> {
    static ROUTES: OnceLock<Router<ApiState>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        Router::new()
            .route("/_mock/health", get(health))
            .route("/_mock/reset", post(reset))
            .route("/_mock/state", get(dump).post(load))
            .route("/_mock/requests", get(requests).delete(clear_requests))
            .route(
                "/_mock/faults",
                get(faults).post(add_fault).delete(clear_faults),
            )
            .route("/_mock/faults/{id}", delete(remove_fault))
            .route("/_mock/tasks/advance", post(advance_all))
            .route("/_mock/tasks/finish", post(finish_all))
            .route("/_mock/tasks/{id}/advance", post(advance_one))
            .merge(files::routes())
            .route("/_mock", axum::routing::any(not_found))
            .route("/_mock/{*rest}", axum::routing::any(not_found))
    })
}

async fn render_errors(req: Request, next: Next) -> Response {
    error::render(req, |req| next.run(req)).await
}

/// The largest body a control request may have (an inline seed).
const SEED_LIMIT: usize = 256 << 20;

async fn not_found() -> ApiError {
    ApiError::not_found_default()
}

/// A JSON body, or a 400 saying what is wrong with it.
fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Malformed control request body: {e}")))
}

fn storage_failed(e: impl std::fmt::Display) -> ApiError {
    ApiError::with_detail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

async fn health(State(state): State<SharedState>) -> Result<Json<serde_json::Value>, ApiError> {
    let health =
        control::health(&state).map_err(|e| ApiError::from(crate::app::records::unhandled(e)))?;
    Ok(Json(json!({
        "status": "ok",
        "images": health.images,
        "tasks_waiting": health.tasks_waiting,
        "faults": health.faults,
        "requests": health.requests,
    })))
}

async fn reset(State(state): State<SharedState>) -> Result<StatusCode, ApiError> {
    control::reset(&state).await.map_err(storage_failed)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
struct DumpQuery {
    #[serde(default)]
    data: DataMode,
}

/// The dump is streamed: inline image data is read and encoded as the
/// client takes it. A store failing after the answer has begun cuts the
/// body short (the client sees a broken transfer, not a 500).
async fn dump(
    State(state): State<SharedState>,
    query: Result<Query<DumpQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request("Invalid data mode: use data=reference or data=inline")
    })?;
    let dumped = control::dump_json(&state, q.data)
        .await
        .map_err(storage_failed)?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(dumped),
    )
        .into_response())
}

/// The body in one buffer, at most [`SEED_LIMIT`] bytes (413 beyond).
/// Sized from `Content-Length` when there is one, so the body is in
/// memory once: axum's `Bytes` gathers the pieces, then copies them into
/// one buffer, twice the body at the peak.
async fn whole_body(req: Request) -> Result<Bytes, ApiError> {
    let too_large = || ApiError::default_for(StatusCode::PAYLOAD_TOO_LARGE);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > SEED_LIMIT as u64) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0) as usize);
    let mut pieces = req.into_body().into_data_stream();
    while let Some(piece) = pieces.next().await {
        let piece = piece.map_err(|_| ApiError::bad_request("The request body cannot be read"))?;
        if body.len() + piece.len() > SEED_LIMIT {
            return Err(too_large());
        }
        body.extend_from_slice(&piece);
    }
    Ok(Bytes::from(body))
}

/// The seed is parsed from the whole body, its inline data borrowed from
/// it and decoded while it is checked; the body is let go before the
/// decoded data is written.
async fn load(State(state): State<SharedState>, req: Request) -> Result<StatusCode, ApiError> {
    let body = whole_body(req).await?;
    let seed_failed = |e: SeedError| {
        if e.is_bad_seed() {
            ApiError::bad_request(e.to_string())
        } else {
            storage_failed(e)
        }
    };
    let checked = {
        let seed: Seed<'_> = parse(&body)?;
        control::check_seed(&state, seed)
            .await
            .map_err(seed_failed)?
    };
    drop(body);
    control::load_checked(&state, checked)
        .await
        .map_err(seed_failed)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn requests(State(c): State<Arc<Control>>) -> Json<serde_json::Value> {
    Json(json!({ "requests": control::requests(&c) }))
}

async fn clear_requests(State(c): State<Arc<Control>>) -> StatusCode {
    control::clear_requests(&c);
    StatusCode::NO_CONTENT
}

async fn faults(State(c): State<Arc<Control>>) -> Json<serde_json::Value> {
    Json(json!({ "faults": control::faults(&c) }))
}

async fn add_fault(State(c): State<Arc<Control>>, body: Bytes) -> Result<Response, ApiError> {
    let rule: FaultRule = parse(&body)?;
    let installed =
        control::add_fault(&c, rule).map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok((StatusCode::CREATED, Json(installed)).into_response())
}

async fn clear_faults(State(c): State<Arc<Control>>) -> StatusCode {
    control::clear_faults(&c);
    StatusCode::NO_CONTENT
}

async fn remove_fault(
    State(c): State<Arc<Control>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if control::remove_fault(&c, &id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("No fault rule with id {id}"),
        ))
    }
}

async fn advance_all(State(state): State<SharedState>) -> Json<serde_json::Value> {
    Json(json!({ "moved": crate::worker::advance_tasks(&state).await }))
}

async fn finish_all(State(state): State<SharedState>) -> Json<serde_json::Value> {
    Json(json!({ "ended": crate::worker::finish_tasks(&state).await }))
}

async fn advance_one(
    State(state): State<SharedState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if crate::worker::advance_task(&state, &id).await.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("No task {id} is waiting for a step"),
        ));
    }
    let task = control::task(&state, &id).ok_or_else(ApiError::not_found_default)?;
    Ok(Json(task.full_view()))
}

/// The control plane's part of the mock's service ([`crate::api::MockService`]):
/// the `/_mock` routes, ready to serve, and what the fault and journal
/// layer around everything else uses. There is none when
/// [`crate::Config::control_plane`] is off.
#[derive(Debug, Clone)]
pub struct ControlPlane {
    /// `/_mock` and below, with their own layers: innermost the
    /// authorization, inside the error rendering so that refusals get
    /// Glance-shaped bodies by `Accept`; outermost the body limit, as seeds
    /// carry image data inline, more than axum's 2 MiB default (`load`
    /// reads its body itself, against the same limit).
    pub routes: Router,
    /// What [`intercept::intercept`] uses for every other request.
    pub intercept: intercept::InterceptState,
}

impl ControlPlane {
    /// The control plane over `state`, if its configuration has one.
    pub fn new(state: &ApiState) -> Option<ControlPlane> {
        if !state.app.config.control_plane {
            return None;
        }
        let intercept = intercept::InterceptState {
            control: state.app.control.clone(),
            identity: state.identity.clone(),
        };
        let routes = routes().clone().with_state(state.clone()).layer(
            tower::ServiceBuilder::new()
                .layer(axum::extract::DefaultBodyLimit::max(SEED_LIMIT))
                .layer(middleware::from_fn(render_errors))
                .layer(middleware::from_fn_with_state(
                    state.identity.clone(),
                    auth::authorize,
                )),
        );
        Some(ControlPlane { routes, intercept })
    }

    /// Whether [`ControlPlane::routes`] answer `path`: `/_mock`, and any
    /// path below `/_mock/` but that folder itself, which (as a route of
    /// no one) goes through Glance's pipeline like any other.
    pub fn serves(path: &str) -> bool {
        path.strip_prefix("/_mock")
            .is_some_and(|rest| rest.is_empty() || rest.len() > 1 && rest.starts_with('/'))
    }
}
