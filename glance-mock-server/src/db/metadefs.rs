//! Where metadata definition rows live: one set of [`Tables`], read as a
//! consistent snapshot and changed as one transaction (a unit of work).
//!
//! The seed's `metadef_*` write functions are the methods of [`Tables`]
//! (`namespace_create`, `object_update`, `tag_create_tags`,
//! `property_delete_namespace_content`, `resource_type_create`,
//! `resource_type_association_delete`, …); its reads are the lookups
//! beside them (`namespace`, `objects_of`, `associations_of`, …). The
//! rules of [`crate::domain::metadefs`] call them on the tables a
//! [`MetadefRepository::transaction`] hands them: a change that fails
//! half-way leaves the tables as they were. Metadata definitions are a
//! few hundred small rows, so a backend may keep them whole.

use std::fmt::Debug;
use std::sync::{Arc, RwLock};

use super::RepoError;
use crate::domain::Fault;
use crate::domain::metadefs::Tables;

/// A change of the tables; its error undoes it.
pub type TablesChange<'a> = &'a mut dyn FnMut(&mut Tables) -> Result<(), Fault>;

/// Storage of the metadata definition tables.
pub trait MetadefRepository: Debug + Send + Sync {
    /// The tables as they are now; later changes do not show in it.
    fn snapshot(&self) -> Result<Arc<Tables>, RepoError>;

    /// Run `change` on the tables as one transaction: no other change
    /// interleaves with it, and if it fails, nothing it did stays.
    fn transaction(&self, change: TablesChange<'_>) -> Result<(), Fault>;

    /// Forget everything.
    fn reset(&self) -> Result<(), RepoError>;
}

/// The in-memory tables, copied on write so readers never wait for long.
#[derive(Debug, Default)]
pub struct MemoryMetadefs {
    tables: RwLock<Arc<Tables>>,
}

impl MetadefRepository for MemoryMetadefs {
    fn snapshot(&self) -> Result<Arc<Tables>, RepoError> {
        Ok(self
            .tables
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone())
    }

    fn transaction(&self, change: TablesChange<'_>) -> Result<(), Fault> {
        let mut guard = self.tables.write().unwrap_or_else(|p| p.into_inner());
        // The change works on a copy, which replaces the tables only once
        // it succeeded.
        let mut draft = Tables::clone(&guard);
        change(&mut draft)?;
        *guard = Arc::new(draft);
        Ok(())
    }

    fn reset(&self) -> Result<(), RepoError> {
        *self.tables.write().unwrap_or_else(|p| p.into_inner()) = Arc::default();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_repository_passes_the_conformance_suite() {
        crate::db::conformance::metadefs::run(&|| Box::new(MemoryMetadefs::default()));
    }
}
