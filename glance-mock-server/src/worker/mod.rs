//! Running tasks after the request that created them, as Glance's task
//! executor does: an import (`api_image_import`) or a task created through
//! `POST /v2/tasks` is answered at once (202/201) and runs afterwards.
//!
//! Every task moves in two steps: it *starts* (the task becomes
//! `processing`; an import's image becomes `importing`, with its target
//! stores in `os_glance_importing_to_stores`), then it *runs* to its end
//! (the data moves; the task ends in `success` or `failure`, the import
//! lock is dropped). How the steps are taken is the deployment's
//! [`TaskProgression`]:
//!
//! * `Background` (default): on a tokio task, at once; an import waits
//!   `tasks.import_delay_ms` between its two steps.
//! * `Manual`: nothing moves until the embedding code calls
//!   [`AppState::advance_tasks`] (one step for every waiting task) or
//!   [`AppState::finish_tasks`] (until none is left); `MockServer` has
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

use std::collections::VecDeque;
use std::sync::{Mutex, OnceLock};
use std::time::Duration as StdDuration;

use time::Duration;

pub(crate) use flow::ImportJob;

use crate::api::{AppState, SharedState};
use crate::config::{Config, ImportFiltering, TaskProgression};
use crate::domain::tasks::{self, INTERNAL_ERROR, Task, now_micros};

/// Tasks waiting for their next step (manual progression), and the HTTP
/// client tasks fetch data with.
#[derive(Debug)]
pub struct Worker {
    waiting: Mutex<VecDeque<Job>>,
    client: OnceLock<reqwest::Client>,
    filter: ImportFiltering,
}

impl Worker {
    /// An idle worker for `config`.
    pub fn new(config: &Config) -> Self {
        Worker {
            waiting: Mutex::new(VecDeque::new()),
            client: OnceLock::new(),
            filter: config.tasks.import_filtering.clone(),
        }
    }

    /// How many tasks wait for a step (always 0 in background progression).
    pub fn waiting(&self) -> usize {
        self.queue().len()
    }

    /// Forget every waiting task (a reset of the mock's state).
    pub fn clear(&self) {
        self.queue().clear();
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Job>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The client external data is fetched with (built on first use).
    pub(crate) fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| fetch::client(&self.filter))
    }
}

/// A task to run, and how far it got.
#[derive(Debug)]
pub(crate) struct Job {
    task_id: String,
    work: Work,
    started: bool,
}

/// What a task does.
#[derive(Debug)]
pub(crate) enum Work {
    /// An image import.
    Import(ImportJob),
    /// A task created through `POST /v2/tasks`, run with the caller's token.
    Created {
        /// The caller's `X-Auth-Token`.
        token: Option<String>,
    },
}

impl Job {
    /// A job for task `task_id`.
    pub(crate) fn new(task_id: String, work: Work) -> Job {
        Job {
            task_id,
            work,
            started: false,
        }
    }
}

/// Hand a freshly created task to the worker.
pub(crate) fn submit(state: &SharedState, job: Job) {
    match state.config.tasks.progression {
        TaskProgression::Manual => state.worker.queue().push_back(job),
        TaskProgression::Background => {
            let state = state.clone();
            let delay = state.config.tasks.import_delay_ms;
            tokio::spawn(async move {
                let mut job = job;
                if state.step(&mut job).await {
                    return;
                }
                if delay > 0 && matches!(job.work, Work::Import(_)) {
                    tokio::time::sleep(StdDuration::from_millis(delay)).await;
                }
                state.step(&mut job).await;
            });
        }
    }
}

impl AppState {
    /// Manual progression: move every waiting task one step on (a pending
    /// one starts, a started one runs to its end). Returns how many moved.
    /// Tasks submitted meanwhile wait for the next call.
    pub async fn advance_tasks(&self) -> usize {
        let jobs: Vec<Job> = self.worker.queue().drain(..).collect();
        let moved = jobs.len();
        for mut job in jobs {
            if !self.step(&mut job).await {
                self.worker.queue().push_back(job);
            }
        }
        moved
    }

    /// Manual progression: run every waiting task to its end. Returns how
    /// many tasks ended.
    pub async fn finish_tasks(&self) -> usize {
        let mut ended = 0;
        loop {
            let jobs: Vec<Job> = self.worker.queue().drain(..).collect();
            if jobs.is_empty() {
                return ended;
            }
            for mut job in jobs {
                while !self.step(&mut job).await {}
                ended += 1;
            }
        }
    }

    /// Manual progression: move the waiting task `id` one step on.
    /// `None` if no task with that id waits (it ended, never existed, or
    /// runs in the background); otherwise whether it has ended.
    pub async fn advance_task(&self, id: &str) -> Option<bool> {
        let mut job = {
            let mut queue = self.worker.queue();
            let at = queue.iter().position(|j| j.task_id == id)?;
            queue.remove(at)?
        };
        let ended = self.step(&mut job).await;
        if !ended {
            self.worker.queue().push_back(job);
        }
        Some(ended)
    }

    /// `[task] task_time_to_live`.
    pub(crate) fn task_ttl(&self) -> Duration {
        Duration::hours(i64::try_from(self.config.tasks.task_time_to_live_hours).unwrap_or(48))
    }

    /// Fail task `id` with `message` (if it has not ended already).
    pub(crate) fn fail_task(&self, id: &str, message: &str) {
        let ttl = self.task_ttl();
        let _ = self.tasks.update(id, &mut |t| {
            if !t.status.is_final() {
                let _ = t.fail(message, ttl, now_micros());
            }
            Ok(())
        });
    }

    /// Take one step of `job`; whether it has ended.
    async fn step(&self, job: &mut Job) -> bool {
        if !job.started {
            job.started = true;
            let begun = self.tasks.update(&job.task_id, &mut |t| {
                t.begin_processing(now_micros())
                    .map_err(|e| crate::domain::Fault::Conflict(e.to_string()))
            });
            let Some(Ok(task)) = begun else {
                // Gone, or failed meanwhile (a stale lock taken over).
                return true;
            };
            return match &job.work {
                Work::Import(import) => match flow::start(self, &job.task_id, import) {
                    Ok(()) => false,
                    Err(()) => {
                        self.fail_task(&job.task_id, INTERNAL_ERROR);
                        true
                    }
                },
                Work::Created { .. } => match tasks::input_problem(task.task_type, &task.input) {
                    Some(problem) => {
                        self.fail_task(&job.task_id, &problem);
                        true
                    }
                    None => false,
                },
            };
        }
        match &job.work {
            Work::Import(import) => flow::run(self, &job.task_id, import).await,
            Work::Created { token } => {
                let task: Option<std::sync::Arc<Task>> = self.tasks.get(&job.task_id);
                match task {
                    Some(task) if task.task_type == tasks::TaskType::Import => {
                        legacy::run(self, &task, token.as_deref()).await;
                    }
                    // An api_image_import or location_import created through
                    // the tasks API holds no image lock: its flow aborts.
                    Some(_) => self.fail_task(&job.task_id, INTERNAL_ERROR),
                    None => {}
                }
            }
        }
        true
    }
}
