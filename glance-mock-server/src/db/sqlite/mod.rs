//! The records in an embedded SQLite database, one file (`--data-dir DIR`
//! puts it in `DIR/glance-mock.sqlite`), so that they survive a restart
//! and a crash of the process.
//!
//! # How it is laid out
//!
//! One row per image, task and token, each holding its record as JSON
//! beside the columns a write checks (id, revision); the metadata
//! definition tables and the Keystone shim's identities are one document
//! each (a few hundred small rows, written whole). JSON documents rather
//! than Glance's relational tables: the records are read whole and written
//! whole by the repository core ([`crate::db::ImageRepository`] writes a
//! record at a time), so columns per field would only add a mapping to get
//! wrong. The schema carries a version (`PRAGMA user_version`,
//! [`SCHEMA_VERSION`]) and an application id: a database written by a newer
//! mock, or a file that is not one of ours, is refused with a message,
//! never misread.
//!
//! # Reads and writes
//!
//! Every record is also kept in memory, in the in-memory repositories
//! ([`crate::db::MemoryDb`], …), loaded when the database is opened:
//! a read only asks SQLite whether another process committed since (see
//! [`Database`]) and is otherwise served from memory. A write takes the
//! database's one connection and a write transaction, catches up, checks
//! what the memory table says (revision, state), commits the row, and only
//! then changes the memory table, still holding the connection: writers
//! are serialized, the memory and the file never disagree, and a write the
//! mock has acknowledged is committed.
//!
//! # What survives what
//!
//! The journal is SQLite's write-ahead log with `synchronous = NORMAL`: a
//! commit is in the log (in the operating system's cache) before the mock
//! answers, so every acknowledged write survives the process being killed
//! at any moment (`kill -9` included). A power loss or kernel crash may
//! lose the last commits (the database itself stays consistent); the
//! mock is a test server, and an fsync per write would cost more than
//! that is worth here.

mod identities;
mod images;
mod metadefs;
mod tasks;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OptionalExtension, params};

pub use identities::SqliteIdentities;
pub use images::SqliteImages;
pub use metadefs::SqliteMetadefs;
pub use tasks::SqliteTasks;

use super::{RepoError, Repositories};
use crate::keystone::SavedIdentities;

/// The version of the tables this mock writes (`PRAGMA user_version`).
/// A database at an older version is migrated when opened; one at a newer
/// version is refused.
pub const SCHEMA_VERSION: i64 = 2;

/// `PRAGMA application_id` of the mock's databases ("glmk").
const APPLICATION_ID: i64 = 0x676c_6d6b;

/// Version 1 of the tables.
const SCHEMA_V1: &str = "
CREATE TABLE images (
    id       TEXT PRIMARY KEY NOT NULL,
    revision INTEGER NOT NULL,
    status   TEXT NOT NULL,
    record   TEXT NOT NULL
);
CREATE TABLE tasks (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    id       TEXT NOT NULL UNIQUE,
    revision INTEGER NOT NULL,
    record   TEXT NOT NULL
);
CREATE TABLE metadefs (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    tables TEXT NOT NULL
);
CREATE TABLE identities (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    directory TEXT NOT NULL
);
CREATE TABLE tokens (
    id     TEXT PRIMARY KEY NOT NULL,
    record TEXT NOT NULL
);
";

/// Version 2: every row carries the number of the change that last wrote
/// it (`changed`, from the `change` counter), and resets are counted, so
/// that a process sharing the file can load what others changed.
const SCHEMA_V2: &str = "
ALTER TABLE images ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE metadefs ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX images_changed ON images (changed);
CREATE INDEX tasks_changed ON tasks (changed);
CREATE INDEX tokens_changed ON tokens (changed);
CREATE TABLE counters (
    name  TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('change', 0), ('reset', 0);
";

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// SQLite failed (cannot create or read the file, a corrupt file, …).
    #[error("{path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The file is an SQLite database, but not one of the mock's.
    #[error("{path}: not a glance-mock-server database (it has other tables); refusing to use it")]
    Foreign {
        /// The database file.
        path: PathBuf,
    },
    /// The database was written by a newer mock.
    #[error(
        "{path}: written by a newer glance-mock-server (schema version {found}); this one reads versions up to {SCHEMA_VERSION}"
    )]
    Newer {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
    },
    /// A stored record does not read back.
    #[error("{path}: {what} {id} cannot be read: {source}")]
    Record {
        /// The database file.
        path: PathBuf,
        /// Which table.
        what: &'static str,
        /// The row.
        id: String,
        /// Why.
        source: serde_json::Error,
    },
}

