//! The image table on SQLite: rows written through, records read from the
//! in-memory table beside them (see [`super`]).

use std::sync::Arc;

use rusqlite::params;

use super::{Database, OpenError, backend, load_rows, to_json};
use crate::db::error::{RepoError, Row};
use crate::db::images::ImageRepository;
use crate::db::memory::MemoryDb;
use crate::domain::{Image, Revision};

/// Image records in the database, deleted ones included.
#[derive(Debug)]
pub struct SqliteImages {
    db: Arc<Database>,
    /// Every record, as committed.
    mem: MemoryDb,
}

impl SqliteImages {
    /// The image table of `db`, its records loaded.
    pub fn load(db: Arc<Database>) -> Result<Self, OpenError> {
        let mem = MemoryDb::default();
        let rows: Vec<(u64, Image)> =
            load_rows(&db, "SELECT id, revision, record FROM images", "image")?;
        for (revision, mut image) in rows {
            image.revision = Revision::new(revision);
            mem.restore(image);
        }
        Ok(SqliteImages { db, mem })
    }
}

impl ImageRepository for SqliteImages {
    fn image_create(&self, image: Image) -> Result<Arc<Image>, RepoError> {
        let conn = self.db.lock();
        if self.mem.image_get(&image.id, true).is_ok() {
            return Err(RepoError::duplicate(Row::Image, image.id));
        }
        let record = to_json(&image)?;
        conn.prepare_cached(
            "INSERT INTO images (id, revision, status, record) VALUES (?1, 1, ?2, ?3)",
        )
        .and_then(|mut s| s.execute(params![image.id, image.status.as_str(), record]))
        .map_err(backend)?;
        self.mem.image_create(image)
    }

    fn image_get(&self, id: &str, force_show_deleted: bool) -> Result<Arc<Image>, RepoError> {
        self.mem.image_get(id, force_show_deleted)
    }

    fn image_scan(&self, with_deleted: bool) -> Vec<Arc<Image>> {
        self.mem.image_scan(with_deleted)
    }

    fn image_write(&self, new: Image) -> Result<Arc<Image>, RepoError> {
        let conn = self.db.lock();
        // The memory table is what is committed, and only writers holding
        // the connection change it: checking it here is checking the row.
        let current = self.mem.image_get(&new.id, false)?;
        if current.revision.get() != new.revision.get() {
            return Err(RepoError::Changed {
                row: Row::Image,
                id: new.id,
                read: new.revision.get(),
            });
        }
        let next = i64::try_from(new.revision.next().get()).unwrap_or(i64::MAX);
        let record = to_json(&new)?;
        conn.prepare_cached(
            "UPDATE images SET revision = ?2, status = ?3, record = ?4 WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![new.id, next, new.status.as_str(), record]))
        .map_err(backend)?;
        self.mem.image_write(new)
    }

    fn generation(&self) -> u64 {
        self.mem.generation()
    }

    fn reset(&self) {
        let conn = self.db.lock();
        if let Err(e) = conn.execute("DELETE FROM images", []) {
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
        crate::db::conformance::images::run(&|| {
            let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let db = Database::open(&dir.path().join(format!("{i}.sqlite"))).expect("opens");
            Box::new(SqliteImages::load(db).expect("loads"))
        });
    }

    #[test]
    fn records_come_back_from_the_file_at_their_revision() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("db.sqlite");
        let written = {
            let repo = SqliteImages::load(Database::open(&path).expect("opens")).expect("loads");
            let img = crate::db::conformance::images::image("a", "p1");
            repo.image_create(img).expect("created");
            crate::db::images::modify(&repo, "a", None, &mut |i| {
                i.tags.insert("t".into());
                Ok(())
            })
            .expect("written")
        };
        let repo = SqliteImages::load(Database::open(&path).expect("reopens")).expect("loads");
        let read = repo.image_get("a", false).expect("back");
        assert_eq!(*read, *written);
        assert_eq!(read.revision.get(), 2);
        assert!(read.tags.contains("t"));
    }
}
