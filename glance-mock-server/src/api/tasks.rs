//! Tasks: `GET /v2/images/{id}/tasks`, and the (deprecated, admin-only)
//! tasks API: `GET /v2/tasks`, `POST /v2/tasks`, `GET /v2/tasks/{id}`,
//! and `DELETE /v2/tasks/{id}`, which Glance refuses.

use super::resources::Routes;
use super::wsgi::Param;
use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::error::ApiError;
use super::identity::{Caller, RequestId};
use super::images::json_body;
use super::versions::base_url;
use super::wsgi;
use crate::app;
use crate::domain::python::Py;
use crate::domain::tasks::{self, TaskQuery};
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Routes {
    Routes::new()
        .route("/v2/images/{id}/tasks", get(image_tasks))
        .route("/v2/tasks", get(list).post(create))
        .route("/v2/tasks/{id}", get(show).delete(delete))
}

/// `GET /v2/images/{id}/tasks` ([`app::tasks::image_tasks`]).
async fn image_tasks(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Param([id]): Param<1>,
) -> Result<Json<Value>, ApiError> {
    let of_image = app::tasks::image_tasks(&state, &who, &id)?;
    Ok(Json(json!({ "tasks": of_image })))
}

/// `GET /v2/tasks`: the deserializer's access check and query, then
/// [`app::tasks::list`].
async fn list(
    State(state): State<SharedState>,
    Caller(who): Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    // RequestDeserializer.index
    tasks::check_access(&who)?;
    let raw = wsgi::query_pairs(query.as_deref().unwrap_or_default());
    let q = TaskQuery::parse(
        &raw,
        state.config.limit_param_default,
        state.config.api_limit_max,
    )?;
    // TasksController.index
    let (rows, next) = app::tasks::list(&state, &who, &q)?;
    let (first, next) = tasks::list_links(&raw, next.as_deref());
    let mut body = json!({
        "tasks": rows.iter().map(|t| t.stub_view()).collect::<Vec<_>>(),
        "first": first,
        "schema": "/v2/schemas/tasks",
    });
    if let Some(next) = next {
        body["next"] = json!(next);
    }
    Ok(Json(body))
}

/// `POST /v2/tasks`: the deserializer's access check and body, then
/// [`app::tasks::create`]; 201 with the task and its `Location`.
async fn create(
    State(state): State<SharedState>,
    Caller(who): Caller,
    request_id: Option<Extension<RequestId>>,
    headers: HeaderMap,
    wsgi::Body(body): wsgi::Body,
) -> Result<Response, ApiError> {
    // RequestDeserializer.create
    tasks::check_access(&who)?;
    let doc = json_body(&body)?;
    let ordered = tasks::parse_ordered(&body).unwrap_or_else(|| Py::from(&doc));
    let new = tasks::parse_create(&doc, &ordered)?;
    let request_id = request_id.map(|Extension(RequestId(r))| r);
    let token = headers
        .get("x-auth-token")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    // TasksController.create
    let task = app::tasks::create(&state, &who, new, request_id, token).await?;
    let location = format!("{}/v2/tasks/{}", base_url(&headers), task.id);
    let mut resp = (StatusCode::CREATED, Json(task.full_view())).into_response();
    if let Ok(v) = location.parse() {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// `GET /v2/tasks/{id}` ([`app::tasks::show`]).
async fn show(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Param([id]): Param<1>,
) -> Result<Json<Value>, ApiError> {
    let task = app::tasks::show(&state, &who, &id)?;
    Ok(Json(task.full_view()))
}

/// Tasks cannot be deleted: 405, with the message alone as the body.
async fn delete(Caller(who): Caller, Param([_id]): Param<1>) -> Result<StatusCode, ApiError> {
    tasks::check_access(&who)?;
    Err(
        ApiError::explanation_only(StatusCode::METHOD_NOT_ALLOWED, tasks::DELETE_REFUSED)
            .header(header::ALLOW, "GET"),
    )
}
