//! Tasks: an image's tasks (`ImagesController.get_task_info`) and the
//! (deprecated, admin-only) tasks API's `TasksController`: create (the
//! task then runs in [`crate::worker`]), index and get.
//!
//! The tasks API checks `tasks_api_access` in its deserializer for
//! `index` and `create`, before the query or body is read: that check is
//! the HTTP layer's, with the parsing. `get` checks it in the controller.

use std::sync::Arc;

use serde_json::Value;

use super::import::admitted;
use super::records;
use crate::domain::policy::{self, NOT_FOUND_DEFAULT, Rule};
use crate::domain::tasks::{self, NewTask, Task, TaskQuery, TaskType, now_micros};
use crate::domain::{Fault, Identity};
use crate::queue::{Job, Work};
use crate::state::AppState;

/// `ImagesController.get_task_info`: the image must be readable (else
/// webob's bare 404); the caller's expired tasks are scrubbed first. The
/// views of the image's tasks the caller sees, oldest first.
pub fn image_tasks(state: &AppState, who: &Identity, id: &str) -> Result<Vec<Value>, Fault> {
    let hidden = || Fault::NotFound(NOT_FOUND_DEFAULT.into());
    let img = records::find_image(state, id)?;
    let img = policy::lookup(who, img.as_deref(), id).map_err(|_| hidden())?;
    policy::enforce(who, Rule::GetImage, img).map_err(|_| hidden())?;
    let now = now_micros();
    let tasks = &state.repo.tasks;
    tasks
        .task_delete_expired(who.project_id.as_deref(), now)
        .map_err(records::unhandled)?;
    let of_image: Vec<_> = tasks
        .task_scan()
        .map_err(records::unhandled)?
        .into_iter()
        .filter(|t| t.image_id.as_deref() == Some(id))
        .collect();
    Ok(tasks::image_tasks(who, &of_image, now))
}

/// `TasksController.index` (after the deserializer checked access and
/// read the query as `q`): the caller's expired tasks scrubbed, then the
/// page and, when it is full, the marker of the next one.
pub fn list(
    state: &AppState,
    who: &Identity,
    q: &TaskQuery,
) -> Result<(Vec<Arc<Task>>, Option<String>), Fault> {
    state
        .repo
        .tasks
        .task_delete_expired(who.project_id.as_deref(), now_micros())
        .map_err(records::unhandled)?;
    state
        .repo
        .tasks
        .task_get_all(who, q)
        .map_err(|e| records::fault(e, Fault::internal))
}

/// `TasksController.create` (after the deserializer checked access and
/// validated the body as `new`): a legacy import's location, checked and
/// filtered now, the image id its input names, then a `pending` task,
/// submitted to run afterwards with the caller's `token`. The task as
/// created.
pub async fn create(
    state: &AppState,
    who: &Identity,
    new: NewTask,
    request_id: Option<String>,
    token: Option<String>,
) -> Result<Arc<Task>, Fault> {
    if new.task_type == TaskType::Import {
        let uri = tasks::legacy_location(&new.input)?;
        if !admitted(
            &uri,
            &state.config.tasks.import_filtering,
            &state.control.files,
        )
        .await
        {
            return Err(tasks::legacy_filtered(&uri));
        }
    }
    let image_id = tasks::input_image_id(&new.input)?;
    let task = state
        .repo
        .tasks
        .task_create(Task::new(
            uuid::Uuid::new_v4().to_string(),
            new.task_type,
            who,
            image_id,
            request_id,
            new.input,
            now_micros(),
        ))
        .map_err(|e| records::fault(e, Fault::internal))?;
    state
        .queue
        .submit(Job::new(task.id.clone(), Work::Created { token }));
    Ok(task)
}

/// `TasksController.get`: `tasks_api_access`, then the task if the caller
/// may see it (a deleted one only for admins).
pub fn show(state: &AppState, who: &Identity, id: &str) -> Result<Arc<Task>, Fault> {
    tasks::check_access(who)?;
    state
        .repo
        .tasks
        .task_get(id, true)
        .ok()
        .filter(|t| (!t.deleted || who.is_admin()) && tasks::visible(who, t))
        .ok_or_else(|| Fault::NotFound(format!("Could not find task {id}")))
}
