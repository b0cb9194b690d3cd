//! Tasks handed over for running: what each task does ([`Job`]) and where
//! it waits. The use cases submit jobs here; [`crate::worker`] takes them
//! and runs them, as Glance's task executor does after the request that
//! created them has been answered.
//!
//! With [`TaskProgression::Background`] a submitted job goes at once to the
//! runner the worker installed ([`TaskQueue::set_runner`]); with
//! [`TaskProgression::Manual`] (or before a runner is installed) it waits
//! in the queue until the worker is told to move it.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::config::{Config, ImportFiltering, TaskProgression};
use crate::domain::import::ImportMethod;

/// What runs a job in the background (installed by the worker).
pub type Runner = Box<dyn Fn(Job) + Send + Sync>;

/// Jobs waiting for their next step, and the HTTP client tasks fetch
/// data with.
pub struct TaskQueue {
    waiting: Mutex<VecDeque<Job>>,
    runner: OnceLock<Runner>,
    progression: TaskProgression,
    client: OnceLock<reqwest::Client>,
    filter: ImportFiltering,
}

impl std::fmt::Debug for TaskQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskQueue")
            .field("waiting", &self.waiting)
            .field("runner", &self.runner.get().is_some())
            .field("progression", &self.progression)
            .finish_non_exhaustive()
    }
}

impl TaskQueue {
    /// An empty queue for `config`.
    pub fn new(config: &Config) -> Self {
        TaskQueue {
            waiting: Mutex::new(VecDeque::new()),
            runner: OnceLock::new(),
            progression: config.tasks.progression,
            client: OnceLock::new(),
            filter: config.tasks.import_filtering.clone(),
        }
    }

    /// Install what runs jobs in the background; the first one installed
    /// stays. Jobs waiting meanwhile stay in the queue.
    pub fn set_runner(&self, runner: Runner) {
        let _ = self.runner.set(runner);
    }

    /// Hand a freshly created task over: run in the background, or queued
    /// for manual progression.
    pub fn submit(&self, job: Job) {
        match (self.progression, self.runner.get()) {
            (TaskProgression::Background, Some(run)) => run(job),
            (TaskProgression::Background, None) => {
                tracing::warn!(
                    "task {} queued: no worker runs background tasks",
                    job.task_id
                );
                self.lock().push_back(job);
            }
            (TaskProgression::Manual, _) => self.lock().push_back(job),
        }
    }

    /// How many tasks wait for a step (0 in background progression).
    pub fn waiting(&self) -> usize {
        self.lock().len()
    }

    /// Forget every waiting task (a reset of the mock's state).
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Take every waiting job out.
    pub fn drain(&self) -> Vec<Job> {
        self.lock().drain(..).collect()
    }

    /// Take the waiting job of task `task_id` out.
    pub fn take(&self, task_id: &str) -> Option<Job> {
        let mut queue = self.lock();
        let at = queue.iter().position(|j| j.task_id == task_id)?;
        queue.remove(at)
    }

    /// Put a job back at the end of the queue.
    pub fn push(&self, job: Job) {
        self.lock().push_back(job);
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Job>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The client external data is fetched with, built by `build` on first use.
    pub fn client(
        &self,
        build: impl FnOnce(&ImportFiltering) -> reqwest::Client,
    ) -> &reqwest::Client {
        self.client.get_or_init(|| build(&self.filter))
    }
}

/// A task to run, and how far it got.
#[derive(Debug)]
pub struct Job {
    /// The task's id.
    pub task_id: String,
    /// What it does.
    pub work: Work,
    /// Whether its first step (the start) has been taken.
    pub started: bool,
}

impl Job {
    /// A job for task `task_id`, not started.
    pub fn new(task_id: String, work: Work) -> Job {
        Job {
            task_id,
            work,
            started: false,
        }
    }
}

/// What a task does.
#[derive(Debug)]
pub enum Work {
    /// An image import.
    Import(ImportJob),
    /// A task created through `POST /v2/tasks`, run with the caller's token.
    Created {
        /// The caller's `X-Auth-Token`.
        token: Option<String>,
    },
}

/// An import to run.
#[derive(Debug, Clone)]
pub struct ImportJob {
    /// The image.
    pub image_id: String,
    /// How its data comes.
    pub method: ImportMethod,
    /// Target stores, in order.
    pub stores: Vec<String>,
    /// `all_stores_must_succeed`.
    pub must_succeed: bool,
    /// web-download's URI.
    pub uri: Option<String>,
    /// glance-download's remote image id.
    pub remote_image: Option<String>,
    /// The caller's token (glance-download passes it on).
    pub token: Option<String>,
}
