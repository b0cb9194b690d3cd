//! The task table on SQLite: rows written through, records read from the
//! in-memory table beside them (see [`super`]).

use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::params;

use super::{
    Conn, Database, LoadError, OpenError, Seen, backend, count_reset, counter, next_change,
    rows_since, to_json,
};
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
    seen: Mutex<Seen>,
}

const SINCE: &str =
    "SELECT id, revision, record, changed FROM tasks WHERE changed > ?1 ORDER BY seq";

impl SqliteTasks {
    /// The task table of `db`, its records loaded in creation order.
    pub fn load(db: Arc<Database>) -> Result<Self, OpenError> {
        let repo = SqliteTasks {
            db: db.clone(),
            mem: MemoryTaskDb::default(),
            seen: Mutex::new(Seen {
                seq: -1,
                ..Seen::default()
            }),
        };
        let mut conn = db.lock();
        repo.catch_up(&mut conn, true)
            .map_err(|e| e.opening(&db.path))?;
        drop(conn);
        Ok(repo)
    }

    /// Load what other processes committed since this one last looked.
    fn catch_up(&self, conn: &mut Conn, force: bool) -> Result<(), LoadError> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let external = self.db.external(conn)?;
        if external == seen.external && !force {
            return Ok(());
        }
        let resets = counter(conn, "reset")?;
        if resets != seen.resets {
            self.mem.clear();
            seen.seq = -1;
            seen.resets = resets;
        }
        for row in rows_since::<Task>(conn, SINCE, seen.seq, "task")? {
            let mut task = row.record;
            task.revision = Revision::new(row.revision);
            self.mem.restore(task);
            seen.seq = seen.seq.max(row.changed);
        }
        seen.external = external;
        Ok(())
    }

    fn fresh(&self) -> &MemoryTaskDb {
        let mut conn = self.db.lock();
        if let Err(e) = self.catch_up(&mut conn, false) {
            tracing::error!("reading other processes' task changes: {}", e.repo());
        }
        &self.mem
    }

    fn write_row(
        &self,
        task: Task,
        check: impl FnOnce(&MemoryTaskDb, &Task) -> Result<(), RepoError>,
        sql: &str,
        revision: u64,
        apply: impl FnOnce(&MemoryTaskDb, Task) -> Result<Arc<Task>, RepoError>,
    ) -> Result<Arc<Task>, RepoError> {
        self.db.write(
            |conn| {
                self.catch_up(conn, false).map_err(LoadError::repo)?;
                check(&self.mem, &task)?;
                let changed = next_change(conn)?;
                let record = to_json(&task)?;
                let rev = i64::try_from(revision).unwrap_or(i64::MAX);
                conn.prepare_cached(sql)
                    .and_then(|mut s| s.execute(params![task.id, rev, record, changed]))
                    .map_err(backend)?;
                self.seen.lock().unwrap_or_else(PoisonError::into_inner).seq = changed;
                Ok(task)
            },
            |task| apply(&self.mem, task),
        )?
    }
}

impl TaskRepository for SqliteTasks {
    fn task_create(&self, task: Task) -> Result<Arc<Task>, RepoError> {
        self.write_row(
            task,
            |mem, task| match mem.task_get(&task.id, true) {
                Ok(_) => Err(RepoError::duplicate(Row::Task, task.id.clone())),
                Err(_) => Ok(()),
            },
            "INSERT INTO tasks (id, revision, record, changed) VALUES (?1, ?2, ?3, ?4)",
            1,
            MemoryTaskDb::task_create,
        )
    }

    fn task_get(&self, id: &str, force_show_deleted: bool) -> Result<Arc<Task>, RepoError> {
        self.fresh().task_get(id, force_show_deleted)
    }

    fn task_scan(&self) -> Result<Vec<Arc<Task>>, RepoError> {
        self.fresh().task_scan()
    }

    fn task_update(&self, values: Task) -> Result<Arc<Task>, RepoError> {
        let next = values.revision.next().get();
        self.write_row(
            values,
            |mem, values| {
                let current = mem.task_get(&values.id, true)?;
                if current.revision.get() != values.revision.get() {
                    return Err(RepoError::Changed {
                        row: Row::Task,
                        id: values.id.clone(),
                        read: values.revision.get(),
                    });
                }
                Ok(())
            },
            "UPDATE tasks SET revision = ?2, record = ?3, changed = ?4 WHERE id = ?1",
            next,
            MemoryTaskDb::task_update,
        )
    }

    fn reset(&self) -> Result<(), RepoError> {
        self.db.write(
            |conn| {
                conn.execute("DELETE FROM tasks", []).map_err(backend)?;
                count_reset(conn)?;
                let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
                seen.resets = counter(conn, "reset").map_err(backend)?;
                seen.seq = -1;
                Ok(())
            },
            |()| self.mem.clear(),
        )
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
        let read: Vec<Task> = repo
            .task_scan()
            .expect("scan")
            .iter()
            .map(|t| Task::clone(t))
            .collect();
        assert_eq!(read, written);
    }
}