/// One database file and the connection every write goes through.
///
/// Several processes may share the file (several API nodes on one
/// `--data-dir`): each keeps the records in memory, and before a read or a
/// write asks SQLite whether another process committed since
/// (`PRAGMA data_version`); if so, each repository loads the rows changed
/// since the last change it saw. A write runs in `BEGIN IMMEDIATE`, which
/// makes other processes' writers wait, after catching up: its checks
/// (revision, state, duplicates) see every commit.
#[derive(Debug)]
pub struct Database {
    conn: Mutex<Conn>,
    path: PathBuf,
    /// How often commits of other processes were noticed.
    external: AtomicU64,
}

/// The connection, and what it last said of `PRAGMA data_version`.
#[derive(Debug)]
struct Conn {
    conn: Connection,
    data_version: i64,
}

impl std::ops::Deref for Conn {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

/// What a repository has loaded: every change of its table up to `seq`
/// since reset number `resets`, as of the `external` count of its
/// database.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    seq: i64,
    resets: i64,
    external: u64,
}

impl Database {
    /// Open (or create) the database at `path`, migrating an older schema.
    pub fn open(path: &Path) -> Result<Arc<Self>, OpenError> {
        let sqlite = |source| OpenError::Sqlite {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                sqlite(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                    Some(e.to_string()),
                ))
            })?;
        }
        let mut conn = Connection::open(path).map_err(sqlite)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sqlite)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sqlite)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite)?;
        migrate(&mut conn, path)?;
        let data_version = conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(sqlite)?;
        Ok(Arc::new(Database {
            conn: Mutex::new(Conn { conn, data_version }),
            path: path.to_owned(),
            external: AtomicU64::new(0),
        }))
    }

    /// How often other processes' commits were noticed, asking SQLite
    /// now: a repository that saw a smaller count must catch up.
    fn external(&self, conn: &mut Conn) -> rusqlite::Result<u64> {
        let v: i64 = conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?;
        if v != conn.data_version {
            conn.data_version = v;
            self.external.fetch_add(1, Ordering::SeqCst);
        }
        Ok(self.external.load(Ordering::SeqCst))
    }

    /// Run `write` in a write transaction (`BEGIN IMMEDIATE`: writers of
    /// other processes wait for it), commit it, then `after` with its
    /// result, still holding the connection: what `after` changes in
    /// memory is in place before any other write of this process starts.
    /// A failure rolls everything back and skips `after`.
    fn write<T, R>(
        &self,
        write: impl FnOnce(&mut Conn) -> Result<T, RepoError>,
        after: impl FnOnce(T) -> R,
    ) -> Result<R, RepoError> {
        let mut conn = self.lock();
        conn.execute_batch("BEGIN IMMEDIATE").map_err(backend)?;
        let done = write(&mut conn).and_then(|v| {
            conn.execute_batch("COMMIT").map_err(backend)?;
            Ok(v)
        });
        match done {
            Ok(v) => Ok(after(v)),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection (held until the read or write is done).
    fn lock(&self) -> MutexGuard<'_, Conn> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The value of counter `name`.
fn counter(conn: &Connection, name: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT value FROM counters WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
}

/// In a write transaction: the number of this change (one more than the
/// last), which every row it writes carries in `changed`.
fn next_change(conn: &Connection) -> Result<i64, RepoError> {
    conn.prepare_cached(
        "UPDATE counters SET value = value + 1 WHERE name = 'change' RETURNING value",
    )
    .and_then(|mut s| s.query_row([], |r| r.get(0)))
    .map_err(backend)
}

/// In a write transaction: count a reset (other processes then reload
/// the table whole).
fn count_reset(conn: &Connection) -> Result<(), RepoError> {
    conn.execute(
        "UPDATE counters SET value = value + 1 WHERE name = 'reset'",
        [],
    )
    .map(drop)
    .map_err(backend)
}

/// Bring the tables to [`SCHEMA_VERSION`], in one transaction.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), OpenError> {
    let sqlite = |source| OpenError::Sqlite {
        path: path.to_owned(),
        source,
    };
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sqlite)?;
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sqlite)?;
    let app: i64 = tx
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(sqlite)?;
    let tables: i64 = tx
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(sqlite)?;
    if (app != APPLICATION_ID && (app != 0 || tables > 0)) || (version == 0 && tables > 0) {
        return Err(OpenError::Foreign {
            path: path.to_owned(),
        });
    }
    if version > SCHEMA_VERSION {
        return Err(OpenError::Newer {
            path: path.to_owned(),
            found: version,
        });
    }
    if version < 1 {
        tx.execute_batch(SCHEMA_V1).map_err(sqlite)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(sqlite)?;
    }
    if version < 2 {
        tx.execute_batch(SCHEMA_V2).map_err(sqlite)?;
    }
    // Later versions: `if version < 3 { ALTER TABLE … }`, each step here.
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(sqlite)?;
    tx.commit().map_err(sqlite)
}

