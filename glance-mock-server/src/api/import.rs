//! `POST /v2/images/{id}/import`: start an import, in the order
//! `ImagesController.import_image` checks things; the import itself runs
//! afterwards as a task (see [`crate::worker`]).

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

use super::error::ApiError;
use super::identity::{Caller, RequestId};
use super::images::json_body;
use crate::domain::import::progress::{self, IMPORT_TASK};
use crate::domain::import::{self, ImportMethod, ImportRequest};
use crate::domain::tasks::{Task, TaskType, now_micros};
use crate::domain::{Fault, Identity, Image, policy, time};
use crate::queue::{ImportJob, Job, Work};
use crate::state::SharedState;
use crate::worker::fetch;

/// Routes of this resource.
pub fn router() -> Router<super::ApiState> {
    Router::new().route("/v2/images/{id}/import", post(import_image))
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// `_enforce_import_lock`: an active lock is a 409; a stale one is busted
/// at once (its task failed if still running, the lock removed). Returns
/// the busted task's target stores, whose progress is cleaned up once the
/// new lock is taken.
fn enforce_lock(state: &SharedState, img: &Image) -> Result<Option<Vec<String>>, Fault> {
    let Some(holder) = img.properties.get(IMPORT_TASK).cloned() else {
        return Ok(None);
    };
    let task = state.tasks.get(&holder);
    import::check_lock(task.as_deref(), now_micros())?;
    if let Some(task) = &task {
        let ttl = state.task_ttl();
        let _ = state.tasks.update(&task.id, &mut |t| {
            let _ = t.fail("Expired lock preempted", ttl, now_micros());
            Ok(())
        });
    }
    state
        .db
        .update(&img.id, &mut |img| {
            if progress::drop_lock(img, &holder) {
                Ok(())
            } else {
                // Someone else busted it first.
                Err(Fault::Conflict("Image has active task".into()))
            }
        })
        .ok_or_else(|| Fault::Conflict("Image has active task".into()))??;
    let stores = task
        .and_then(|t| t.input.get("backend").cloned())
        .and_then(|b| b.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect();
    Ok(Some(stores))
}

async fn import_image(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    request_id: Option<Extension<RequestId>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    // RequestDeserializer.import_image
    let doc = json_body(&body)?;
    let mut req = ImportRequest::parse(&doc, &state.config.import_methods)?;
    // ImagesController.import_image
    let img = state.db.get(&id, false);
    let img = policy::lookup(&who, img.as_deref(), &id)?;
    import::check_image(img, req.method)?;
    req.check_glance_download()?;
    import::check_policy(&who, img, req.method)?;
    let stale = enforce_lock(&state, img)?;
    let header = header_text(&headers, "x-image-meta-store");
    let stores = import::requested_stores(&req, header.as_deref(), &state.config)?;
    let stores = if req.method == ImportMethod::CopyImage {
        let targets = import::copy_targets(img, stores, req.all_stores)?;
        if targets.is_empty() {
            // Already in every store: nothing to do.
            return Ok(StatusCode::ACCEPTED);
        }
        targets
    } else {
        stores
    };
    let uri = if req.method == ImportMethod::WebDownload {
        let uri = import::web_download_uri(&req)?;
        if !fetch::admitted(&uri, &state.config.tasks.import_filtering).await {
            return Err(import::uri_refused(&uri).into());
        }
        Some(uri)
    } else {
        None
    };
    start(
        &state, &who, &id, req, stores, uri, stale, request_id, &headers,
    )?;
    Ok(StatusCode::ACCEPTED)
}

/// Create the task, take the image's lock (cleaning up after a busted
/// one), and hand the import to the worker.
#[allow(clippy::too_many_arguments)]
fn start(
    state: &SharedState,
    who: &Identity,
    id: &str,
    req: ImportRequest,
    stores: Vec<String>,
    uri: Option<String>,
    stale: Option<Vec<String>>,
    request_id: Option<Extension<RequestId>>,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let task = Task::new(
        uuid::Uuid::new_v4().to_string(),
        TaskType::ApiImageImport,
        who,
        Some(id.to_owned()),
        request_id.map(|Extension(RequestId(r))| r),
        import::task_input(id, &req, &stores),
        now_micros(),
    );
    let not_found = || Fault::NotFound(format!("No image found with ID {id}"));
    state
        .db
        .update(id, &mut |img| {
            progress::take_lock(img, &task.id)?;
            if let Some(old) = &stale {
                // Saved only if it changed anything.
                let mut cleaned = img.clone();
                if progress::clean_stale_progress(&mut cleaned, old) {
                    img.properties = cleaned.properties;
                    img.updated_at = time::now();
                }
            }
            Ok(())
        })
        .ok_or_else(not_found)??;
    let remote_image = req
        .method_field("glance_image_id")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let job = ImportJob {
        image_id: id.to_owned(),
        method: req.method,
        stores,
        must_succeed: req.all_stores_must_succeed,
        uri,
        remote_image,
        token: header_text(headers, "x-auth-token"),
    };
    let task = state.tasks.create(task);
    state
        .queue
        .submit(Job::new(task.id.clone(), Work::Import(job)));
    Ok(())
}
