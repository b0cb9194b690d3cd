//! The metadata definition tables on SQLite: one document, rewritten by
//! every transaction (see [`super`]).

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use super::{
    Conn, Database, LoadError, OpenError, Seen, counter, document_since, next_change, put_document,
    to_json,
};
use crate::db::RepoError;
use crate::db::metadefs::{MetadefRepository, TablesChange};
use crate::domain::Fault;
use crate::domain::metadefs::Tables;

/// The tables in the database, and the committed copy readers share.
#[derive(Debug)]
pub struct SqliteMetadefs {
    db: Arc<Database>,
    tables: RwLock<Arc<Tables>>,
    seen: Mutex<Seen>,
}

impl SqliteMetadefs {
    /// The tables of `db`, loaded (empty if never written).
    pub fn load(db: Arc<Database>) -> Result<Self, OpenError> {
        let repo = SqliteMetadefs {
            db: db.clone(),
            tables: RwLock::default(),
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

    /// Load the tables if another process wrote them since.
    fn catch_up(&self, conn: &mut Conn, force: bool) -> Result<(), LoadError> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let external = self.db.external(conn)?;
        if external == seen.external && !force {
            return Ok(());
        }
        let resets = counter(conn, "reset")?;
        if resets != seen.resets {
            seen.seq = -1;
            seen.resets = resets;
        }
        match document_since::<Tables>(conn, "metadefs", "tables", seen.seq)? {
            Some((tables, changed)) => {
                self.set(tables);
                seen.seq = changed;
            }
            // Reset by another process and not written since.
            None if seen.seq < 0 => self.set(Tables::default()),
            None => {}
        }
        seen.external = external;
        Ok(())
    }

    fn set(&self, tables: Tables) {
        *self.tables.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(tables);
    }

    fn current(&self) -> Arc<Tables> {
        self.tables
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Write `tables` as the committed tables.
    fn commit(&self, tables: Tables) -> Result<(), RepoError> {
        let json = to_json(&tables)?;
        self.db.write(
            |conn| {
                let changed = next_change(conn)?;
                put_document(conn, "metadefs", "tables", &json, changed)?;
                self.seen.lock().unwrap_or_else(PoisonError::into_inner).seq = changed;
                Ok(())
            },
            |()| self.set(tables),
        )
    }
}

impl MetadefRepository for SqliteMetadefs {
    fn snapshot(&self) -> Result<Arc<Tables>, RepoError> {
        let mut conn = self.db.lock();
        if let Err(e) = self.catch_up(&mut conn, false) {
            // Serve what is known; the next call tries again.
            tracing::error!("reading other processes' metadefs: {}", e.repo());
        }
        drop(conn);
        Ok(self.current())
    }

    fn transaction(&self, change: TablesChange<'_>) -> Result<(), Fault> {
        let mut result = Ok(());
        self.db
            .write(
                |conn| {
                    self.catch_up(conn, false).map_err(LoadError::repo)?;
                    let mut draft = Tables::clone(&self.current());
                    if let Err(fault) = change(&mut draft) {
                        result = Err(fault);
                        // Nothing to write; the transaction ends empty.
                        return Ok(None);
                    }
                    let json = to_json(&draft)?;
                    let changed = next_change(conn)?;
                    put_document(conn, "metadefs", "tables", &json, changed)?;
                    self.seen.lock().unwrap_or_else(PoisonError::into_inner).seq = changed;
                    Ok(Some(draft))
                },
                |draft| {
                    if let Some(draft) = draft {
                        self.set(draft);
                    }
                },
            )
            .map_err(|e| {
                tracing::error!("writing metadefs: {e}");
                Fault::internal()
            })?;
        result
    }

    fn reset(&self) -> Result<(), RepoError> {
        self.commit(Tables::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_repository_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().expect("temp dir");
        let n = std::sync::atomic::AtomicUsize::new(0);
        crate::db::conformance::metadefs::run(&|| {
            let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let db = Database::open(&dir.path().join(format!("{i}.sqlite"))).expect("opens");
            Box::new(SqliteMetadefs::load(db).expect("loads"))
        });
    }

    #[test]
    fn the_tables_come_back_from_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("db.sqlite");
        let written = {
            let repo = SqliteMetadefs::load(Database::open(&path).expect("opens")).expect("loads");
            repo.transaction(&mut |t| {
                let id = t.next_id();
                t.namespaces
                    .push(crate::domain::metadefs::records::Namespace::new(
                        id,
                        "OS::Test".into(),
                        Some("p1".into()),
                        "public".into(),
                        crate::domain::time::now(),
                    ));
                Ok(())
            })
            .expect("committed");
            repo.snapshot().expect("snapshot")
        };
        let repo = SqliteMetadefs::load(Database::open(&path).expect("reopens")).expect("loads");
        assert_eq!(repo.snapshot().expect("snapshot"), written);
        assert_eq!(repo.snapshot().expect("snapshot").namespaces.len(), 1);
    }
}