/// The repositories on the database at `path`, with what they hold loaded,
/// and the Keystone shim's journal with the identities and tokens it saved.
pub fn open(
    path: &Path,
) -> Result<(Repositories, Arc<SqliteIdentities>, SavedIdentities), OpenError> {
    let db = Database::open(path)?;
    let repositories = Repositories {
        images: Box::new(SqliteImages::load(db.clone())?),
        tasks: Box::new(SqliteTasks::load(db.clone())?),
        metadefs: Box::new(SqliteMetadefs::load(db.clone())?),
    };
    let identities = Arc::new(SqliteIdentities::new(db));
    let saved = identities.load()?;
    Ok((repositories, identities, saved))
}

/// A database failure of a write, as a repository reports it.
fn backend(e: rusqlite::Error) -> RepoError {
    tracing::error!("database write failed: {e}");
    RepoError::Backend(e.to_string())
}

/// `value` as the JSON a row stores.
fn to_json<T: serde::Serialize>(value: &T) -> Result<String, RepoError> {
    serde_json::to_string(value).map_err(|e| RepoError::Backend(e.to_string()))
}

/// Why stored rows could not be loaded.
#[derive(Debug)]
enum LoadError {
    Sqlite(rusqlite::Error),
    Record {
        what: &'static str,
        id: String,
        source: serde_json::Error,
    },
}

impl From<rusqlite::Error> for LoadError {
    fn from(e: rusqlite::Error) -> Self {
        LoadError::Sqlite(e)
    }
}

impl LoadError {
    /// As opening the database at `path` fails with it.
    fn opening(self, path: &Path) -> OpenError {
        match self {
            LoadError::Sqlite(source) => OpenError::Sqlite {
                path: path.to_owned(),
                source,
            },
            LoadError::Record { what, id, source } => OpenError::Record {
                path: path.to_owned(),
                what,
                id,
                source,
            },
        }
    }

    /// As a repository call fails with it.
    fn repo(self) -> RepoError {
        match self {
            LoadError::Sqlite(e) => backend(e),
            LoadError::Record { what, id, source } => {
                RepoError::Backend(format!("{what} {id} cannot be read: {source}"))
            }
        }
    }
}

/// A stored row: its revision, its record, and the change that wrote it.
struct Stored<T> {
    revision: u64,
    record: T,
    changed: i64,
}

/// The rows of `sql` (selecting `id, revision, record, changed`, with the
/// change to start after as `?1`), records decoded.
fn rows_since<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    since: i64,
    what: &'static str,
) -> Result<Vec<Stored<T>>, LoadError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([since], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, revision, record, changed) = row?;
        let record = serde_json::from_str(&record).map_err(|source| LoadError::Record {
            what,
            id,
            source,
        })?;
        out.push(Stored {
            revision: u64::try_from(revision).unwrap_or(1),
            record,
            changed,
        });
    }
    Ok(out)
}

