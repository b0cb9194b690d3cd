//! The Keystone shim's identities and tokens on SQLite: the shim writes
//! through its [`IdentityJournal`] (see [`super`]).

use std::sync::Arc;

use rusqlite::params;

use super::{Database, OpenError, backend, load_document, to_json};
use crate::keystone::{Directory, IdentityJournal, SavedIdentities, Token};

/// The journal of the shim's identities and tokens in the database.
#[derive(Debug)]
pub struct SqliteIdentities {
    db: Arc<Database>,
}

impl SqliteIdentities {
    /// The journal in `db`.
    pub fn new(db: Arc<Database>) -> Self {
        SqliteIdentities { db }
    }

    /// What was written: the identities (if ever changed) and every token.
    pub fn load(&self) -> Result<SavedIdentities, OpenError> {
        let directory: Option<Directory> = load_document(&self.db, "identities", "directory")?;
        let conn = self.db.lock();
        let sqlite = |source| OpenError::Sqlite {
            path: self.db.path.clone(),
            source,
        };
        let mut stmt = conn
            .prepare("SELECT id, record FROM tokens")
            .map_err(sqlite)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(sqlite)?;
        let mut tokens = Vec::new();
        for row in rows {
            let (id, record) = row.map_err(sqlite)?;
            tokens.push(
                serde_json::from_str(&record).map_err(|source| OpenError::Record {
                    path: self.db.path.clone(),
                    what: "token",
                    id,
                    source,
                })?,
            );
        }
        Ok(SavedIdentities { directory, tokens })
    }
}

impl IdentityJournal for SqliteIdentities {
    fn directory_changed(&self, directory: &Directory) {
        let Ok(json) = to_json(directory) else { return };
        let conn = self.db.lock();
        if let Err(e) = conn
            .prepare_cached(
                "INSERT INTO identities (id, directory) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET directory = excluded.directory",
            )
            .and_then(|mut s| s.execute(params![json]))
        {
            backend(e);
        }
    }

    fn token_saved(&self, token: &Token) {
        let Ok(json) = to_json(token) else { return };
        let conn = self.db.lock();
        if let Err(e) = conn
            .prepare_cached(
                "INSERT INTO tokens (id, record) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET record = excluded.record",
            )
            .and_then(|mut s| s.execute(params![token.id, json]))
        {
            backend(e);
        }
    }
}
