//! Image records, kept the way `glance.db` keeps them: deleted rows stay
//! (so their ids can never be reused) but are invisible to every read.

pub mod memory;

pub use memory::MemoryDb;