/// The one document in `table` (row 1, `column`), if it was written after
/// change `since`, with the change that wrote it.
fn document_since<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    table: &'static str,
    column: &str,
    since: i64,
) -> Result<Option<(T, i64)>, LoadError> {
    let json: Option<(String, i64)> = conn
        .prepare_cached(&format!(
            "SELECT {column}, changed FROM {table} WHERE id = 1 AND changed > ?1"
        ))?
        .query_row([since], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    json.map(|(j, changed)| {
        serde_json::from_str(&j)
            .map(|d| (d, changed))
            .map_err(|source| LoadError::Record {
                what: table,
                id: "1".into(),
                source,
            })
    })
    .transpose()
}

/// Write `json` as `table`'s one document (row 1, `column`), at change
/// `changed`.
fn put_document(
    conn: &Connection,
    table: &str,
    column: &str,
    json: &str,
    changed: i64,
) -> Result<(), RepoError> {
    conn.prepare_cached(&format!(
        "INSERT INTO {table} (id, {column}, changed) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET {column} = excluded.{column}, changed = excluded.changed"
    ))
    .and_then(|mut s| s.execute(params![json, changed]))
    .map(drop)
    .map_err(backend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_carries_the_schema_version() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub").join("db.sqlite");
        drop(Database::open(&path).expect("created"));
        let conn = Connection::open(&path).expect("opens");
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(v, SCHEMA_VERSION);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
        // Opening again keeps it.
        drop(Database::open(&path).expect("opens again"));
    }

    #[test]
    fn a_version_1_database_is_migrated_and_its_records_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("db.sqlite");
        let image = crate::db::conformance::images::image("v1-image", "p1");
        {
            let conn = Connection::open(&path).expect("opens");
            conn.execute_batch(SCHEMA_V1).expect("version 1 tables");
            conn.pragma_update(None, "application_id", APPLICATION_ID)
                .expect("ours");
            conn.pragma_update(None, "user_version", 1)
                .expect("version 1");
            conn.execute(
                "INSERT INTO images (id, revision, status, record) VALUES (?1, 3, 'queued', ?2)",
                params![image.id, serde_json::to_string(&image).expect("json")],
            )
            .expect("a row written by version 1");
        }
        let (repo, _, _) = open(&path).expect("migrated");
        let read = repo.images.image_get("v1-image", false).expect("kept");
        assert_eq!(*read, image);
        assert_eq!(read.revision.get(), 3);
        // Written after the migration, read back by a fresh process.
        crate::db::images::modify(repo.images.as_ref(), "v1-image", None, &mut |i| {
            i.name = Some("after".into());
            Ok(())
        })
        .expect("written");
        drop(repo);
        let (repo, _, _) = open(&path).expect("reopened");
        let read = repo.images.image_get("v1-image", false).expect("kept");
        assert_eq!(read.name.as_deref(), Some("after"));
        assert_eq!(read.revision.get(), 4);
        let v: i64 = Connection::open(&path)
            .expect("opens")
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn a_second_handle_on_the_file_sees_the_first_ones_writes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("db.sqlite");
        let (one, _, _) = open(&path).expect("opens");
        let (two, _, _) = open(&path).expect("opens again");
        one.images
            .image_create(crate::db::conformance::images::image("x", "p1"))
            .expect("created by one");
        let seen = two.images.image_get("x", false).expect("seen by two");
        // Two writes on what it read: the first wins, the second is told.
        let mut a = crate::domain::Image::clone(&seen);
        a.name = Some("a".into());
        two.images.image_write(a).expect("first write");
        let mut b = crate::domain::Image::clone(&seen);
        b.name = Some("b".into());
        assert!(matches!(
            one.images.image_write(b),
            Err(RepoError::Changed { .. })
        ));
        assert_eq!(
            one.images
                .image_get("x", false)
                .expect("read")
                .name
                .as_deref(),
            Some("a")
        );
        // A reset through one empties two.
        one.images.reset().expect("reset");
        assert!(two.images.image_scan(true).expect("scan").is_empty());
        two.tasks
            .task_create(crate::db::conformance::tasks::task("t", "p1"))
            .expect("task by two");
        assert!(one.tasks.task_get("t", false).is_ok());
    }

    #[test]
    fn a_newer_database_is_refused_with_its_version() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("db.sqlite");
        drop(Database::open(&path).expect("created"));
        Connection::open(&path)
            .expect("opens")
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .expect("bumped");
        let e = Database::open(&path).expect_err("refused");
        assert!(matches!(e, OpenError::Newer { found, .. } if found == SCHEMA_VERSION + 1));
        assert!(e.to_string().contains("newer glance-mock-server"), "{e}");
    }

    #[test]
    fn someone_elses_database_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("other.sqlite");
        Connection::open(&path)
            .expect("opens")
            .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .expect("someone's table");
        let e = Database::open(&path).expect_err("refused");
        assert!(matches!(e, OpenError::Foreign { .. }), "{e}");
        let n: i64 = Connection::open(&path)
            .expect("opens")
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .expect("still there");
        assert_eq!(n, 1);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "not a database, but long enough to look like a header ....................................................................").expect("written");
        assert!(matches!(
            Database::open(&path),
            Err(OpenError::Sqlite { .. })
        ));
    }
}
