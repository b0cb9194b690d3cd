//! The in-memory image table.

use std::collections::HashMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::domain::Image;

/// All image records, deleted ones included, behind one lock.
///
/// Every operation takes the lock for a short, synchronous critical section;
/// no lock is held across an `.await`, so uploads of one image never block
/// requests for another.
#[derive(Debug, Default)]
pub struct MemoryDb {
    images: RwLock<HashMap<String, Image>>,
}

impl MemoryDb {
    /// Read access to the table.
    pub fn read(&self) -> RwLockReadGuard<'_, HashMap<String, Image>> {
        self.images
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Write access to the table.
    pub fn write(&self) -> RwLockWriteGuard<'_, HashMap<String, Image>> {
        self.images
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
