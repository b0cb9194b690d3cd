//! The request journal: what reached the mock (outside `/_mock`), who it
//! acted as, and how it was answered. Bounded: past
//! [`JOURNAL_CAPACITY`] entries the oldest ones go.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// How many entries the journal keeps; older ones are dropped first.
pub const JOURNAL_CAPACITY: usize = 1000;

/// One request as the mock saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Position in the mock's life: 1 for the first request journaled,
    /// counting on across [`Journal::clear`].
    pub seq: u64,
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// The path as sent, e.g. `/v2/images/{id}/file`.
    pub path: String,
    /// The query string as sent, without `?`; `None` when there was none.
    pub query: Option<String>,
    /// The project the request acted as (`None`: no identity, e.g. a
    /// request the API answered with 401, or a Keystone login).
    pub project_id: Option<String>,
    /// The user the request acted as.
    pub user_id: Option<String>,
    /// The status of the answer.
    pub status: u16,
    /// Time until the answer's head was ready, in milliseconds (the body
    /// may stream on afterwards).
    pub duration_ms: f64,
    /// The id of the fault rule that acted on the request, if any.
    pub fault: Option<String>,
}

/// The bounded journal.
#[derive(Debug, Default)]
pub struct Journal {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    entries: VecDeque<JournalEntry>,
    next_seq: u64,
}

impl Journal {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Append `entry`, numbering it (its `seq` is overwritten).
    pub fn record(&self, mut entry: JournalEntry) {
        let mut j = self.lock();
        j.next_seq += 1;
        entry.seq = j.next_seq;
        if j.entries.len() == JOURNAL_CAPACITY {
            j.entries.pop_front();
        }
        j.entries.push_back(entry);
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.lock().entries.iter().cloned().collect()
    }

    /// Forget every entry.
    pub fn clear(&self) {
        self.lock().entries.clear();
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no entry is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> JournalEntry {
        JournalEntry {
            seq: 0,
            method: "GET".into(),
            path: path.into(),
            query: None,
            project_id: None,
            user_id: None,
            status: 200,
            duration_ms: 0.0,
            fault: None,
        }
    }

    #[test]
    fn keeps_the_newest_entries_numbered() {
        let j = Journal::default();
        for i in 0..JOURNAL_CAPACITY + 5 {
            j.record(entry(&format!("/{i}")));
        }
        let all = j.entries();
        assert_eq!(all.len(), JOURNAL_CAPACITY);
        assert_eq!(all[0].path, "/5");
        assert_eq!(all[0].seq, 6);
        j.clear();
        assert!(j.is_empty());
        j.record(entry("/after"));
        assert_eq!(j.entries()[0].seq, JOURNAL_CAPACITY as u64 + 6);
    }
}
