//! The in-memory image table.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, RwLock};

use super::error::{RepoError, Row};
use super::images::ImageRepository;
use crate::domain::{Image, ImageStatus, Revision};

/// All image records, deleted ones included, behind one lock.
///
/// Records are `Arc`s changed copy-on-write, so readers take a snapshot
/// cheaply and never hold the lock while they work; no lock is held across
/// an `.await`.
#[derive(Debug, Default)]
pub struct MemoryDb {
    images: RwLock<HashMap<String, Arc<Image>>>,
    /// Bumped whenever the write lock is taken (see
    /// [`ImageRepository::generation`]).
    generation: AtomicU64,
}

impl MemoryDb {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Image>>> {
        self.images.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<Image>>> {
        let guard = self.images.write().unwrap_or_else(|p| p.into_inner());
        // Under the lock: a reader that sees the new generation reads the
        // records after this writer is done.
        self.generation.fetch_add(1, AtomicOrdering::SeqCst);
        guard
    }
}

impl MemoryDb {
    /// Put back `image` as it was stored, at its revision (a backend
    /// loading its records into this table, which it reads from). Replaces
    /// a record of the same id.
    pub fn restore(&self, image: Image) {
        self.write().insert(image.id.clone(), Arc::new(image));
    }

    /// Forget every record ([`ImageRepository::reset`], which cannot
    /// fail in memory).
    pub fn clear(&self) {
        self.write().clear();
    }
}

fn is_live(img: &Image) -> bool {
    img.status != ImageStatus::Deleted
}

impl ImageRepository for MemoryDb {
    fn image_create(&self, mut image: Image) -> Result<Arc<Image>, RepoError> {
        let mut db = self.write();
        if db.contains_key(&image.id) {
            return Err(RepoError::duplicate(Row::Image, image.id));
        }
        image.revision = Revision::new(1);
        let image = Arc::new(image);
        db.insert(image.id.clone(), image.clone());
        Ok(image)
    }

    fn image_get(&self, id: &str, force_show_deleted: bool) -> Result<Arc<Image>, RepoError> {
        self.read()
            .get(id)
            .filter(|i| force_show_deleted || is_live(i))
            .cloned()
            .ok_or_else(|| RepoError::not_found(Row::Image, id))
    }

    fn image_scan(&self, with_deleted: bool) -> Result<Vec<Arc<Image>>, RepoError> {
        Ok(self
            .read()
            .values()
            .filter(|i| with_deleted || is_live(i))
            .cloned()
            .collect())
    }

    fn image_write(&self, mut new: Image) -> Result<Arc<Image>, RepoError> {
        let mut db = self.write();
        let slot = db
            .get_mut(&new.id)
            .filter(|i| is_live(i))
            .ok_or_else(|| RepoError::not_found(Row::Image, new.id.clone()))?;
        if slot.revision.get() != new.revision.get() {
            return Err(RepoError::Changed {
                row: Row::Image,
                id: new.id,
                read: new.revision.get(),
            });
        }
        new.revision = new.revision.next();
        *slot = Arc::new(new);
        Ok(slot.clone())
    }

    fn generation(&self) -> Result<u64, RepoError> {
        Ok(self.generation.load(AtomicOrdering::SeqCst))
    }

    fn reset(&self) -> Result<(), RepoError> {
        self.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_repository_passes_the_conformance_suite() {
        crate::db::conformance::images::run(&|| Box::new(MemoryDb::default()));
    }
}
