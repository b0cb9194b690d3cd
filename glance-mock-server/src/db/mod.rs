//! Image records with the semantics of Glance's DB API (`glance.db`):
//! deleted rows stay, so their ids can never be reused, but no read shows
//! them unless asked to (`force_show_deleted`); updates are atomic
//! read-modify-write steps, so a check of the current state (Glance's
//! `from_state`) and the change it guards cannot interleave with another
//! request.

pub mod cache;
pub mod memory;
pub mod metadefs;
pub mod tasks;

use std::fmt::Debug;
use std::sync::Arc;

pub use cache::{CachedImage, ImageCache};
pub use memory::MemoryDb;
pub use metadefs::{MemoryMetadefs, MetadefRepository};
pub use tasks::{MemoryTaskDb, TaskRepository};

use crate::domain::{Fault, Image};

/// A change applied to one image under the repository's lock; returning an
/// error leaves the record untouched.
pub type Change<'a> = &'a mut dyn FnMut(&mut Image) -> Result<(), Fault>;

/// Where image records live.
pub trait ImageRepository: Debug + Send + Sync {
    /// `image_create`: store a new record; 409 if the id was ever used.
    fn create(&self, image: Image) -> Result<Arc<Image>, Fault>;

    /// `image_get`: the record, `None` if missing, or deleted unless
    /// `force_show_deleted`.
    fn get(&self, id: &str, force_show_deleted: bool) -> Option<Arc<Image>>;

    /// `image_update`: apply `change` atomically to a live (not deleted)
    /// record and stamp nothing itself (the change sets `updated_at` when
    /// Glance would). `None` if there is no live record with that id.
    fn update(&self, id: &str, change: Change<'_>) -> Option<Result<Arc<Image>, Fault>>;

    /// A number that changes whenever any record may have: what was read
    /// at one generation (a rendered list page) holds until it moves on.
    fn generation(&self) -> u64;

    /// `image_get_all` without filters: every live record (filters, sorting
    /// and paging are the domain's, in [`crate::domain::list`]).
    fn all(&self) -> Vec<Arc<Image>>;

    /// Every record, deleted rows included (what the control plane dumps).
    fn all_with_deleted(&self) -> Vec<Arc<Image>>;

    /// Forget everything, deleted rows included.
    fn reset(&self);
}
