//! Running tasks after the request that created them, as Glance's task
//! executor does: an import (`api_image_import`) or a task created through
//! `POST /v2/tasks` is answered at once (202/201) and runs afterwards.
//!
//! Every task moves in two steps: it *starts* (the task becomes
//! `processing`; an import's image becomes `importing`, with its target
//! stores in `os_glance_importing_to_stores`), then it *runs* to its end
//! (the data moves; the task ends in `success` or `failure`, the import
//! lock is dropped). How the steps are taken is the deployment's
//! [`TaskProgression`](crate::config::TaskProgression):
//!
//! * `Background` (default): on a tokio task, at once; an import waits
//!   `tasks.import_delay_ms` between its two steps.
//! * `Manual`: nothing moves until the embedding code calls
//!   [`advance_tasks`] (one step for every waiting task) or
//!   [`finish_tasks`] (until none is left); `MockServer` has
//!   the same two methods.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use glance_mock_server::{Config, MockServer, TaskProgression};
//! let mut config = Config::default();
//! config.tasks.progression = TaskProgression::Manual;
//! let server = MockServer::builder().config(config).start().await?;
//! // ... stage an image and POST /import: its task is `pending` ...
//! server.advance_tasks().await; // task `processing`, image `importing`
//! server.advance_tasks().await; // task `success`, image `active`
//! # Ok(()) }
//! ```

pub mod fetch;
mod flow;
mod legacy;
mod shadow;

use std::sync::{Arc, Weak};
use std::time::Duration as StdDuration;

use crate::app::records::save_task;
use crate::domain::tasks::{self, INTERNAL_ERROR, Task, now_micros};
use crate::queue::{Job, Work};
use crate::state::{AppState, SharedState};

/// Run `state`'s background tasks from now on: install the runner of its
/// [`crate::queue::TaskQueue`] (each job on a tokio task of its own, an
/// import waiting `tasks.import_delay_ms` between its two steps). The
/// runner holds the state weakly: a job submitted after the state is gone
/// is dropped.
pub fn attach(state: &SharedState) {
    let weak: Weak<AppState> = Arc::downgrade(state);
    state.queue.set_runner(Box::new(move |job| {
        let weak = weak.clone();
        tokio::spawn(async move {
            let Some(state) = weak.upgrade() else {
                return;
            };
            let mut job = job;
            if step(&state, &mut job).await {
                return;
            }
            let delay = state.config.tasks.import_delay_ms;
            if delay > 0 && matches!(job.work, Work::Import(_)) {
                tokio::time::sleep(StdDuration::from_millis(delay)).await;
            }
            step(&state, &mut job).await;
        });
    }));
}

/// Manual progression: move every waiting task one step on (a pending
/// one starts, a started one runs to its end). Returns how many moved.
/// Tasks submitted meanwhile wait for the next call.
pub async fn advance_tasks(state: &AppState) -> usize {
    let jobs = state.queue.drain();
    let moved = jobs.len();
    for mut job in jobs {
        if !step(state, &mut job).await {
            state.queue.push(job);
        }
    }
    moved
}

/// Manual progression: run every waiting task to its end. Returns how
/// many tasks ended.
pub async fn finish_tasks(state: &AppState) -> usize {
    let mut ended = 0;
    loop {
        let jobs = state.queue.drain();
        if jobs.is_empty() {
            return ended;
        }
        for mut job in jobs {
            while !step(state, &mut job).await {}
            ended += 1;
        }
    }
}

/// Manual progression: move the waiting task `id` one step on.
/// `None` if no task with that id waits (it ended, never existed, or
/// runs in the background); otherwise whether it has ended.
pub async fn advance_task(state: &AppState, id: &str) -> Option<bool> {
    let mut job = state.queue.take(id)?;
    let ended = step(state, &mut job).await;
    if !ended {
        state.queue.push(job);
    }
    Some(ended)
}

/// Fail task `id` with `message` (if it has not ended already).
pub(crate) fn fail_task(state: &AppState, id: &str, message: &str) {
    let ttl = state.task_ttl();
    let _ = save_task(state, id, |t| {
        if !t.status.is_final() {
            let _ = t.fail(message, ttl, now_micros());
        }
        Ok(())
    });
}

/// The client external data is fetched with.
pub(crate) fn client(state: &AppState) -> &reqwest::Client {
    state
        .queue
        .client(|filter| fetch::client(filter, state.control.files.clone()))
}

/// Take one step of `job`; whether it has ended.
async fn step(state: &AppState, job: &mut Job) -> bool {
    if !job.started {
        job.started = true;
        let begun = save_task(state, &job.task_id, |t| {
            t.begin_processing(now_micros())
                .map_err(|e| crate::domain::Fault::Conflict(e.to_string()))
        });
        let Ok(task) = begun else {
            // Gone, or failed meanwhile (a stale lock taken over).
            return true;
        };
        return match &job.work {
            Work::Import(import) => match flow::start(state, &job.task_id, import) {
                Ok(()) => false,
                Err(()) => {
                    fail_task(state, &job.task_id, INTERNAL_ERROR);
                    true
                }
            },
            Work::Created { .. } => match tasks::input_problem(task.task_type, &task.input) {
                Some(problem) => {
                    fail_task(state, &job.task_id, &problem);
                    true
                }
                None => false,
            },
        };
    }
    match &job.work {
        Work::Import(import) => flow::run(state, &job.task_id, import).await,
        Work::Created { token } => {
            let task: Option<Arc<Task>> = state.repo.tasks.task_get(&job.task_id, true).ok();
            match task {
                Some(task) if task.task_type == tasks::TaskType::Import => {
                    legacy::run(state, &task, token.as_deref()).await;
                }
                // An api_image_import or location_import created through
                // the tasks API holds no image lock: its flow aborts.
                Some(_) => fail_task(state, &job.task_id, INTERNAL_ERROR),
                None => {}
            }
        }
    }
    true
}
