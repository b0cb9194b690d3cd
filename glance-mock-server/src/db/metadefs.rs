//! Where metadata definition rows live: one set of [`Tables`], read as a
//! consistent snapshot and changed under one lock, so every API call sees
//! and makes its changes as a single transaction.

use std::fmt::Debug;
use std::sync::{Arc, RwLock};

use crate::domain::metadefs::Tables;

/// Storage of the metadata definition tables.
pub trait MetadefRepository: Debug + Send + Sync {
    /// The tables as they are now; later changes do not show in it.
    fn snapshot(&self) -> Arc<Tables>;

    /// Change the tables; no other change interleaves with `change`.
    fn write(&self, change: &mut dyn FnMut(&mut Tables));

    /// Forget everything.
    fn reset(&self);
}

/// The in-memory tables, copied on write so readers never wait for long.
#[derive(Debug, Default)]
pub struct MemoryMetadefs {
    tables: RwLock<Arc<Tables>>,
}

impl MetadefRepository for MemoryMetadefs {
    fn snapshot(&self) -> Arc<Tables> {
        self.tables
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn write(&self, change: &mut dyn FnMut(&mut Tables)) {
        let mut guard = self.tables.write().unwrap_or_else(|p| p.into_inner());
        change(Arc::make_mut(&mut guard));
    }

    fn reset(&self) {
        *self.tables.write().unwrap_or_else(|p| p.into_inner()) = Arc::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_do_not_see_later_writes() {
        let repo = MemoryMetadefs::default();
        let before = repo.snapshot();
        repo.write(&mut |t| {
            t.next_id();
        });
        assert_eq!(*before, Tables::default());
        assert_ne!(*repo.snapshot(), Tables::default());
        repo.reset();
        assert_eq!(*repo.snapshot(), Tables::default());
    }
}
