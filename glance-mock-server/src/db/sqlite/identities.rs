//! The Keystone shim's identities and tokens on SQLite: the shim writes
//! through its [`IdentityJournal`] and asks it for what other processes
//! wrote (see [`super`]).

use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::params;

use super::{
    Conn, Database, LoadError, OpenError, backend, document_since, next_change, put_document,
    rows_since, to_json,
};
use crate::keystone::{Directory, IdentityJournal, SavedIdentities, Token};

/// The journal of the shim's identities and tokens in the database.
#[derive(Debug)]
pub struct SqliteIdentities {
    db: Arc<Database>,
    /// The last change of the directory and of the tokens this process
    /// has, and the database's `external` count it looked at.
    seen: Mutex<(i64, i64, u64)>,
}

const TOKENS_SINCE: &str =
    "SELECT id, 0, record, changed FROM tokens WHERE changed > ?1 ORDER BY changed";

impl SqliteIdentities {
    /// The journal in `db`.
    pub fn new(db: Arc<Database>) -> Self {
        SqliteIdentities {
            db,
            seen: Mutex::new((-1, -1, 0)),
        }
    }

    /// What was written: the identities (if ever changed) and every token.
    pub fn load(&self) -> Result<SavedIdentities, OpenError> {
        let mut conn = self.db.lock();
        self.since(&mut conn, true)
            .map_err(|e| e.opening(&self.db.path))
    }

    /// What was written since this journal last looked (everything the
    /// first time, or with `force`).
    fn since(&self, conn: &mut Conn, force: bool) -> Result<SavedIdentities, LoadError> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let external = self.db.external(conn)?;
        if external == seen.2 && !force {
            return Ok(SavedIdentities::default());
        }
        let mut out = SavedIdentities::default();
        if let Some((directory, changed)) =
            document_since::<Directory>(conn, "identities", "directory", seen.0)?
        {
            out.directory = Some(directory);
            seen.0 = changed;
        }
        for row in rows_since::<Token>(conn, TOKENS_SINCE, seen.1, "token")? {
            out.tokens.push(row.record);
            seen.1 = seen.1.max(row.changed);
        }
        seen.2 = external;
        Ok(out)
    }

    fn put(&self, what: &str, write: impl FnOnce(&Conn, i64) -> Result<(), crate::db::RepoError>) {
        let done = self.db.write(
            |conn| {
                let changed = next_change(conn)?;
                write(conn, changed)
            },
            |()| (),
        );
        if let Err(e) = done {
            tracing::error!("writing {what}: {e}");
        }
    }
}

impl IdentityJournal for SqliteIdentities {
    fn directory_changed(&self, directory: &Directory) {
        let Ok(json) = to_json(directory) else { return };
        self.put("the identities", |conn, changed| {
            put_document(conn, "identities", "directory", &json, changed)
        });
    }

    fn token_saved(&self, token: &Token) {
        let Ok(json) = to_json(token) else { return };
        self.put("a token", |conn, changed| {
            conn.prepare_cached(
                "INSERT INTO tokens (id, record, changed) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET record = excluded.record, changed = excluded.changed",
            )
            .and_then(|mut s| s.execute(params![token.id, json, changed]))
            .map(drop)
            .map_err(backend)
        });
    }

    fn changes(&self) -> SavedIdentities {
        let mut conn = self.db.lock();
        self.since(&mut conn, false).unwrap_or_else(|e| {
            tracing::error!("reading other processes' identities: {}", e.repo());
            SavedIdentities::default()
        })
    }
}
