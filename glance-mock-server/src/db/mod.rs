//! The repositories: Glance's DB API (`glance.db`, the seed's "Glance
//! Database Public API"), one trait per area, behind one handle,
//! [`Repositories`]:
//!
//! - [`ImageRepository`] ([`images`]): image records with their
//!   properties, locations, members and tags;
//! - [`TaskRepository`] ([`tasks`]): task records;
//! - [`MetadefRepository`] ([`metadefs`]): the metadata definition tables;
//! - [`ImageCache`] ([`cache`]): the image cache's rows.
//!
//! Deleted rows stay, so their ids can never be reused, but no read shows
//! them unless asked to (`force_show_deleted`). Every write is atomic: it
//! is checked against what the caller read (Glance's `from_state`, and
//! the record's revision) and a write that fails leaves nothing behind.
//! Failures are [`RepoError`]s; the use cases turn them into Glance's
//! answers. [`memory`] holds the in-memory implementations, the default;
//! [`sqlite`] the durable ones on an SQLite file (`--data-dir`), which
//! keep every record in memory too and write through; `conformance`
//! (tests) the rules every implementation must pass, run against both.

pub mod cache;
#[cfg(test)]
pub(crate) mod conformance;
pub mod error;
pub mod images;
pub mod memory;
pub mod metadefs;
pub mod registry;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod tasks;

pub use cache::{CachedImage, ImageCache};
pub use error::{RepoError, Row};
pub use images::{ImagePage, ImageRepository, ImageUpdate};
pub use memory::MemoryDb;
pub use metadefs::{MemoryMetadefs, MetadefRepository};
pub use tasks::{MemoryTaskDb, TaskRepository};

/// The repositories the use cases reach, one per area: where a backend is
/// chosen (the in-memory ones by default).
#[derive(Debug)]
pub struct Repositories {
    /// Image records with their properties, locations, members and tags.
    pub images: Box<dyn ImageRepository>,
    /// Task records.
    pub tasks: Box<dyn TaskRepository>,
    /// The metadata definition tables.
    pub metadefs: Box<dyn MetadefRepository>,
}

impl Repositories {
    /// Empty in-memory repositories.
    pub fn memory() -> Self {
        Repositories {
            images: Box::new(MemoryDb::default()),
            tasks: Box::new(MemoryTaskDb::default()),
            metadefs: Box::new(MemoryMetadefs::default()),
        }
    }
}

impl Default for Repositories {
    fn default() -> Self {
        Repositories::memory()
    }
}
