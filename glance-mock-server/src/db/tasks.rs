//! Task records with the semantics of Glance's task DB API: tasks are
//! never removed, only soft-deleted once expired; updates are atomic
//! read-modify-write steps, as for images.

use std::sync::{Arc, RwLock};

use time::OffsetDateTime;

use crate::domain::Fault;
use crate::domain::tasks::Task;

/// A change applied to one task under the repository's lock; returning an
/// error leaves the record untouched.
pub type TaskChange<'a> = &'a mut dyn FnMut(&mut Task) -> Result<(), Fault>;

/// Where task records live.
pub trait TaskRepository: std::fmt::Debug + Send + Sync {
    /// `task_create`: store a new task.
    fn create(&self, task: Task) -> Arc<Task>;

    /// `task_get`: the task, soft-deleted ones included (callers decide
    /// who may see those).
    fn get(&self, id: &str) -> Option<Arc<Task>>;

    /// `task_update`: apply `change` atomically; `None` if there is no
    /// such task.
    fn update(&self, id: &str, change: TaskChange<'_>) -> Option<Result<Arc<Task>, Fault>>;

    /// Every task, soft-deleted ones included, oldest first.
    fn all(&self) -> Vec<Arc<Task>>;

    /// `_task_soft_delete`: mark the expired tasks of `owner` deleted.
    fn scrub_expired(&self, owner: Option<&str>, now: OffsetDateTime);

    /// Forget everything.
    fn reset(&self);
}

/// Tasks in memory, in creation order, behind one lock.
#[derive(Debug, Default)]
pub struct MemoryTaskDb {
    tasks: RwLock<Vec<Arc<Task>>>,
}

impl MemoryTaskDb {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<Task>>> {
        self.tasks.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Arc<Task>>> {
        self.tasks.write().unwrap_or_else(|p| p.into_inner())
    }
}

impl TaskRepository for MemoryTaskDb {
    fn create(&self, task: Task) -> Arc<Task> {
        let task = Arc::new(task);
        self.write().push(task.clone());
        task
    }

    fn get(&self, id: &str) -> Option<Arc<Task>> {
        self.read().iter().find(|t| t.id == id).cloned()
    }

    fn update(&self, id: &str, change: TaskChange<'_>) -> Option<Result<Arc<Task>, Fault>> {
        let mut tasks = self.write();
        let slot = tasks.iter_mut().find(|t| t.id == id)?;
        let mut draft = Task::clone(slot);
        Some(change(&mut draft).map(|()| {
            *slot = Arc::new(draft);
            slot.clone()
        }))
    }

    fn all(&self) -> Vec<Arc<Task>> {
        self.read().clone()
    }

    fn scrub_expired(&self, owner: Option<&str>, now: OffsetDateTime) {
        let mut tasks = self.write();
        for slot in tasks.iter_mut() {
            if !slot.deleted && slot.owner.as_deref() == owner && slot.expired(now) {
                let mut t = Task::clone(slot);
                t.deleted = true;
                t.deleted_at = Some(now);
                *slot = Arc::new(t);
            }
        }
    }

    fn reset(&self) {
        self.write().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Identity;
    use crate::domain::tasks::{TaskType, now_micros};
    use serde_json::json;
    use time::Duration;

    fn task(id: &str) -> Task {
        Task::new(
            id.into(),
            TaskType::ApiImageImport,
            &Identity::default_admin(),
            None,
            None,
            json!({}),
            now_micros(),
        )
    }

    #[test]
    fn updates_are_atomic_and_failures_change_nothing() {
        let db = MemoryTaskDb::default();
        db.create(task("a"));
        db.create(task("b"));
        let r = db
            .update("a", &mut |t| {
                t.message = "changed".into();
                Err(Fault::Conflict("no".into()))
            })
            .expect("exists");
        assert!(r.is_err());
        assert_eq!(db.get("a").expect("a").message, "");
        assert!(db.update("zzz", &mut |_| Ok(())).is_none());
        let ids: Vec<String> = db.all().iter().map(|t| t.id.clone()).collect();
        assert_eq!(ids, ["a", "b"]);
    }

    #[test]
    fn expired_tasks_of_the_owner_are_soft_deleted() {
        let db = MemoryTaskDb::default();
        let mut done = task("a");
        let t0 = now_micros() - Duration::hours(50);
        done.begin_processing(t0).expect("processing");
        done.succeed(json!({}), Duration::hours(48), t0)
            .expect("done");
        db.create(done);
        db.scrub_expired(Some("other"), now_micros());
        assert!(!db.get("a").expect("a").deleted);
        db.scrub_expired(Some("admin"), now_micros());
        assert!(db.get("a").expect("a").deleted);
    }
}
