//! The task table on SQLite: rows written through, records read from the
//! in-memory table beside them (see [`super`]).

use std::sync::Arc;

use rusqlite::params;

use super::{Database, OpenError, backend, load_rows, to_json};
use crate::db::error::{RepoError, Row};
use crate::db::tasks::{MemoryTaskDb, TaskRepository};
use crate::domain::Revision;
use crate::domain::tasks::Task;

/// Task records in the database, soft-deleted ones included.
#[derive(Debug)]
pub struct SqliteTasks {
    db: Arc<Database>,
    /// Every record, as committed, oldest first.
    mem: MemoryTaskDb,
}

impl SqliteTasks {
    /// The task table of `db`, its records loaded in creation order.
    pub fn load(db: Arc<Database>) -> Result<Self, OpenError> {
        let mem = MemoryTaskDb::default();
        let rows: Vec<(u64, Task)> = load_rows(
            &db,
            "SELECT id, revision, record FROM tasks ORDER BY seq",
            "task",
        )?;
        for (revision, mut task) in rows {
            task.revision = Revision::new(revision);
            mem.restore(task);
        }
        Ok(SqliteTasks { db, mem })
    }
}

impl TaskRepository for SqliteTasks {
    fn task_create(&self, task: Task) -> Result<Arc<Task>, RepoError> {
        let conn = self.db.lock();
        if self.mem.task_get(&task.id, true).is_ok() {
            return Err(RepoError::duplicate(Row::Task, task.id));
        }
        let record = to_json(&task)?;
        conn.prepare_cached("INSERT INTO tasks (id, revision, record) VALUES (?1, 1, ?2)")
            .and_then(|mut s| s.execute(params![task.id, record]))
            .map_err(backend)?;
        self.mem.task_create(task)
    }

    fn task_get(&self, id: &str, force_show_deleted: bool) -> Result<Arc<Task>, RepoError> {
        self.mem.task_get(id, force_show_deleted)
    }

    fn task_scan(&self) -> Vec<Arc<Task>> {
        self.mem.task_scan()
    }

    fn task_update(&self, values: Task) -> Result<Arc<Task>, RepoError> {
        let conn = self.db.lock();
        let current = self.mem.task_get(&values.id, true)?;
        if current.revision.get() != values.revision.get() {
            return Err(RepoError::Changed {
                row: Row::Task,
                id: values.id,
                read: values.revision.get(),
            });
        }
        let next = i64::try_from(values.revision.next().get()).unwrap_or(i64::MAX);
        let record = to_json(&values)?;
        conn.prepare_cached("UPDATE tasks SET revision = ?2, record = ?3 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![values.id, next, record]))
            .map_err(backend)?;
        self.mem.task_update(values)
    }

    fn reset(&self) {
        let conn = self.db.lock();
        if let Err(e) = conn.execute("DELETE FROM tasks", []) {
            backend(e);
        }
        self.mem.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_repository_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().expect("temp dir");
        let n = std::sync::atomic::AtomicUsize::new(0);
        crate::db::conformance::tasks::run(&|| {
            let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let db = Database::open(&dir.path().join(format!("{i}.sqlite"))).expect("opens");
            Box::new(SqliteTasks::load(db).expect("loads"))
        });
    }

    #[test]
    fn tasks_come_back_from_the_file_in_creation_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("db.sqlite");
        let written: Vec<Task> = {
            let repo = SqliteTasks::load(Database::open(&path).expect("opens")).expect("loads");
            ["b", "a", "c"]
                .iter()
                .map(|id| {
                    let t = crate::db::conformance::tasks::task(id, "p1");
                    Task::clone(&repo.task_create(t).expect("created"))
                })
                .collect()
        };
        let repo = SqliteTasks::load(Database::open(&path).expect("reopens")).expect("loads");
        let read: Vec<Task> = repo.task_scan().iter().map(|t| Task::clone(t)).collect();
        assert_eq!(read, written);
    }
}
