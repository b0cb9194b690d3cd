//! The in-memory image table.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, RwLock};

use super::{Change, ImageRepository};
use crate::domain::{Fault, Image, ImageStatus};

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

fn is_live(img: &Image) -> bool {
    img.status != ImageStatus::Deleted
}

impl ImageRepository for MemoryDb {
    fn create(&self, image: Image) -> Result<Arc<Image>, Fault> {
        let mut db = self.write();
        if db.contains_key(&image.id) {
            return Err(Fault::Conflict(format!(
                "Image ID {} already exists!",
                image.id
            )));
        }
        let image = Arc::new(image);
        db.insert(image.id.clone(), image.clone());
        Ok(image)
    }

    fn get(&self, id: &str, force_show_deleted: bool) -> Option<Arc<Image>> {
        self.read()
            .get(id)
            .filter(|i| force_show_deleted || is_live(i))
            .cloned()
    }

    fn update(&self, id: &str, change: Change<'_>) -> Option<Result<Arc<Image>, Fault>> {
        let mut db = self.write();
        let slot = db.get_mut(id).filter(|i| is_live(i))?;
        let mut draft = Image::clone(slot);
        Some(change(&mut draft).map(|()| {
            *slot = Arc::new(draft);
            slot.clone()
        }))
    }

    fn generation(&self) -> u64 {
        self.generation.load(AtomicOrdering::SeqCst)
    }

    fn all(&self) -> Vec<Arc<Image>> {
        self.read()
            .values()
            .filter(|i| is_live(i))
            .cloned()
            .collect()
    }

    fn all_with_deleted(&self) -> Vec<Arc<Image>> {
        self.read().values().cloned().collect()
    }

    fn reset(&self) {
        self.write().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::now;

    #[test]
    fn deleted_ids_stay_taken_and_hidden() {
        let db = MemoryDb::default();
        db.create(Image::new("a".into(), None, now()))
            .expect("created");
        db.update("a", &mut |i| {
            i.status = ImageStatus::Deleted;
            Ok(())
        })
        .expect("live")
        .expect("changed");
        assert!(db.get("a", false).is_none());
        assert!(db.get("a", true).is_some());
        assert!(db.update("a", &mut |_| Ok(())).is_none());
        assert!(matches!(
            db.create(Image::new("a".into(), None, now())),
            Err(Fault::Conflict(_))
        ));
        assert!(db.all().is_empty());
    }

    #[test]
    fn failed_change_leaves_the_record() {
        let db = MemoryDb::default();
        db.create(Image::new("a".into(), None, now()))
            .expect("created");
        let r = db
            .update("a", &mut |i| {
                i.name = Some("changed".into());
                Err(Fault::Conflict("no".into()))
            })
            .expect("live");
        assert!(r.is_err());
        assert_eq!(db.get("a", false).expect("there").name, None);
    }
}
