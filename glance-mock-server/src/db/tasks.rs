//! The task half of Glance's DB API (`task_create`, `task_get`,
//! `task_get_all`, `task_update`, `task_delete`): tasks are never removed,
//! only soft-deleted; every write is guarded by the record's revision, as
//! for images ([`super::images`]).

use std::sync::{Arc, RwLock};

use time::OffsetDateTime;

use super::error::{RepoError, Row};
use crate::domain::tasks::{Task, TaskQuery};
use crate::domain::{Identity, Revision};

/// Where task records live: a small core (create, get, scan, one guarded
/// write), the seed's functions provided on top.
pub trait TaskRepository: std::fmt::Debug + Send + Sync {
    /// `task_create`: store a new task at revision 1;
    /// [`RepoError::Duplicate`] if its id is taken.
    fn task_create(&self, task: Task) -> Result<Arc<Task>, RepoError>;

    /// `task_get(task_id, force_show_deleted)`: the task;
    /// [`RepoError::NotFound`] if missing, or soft-deleted and
    /// `force_show_deleted` is not set.
    fn task_get(&self, id: &str, force_show_deleted: bool) -> Result<Arc<Task>, RepoError>;

    /// Every task, soft-deleted ones included, oldest first.
    fn task_scan(&self) -> Result<Vec<Arc<Task>>, RepoError>;

    /// `task_update(task_id, values)`: replace task `values.id` (soft-
    /// deleted ones too: a flow still finishes its task) with `values`, if
    /// it is still at `values.revision` ([`RepoError::Changed`]
    /// otherwise: someone else wrote since it was read). Stored at the
    /// next revision and returned.
    fn task_update(&self, values: Task) -> Result<Arc<Task>, RepoError>;

    /// Forget everything.
    fn reset(&self) -> Result<(), RepoError>;

    /// `task_delete(task_id)`: soft-delete task `id` at `at`.
    fn task_delete(&self, id: &str, at: OffsetDateTime) -> Result<Arc<Task>, RepoError> {
        let mut last = None;
        for _ in 0..super::images::RETRIES {
            let mut task = Task::clone(&*self.task_get(id, false)?);
            task.deleted = true;
            task.deleted_at = Some(at);
            match self.task_update(task) {
                Err(e @ RepoError::Changed { .. }) => last = Some(e),
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| RepoError::not_found(Row::Task, id)))
    }

    /// `_task_soft_delete`, which `task_get_all` runs first: soft-delete
    /// the expired tasks of `owner` at `now`.
    fn task_delete_expired(
        &self,
        owner: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), RepoError> {
        for task in self.task_scan()? {
            if !task.deleted && task.owner.as_deref() == owner && task.expired(now) {
                // Someone else deleting it first is the same outcome.
                if let Err(e @ RepoError::Unavailable(_)) = self.task_delete(&task.id, now) {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// `task_get_all(filters, marker, limit, sort_key, sort_dir)`: the page
    /// of live tasks `who` sees as `query` selects and orders them, and
    /// the marker of the next page when this one is full.
    /// [`RepoError::BadQuery`] for a bad sort key or a marker `who` cannot
    /// see.
    fn task_get_all(
        &self,
        who: &Identity,
        query: &TaskQuery,
    ) -> Result<(Vec<Arc<Task>>, Option<String>), RepoError> {
        query
            .run(who, &self.task_scan()?)
            .map_err(|f| RepoError::BadQuery(f.to_string()))
    }
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

impl MemoryTaskDb {
    /// Put back `task` as it was stored, at its revision: in place of the
    /// task with its id, else after the tasks restored before it (a
    /// backend loading its records, oldest first).
    pub fn restore(&self, task: Task) {
        let mut tasks = self.write();
        match tasks.iter_mut().find(|t| t.id == task.id) {
            Some(slot) => *slot = Arc::new(task),
            None => tasks.push(Arc::new(task)),
        }
    }

    /// Forget every task ([`TaskRepository::reset`], which cannot fail
    /// in memory).
    pub fn clear(&self) {
        self.write().clear();
    }
}

impl TaskRepository for MemoryTaskDb {
    fn task_create(&self, mut task: Task) -> Result<Arc<Task>, RepoError> {
        let mut tasks = self.write();
        if tasks.iter().any(|t| t.id == task.id) {
            return Err(RepoError::duplicate(Row::Task, task.id));
        }
        task.revision = Revision::new(1);
        let task = Arc::new(task);
        tasks.push(task.clone());
        Ok(task)
    }

    fn task_get(&self, id: &str, force_show_deleted: bool) -> Result<Arc<Task>, RepoError> {
        self.read()
            .iter()
            .find(|t| t.id == id && (force_show_deleted || !t.deleted))
            .cloned()
            .ok_or_else(|| RepoError::not_found(Row::Task, id))
    }

    fn task_scan(&self) -> Result<Vec<Arc<Task>>, RepoError> {
        Ok(self.read().clone())
    }

    fn task_update(&self, mut new: Task) -> Result<Arc<Task>, RepoError> {
        let mut tasks = self.write();
        let slot = tasks
            .iter_mut()
            .find(|t| t.id == new.id)
            .ok_or_else(|| RepoError::not_found(Row::Task, new.id.clone()))?;
        if slot.revision.get() != new.revision.get() {
            return Err(RepoError::Changed {
                row: Row::Task,
                id: new.id,
                read: new.revision.get(),
            });
        }
        new.revision = new.revision.next();
        *slot = Arc::new(new);
        Ok(slot.clone())
    }

    fn reset(&self) -> Result<(), RepoError> {
        self.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_repository_passes_the_conformance_suite() {
        crate::db::conformance::tasks::run(&|| Box::new(MemoryTaskDb::default()));
    }
}
