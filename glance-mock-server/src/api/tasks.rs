//! Tasks: `GET /v2/images/{id}/tasks`, and the (deprecated, admin-only)
//! tasks API: `GET /v2/tasks`, `POST /v2/tasks`, `GET /v2/tasks/{id}`,
//! and `DELETE /v2/tasks/{id}`, which Glance refuses.

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::error::ApiError;
use super::identity::{Caller, RequestId};
use super::images::json_body;
use super::versions::base_url;
use crate::domain::policy::{self, NOT_FOUND_DEFAULT, Rule};
use crate::domain::tasks::{self, Task, TaskQuery, TaskType, now_micros};
use crate::domain::{Fault, pyrepr::Py};
use crate::queue::{Job, Work};
use crate::state::SharedState;
use crate::worker::fetch;

/// Routes of this resource.
pub fn router() -> Router<super::ApiState> {
    Router::new()
        .route("/v2/images/{id}/tasks", get(image_tasks))
        .route("/v2/tasks", get(list).post(create))
        .route("/v2/tasks/{id}", get(show).delete(delete))
}

/// `ImagesController.get_task_info`: the image must be readable (else
/// webob's bare 404); expired tasks are scrubbed first.
async fn image_tasks(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let hidden = || Fault::NotFound(NOT_FOUND_DEFAULT.into());
    let img = state.db.get(&id, false);
    let img = policy::lookup(&who, img.as_deref(), &id).map_err(|_| hidden())?;
    policy::enforce(&who, Rule::GetImage, img).map_err(|_| hidden())?;
    let now = now_micros();
    state.tasks.scrub_expired(who.project_id.as_deref(), now);
    let of_image: Vec<_> = state
        .tasks
        .all()
        .into_iter()
        .filter(|t| t.image_id.as_deref() == Some(id.as_str()))
        .collect();
    Ok(Json(
        json!({ "tasks": tasks::image_tasks(&who, &of_image, now) }),
    ))
}

async fn list(
    State(state): State<SharedState>,
    Caller(who): Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    tasks::check_access(&who)?;
    let raw: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let q = TaskQuery::parse(
        &raw,
        state.config.limit_param_default,
        state.config.api_limit_max,
    )?;
    state
        .tasks
        .scrub_expired(who.project_id.as_deref(), now_micros());
    let (rows, next) = q.run(&who, &state.tasks.all())?;
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

/// `TasksController.create`: the access policy, the body, a legacy
/// import's location (checked and filtered now), then a pending task that
/// runs afterwards.
async fn create(
    State(state): State<SharedState>,
    Caller(who): Caller,
    request_id: Option<Extension<RequestId>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    tasks::check_access(&who)?;
    let doc = json_body(&body)?;
    let ordered = tasks::parse_ordered(&body).unwrap_or_else(|| Py::from(&doc));
    let new = tasks::parse_create(&doc, &ordered)?;
    if new.task_type == TaskType::Import {
        let uri = tasks::legacy_location(&new.input)?;
        if !fetch::admitted(&uri, &state.config.tasks.import_filtering).await {
            return Err(tasks::legacy_filtered(&uri).into());
        }
    }
    let image_id = tasks::input_image_id(&new.input)?;
    let task = state.tasks.create(Task::new(
        uuid::Uuid::new_v4().to_string(),
        new.task_type,
        &who,
        image_id,
        request_id.map(|Extension(RequestId(r))| r),
        new.input,
        now_micros(),
    ));
    let token = headers
        .get("x-auth-token")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let view = task.full_view();
    state
        .queue
        .submit(Job::new(task.id.clone(), Work::Created { token }));
    let location = format!("{}/v2/tasks/{}", base_url(&headers), task.id);
    let mut resp = (StatusCode::CREATED, Json(view)).into_response();
    if let Ok(v) = location.parse() {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

async fn show(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    tasks::check_access(&who)?;
    let task = state
        .tasks
        .get(&id)
        .filter(|t| (!t.deleted || who.is_admin()) && tasks::visible(&who, t))
        .ok_or_else(|| Fault::NotFound(format!("Could not find task {id}")))?;
    Ok(Json(task.full_view()))
}

/// Tasks cannot be deleted: 405, with the message alone as the body.
async fn delete(Caller(who): Caller, Path(_id): Path<String>) -> Result<StatusCode, ApiError> {
    tasks::check_access(&who)?;
    Err(
        ApiError::explanation_only(StatusCode::METHOD_NOT_ALLOWED, tasks::DELETE_REFUSED)
            .header(header::ALLOW, "GET"),
    )
}
