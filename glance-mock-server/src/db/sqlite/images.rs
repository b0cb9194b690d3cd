//! The image table on SQLite: rows written through, records read from the
//! in-memory table beside them (see [`super`]).

use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::params;

use super::{
    Conn, Database, LoadError, OpenError, Seen, backend, count_reset, counter, next_change,
    rows_since, to_json,
};
use crate::db::error::{RepoError, Row};
use crate::db::images::ImageRepository;
use crate::db::memory::MemoryDb;
use crate::domain::{Image, Revision};

/// Image records in the database, deleted ones included.
#[derive(Debug)]
pub struct SqliteImages {
    db: Arc<Database>,
    /// Every record, as committed (by this process, or by others as of
    /// `seen`).
    mem: MemoryDb,
    seen: Mutex<Seen>,
}

const SINCE: &str =
    "SELECT id, revision, record, changed FROM images WHERE changed > ?1 ORDER BY changed";

impl SqliteImages {
    /// The image table of `db`, its records loaded.
    pub fn load(db: Arc<Database>) -> Result<Self, OpenError> {
        let repo = SqliteImages {
            db: db.clone(),
            mem: MemoryDb::default(),
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

    /// Load what other processes committed since this one last looked
    /// (everything with `force`).
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
        for row in rows_since::<Image>(conn, SINCE, seen.seq, "image")? {
            let mut image = row.record;
            image.revision = Revision::new(row.revision);
            self.mem.restore(image);
            seen.seq = seen.seq.max(row.changed);
        }
        seen.external = external;
        Ok(())
    }

    /// The memory table, caught up with other processes' commits.
    fn fresh(&self) -> &MemoryDb {
        let mut conn = self.db.lock();
        if let Err(e) = self.catch_up(&mut conn, false) {
            // Serve what is known; the next call tries again.
            tracing::error!("reading other processes' image changes: {}", e.repo());
        }
        &self.mem
    }

    /// In a write transaction: catch up, then check `write` against the
    /// memory table (now what is committed), then write the row.
    fn write_row(
        &self,
        image: Image,
        check: impl FnOnce(&MemoryDb, &Image) -> Result<(), RepoError>,
        sql: &str,
        revision: u64,
        apply: impl FnOnce(&MemoryDb, Image) -> Result<Arc<Image>, RepoError>,
    ) -> Result<Arc<Image>, RepoError> {
        self.db.write(
            |conn| {
                self.catch_up(conn, false).map_err(LoadError::repo)?;
                check(&self.mem, &image)?;
                let changed = next_change(conn)?;
                let record = to_json(&image)?;
                let rev = i64::try_from(revision).unwrap_or(i64::MAX);
                conn.prepare_cached(sql)
                    .and_then(|mut s| {
                        s.execute(params![
                            image.id,
                            rev,
                            image.status.as_str(),
                            record,
                            changed
                        ])
                    })
                    .map_err(backend)?;
                self.seen.lock().unwrap_or_else(PoisonError::into_inner).seq = changed;
                Ok(image)
            },
            // Committed: the memory table follows before the connection
            // is let go (it cannot refuse: the checks above held).
            |image| apply(&self.mem, image),
        )?
    }
}

impl ImageRepository for SqliteImages {
    fn image_create(&self, image: Image) -> Result<Arc<Image>, RepoError> {
        self.write_row(
            image,
            |mem, image| match mem.image_get(&image.id, true) {
                Ok(_) => Err(RepoError::duplicate(Row::Image, image.id.clone())),
                Err(_) => Ok(()),
            },
            "INSERT INTO images (id, revision, status, record, changed) VALUES (?1, ?2, ?3, ?4, ?5)",
            1,
            MemoryDb::image_create,
        )
    }

    fn image_get(&self, id: &str, force_show_deleted: bool) -> Result<Arc<Image>, RepoError> {
        self.fresh().image_get(id, force_show_deleted)
    }

    fn image_scan(&self, with_deleted: bool) -> Result<Vec<Arc<Image>>, RepoError> {
        self.fresh().image_scan(with_deleted)
    }

    fn image_write(&self, new: Image) -> Result<Arc<Image>, RepoError> {
        let next = new.revision.next().get();
        self.write_row(
            new,
            |mem, new| {
                // The memory table is what is committed (caught up under
                // the write lock): checking it is checking the row.
                let current = mem.image_get(&new.id, false)?;
                if current.revision.get() != new.revision.get() {
                    return Err(RepoError::Changed {
                        row: Row::Image,
                        id: new.id.clone(),
                        read: new.revision.get(),
                    });
                }
                Ok(())
            },
            "UPDATE images SET revision = ?2, status = ?3, record = ?4, changed = ?5 WHERE id = ?1",
            next,
            MemoryDb::image_write,
        )
    }

    fn generation(&self) -> Result<u64, RepoError> {
        self.fresh().generation()
    }

    fn reset(&self) -> Result<(), RepoError> {
        self.db.write(
            |conn| {
                conn.execute("DELETE FROM images", []).map_err(backend)?;
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
