//! The metadata definition tables on SQLite: one document, rewritten by
//! every transaction (see [`super`]).

use std::sync::{Arc, RwLock};

use rusqlite::params;

use super::{Database, OpenError, backend, load_document, to_json};
use crate::db::metadefs::{MetadefRepository, TablesChange};
use crate::domain::Fault;
use crate::domain::metadefs::Tables;

/// The tables in the database, and the committed copy readers share.
#[derive(Debug)]
pub struct SqliteMetadefs {
    db: Arc<Database>,
    tables: RwLock<Arc<Tables>>,
}

impl SqliteMetadefs {
    /// The tables of `db`, loaded (empty if never written).
    pub fn load(db: Arc<Database>) -> Result<Self, OpenError> {
        let tables: Option<Tables> = load_document(&db, "metadefs", "tables")?;
        Ok(SqliteMetadefs {
            db,
            tables: RwLock::new(Arc::new(tables.unwrap_or_default())),
        })
    }

    fn commit(&self, conn: &rusqlite::Connection, tables: Tables) -> Result<(), Fault> {
        let json = to_json(&tables).map_err(|_| Fault::internal())?;
        conn.prepare_cached(
            "INSERT INTO metadefs (id, tables) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET tables = excluded.tables",
        )
        .and_then(|mut s| s.execute(params![json]))
        .map_err(|e| {
            backend(e);
            Fault::internal()
        })?;
        *self.tables.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(tables);
        Ok(())
    }
}

impl MetadefRepository for SqliteMetadefs {
    fn snapshot(&self) -> Arc<Tables> {
        self.tables
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn transaction(&self, change: TablesChange<'_>) -> Result<(), Fault> {
        let conn = self.db.lock();
        let mut draft = Tables::clone(&self.snapshot());
        change(&mut draft)?;
        self.commit(&conn, draft)
    }

    fn reset(&self) {
        let conn = self.db.lock();
        // A failure is logged by `commit`; the tables stay as they were.
        let _ = self.commit(&conn, Tables::default());
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
            repo.snapshot()
        };
        let repo = SqliteMetadefs::load(Database::open(&path).expect("reopens")).expect("loads");
        assert_eq!(repo.snapshot(), written);
        assert_eq!(repo.snapshot().namespaces.len(), 1);
    }
}
