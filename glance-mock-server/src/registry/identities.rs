//! The registry's copy of the Keystone shim's journal: every API node
//! writes its identities and tokens here and reads what the others wrote
//! since it last asked, by change number.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::db::registry::wire::IdentityChanges;
use crate::keystone::{Directory, IdentityJournal, SavedIdentities, Token};

/// The identities and tokens the API nodes wrote, each with the number of
/// the change that wrote it last; written through to `durable` when the
/// registry keeps a database.
#[derive(Debug, Default)]
pub struct IdentityLog {
    inner: Mutex<Log>,
    durable: Option<Arc<dyn IdentityJournal>>,
}

#[derive(Debug, Default)]
struct Log {
    last: u64,
    directory: Option<(u64, Directory)>,
    tokens: HashMap<String, (u64, Token)>,
}

impl IdentityLog {
    /// A log starting from `saved` (what the database held), written
    /// through to `durable`.
    pub fn new(saved: SavedIdentities, durable: Option<Arc<dyn IdentityJournal>>) -> Self {
        let mut log = Log::default();
        if let Some(d) = saved.directory {
            log.last += 1;
            log.directory = Some((log.last, d));
        }
        for t in saved.tokens {
            log.last += 1;
            log.tokens.insert(t.id.clone(), (log.last, t));
        }
        IdentityLog {
            inner: Mutex::new(log),
            durable,
        }
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The identities are now `directory`.
    pub fn directory_changed(&self, directory: Directory) {
        if let Some(d) = &self.durable {
            d.directory_changed(&directory);
        }
        let mut log = self.log();
        log.last += 1;
        log.directory = Some((log.last, directory));
    }

    /// `token` was issued or changed.
    pub fn token_saved(&self, token: Token) {
        if let Some(d) = &self.durable {
            d.token_saved(&token);
        }
        let mut log = self.log();
        log.last += 1;
        let n = log.last;
        log.tokens.insert(token.id.clone(), (n, token));
    }

    /// What was written after change `since`.
    pub fn changes(&self, since: u64) -> IdentityChanges {
        let log = self.log();
        let mut tokens: Vec<&(u64, Token)> =
            log.tokens.values().filter(|(n, _)| *n > since).collect();
        tokens.sort_by_key(|(n, _)| *n);
        IdentityChanges {
            directory: log
                .directory
                .as_ref()
                .filter(|(n, _)| *n > since)
                .map(|(_, d)| d.clone()),
            tokens: tokens.into_iter().map(|(_, t)| t.clone()).collect(),
            last: log.last,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_gets_each_change_once_and_in_order() {
        let log = IdentityLog::default();
        assert_eq!(log.changes(0).last, 0);
        log.directory_changed(Directory::default());
        let first = log.changes(0);
        assert!(first.directory.is_some());
        assert_eq!(first.last, 1);
        let again = log.changes(first.last);
        assert!(again.directory.is_none() && again.tokens.is_empty());
    }
}
