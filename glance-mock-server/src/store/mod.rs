//! Image bytes, kept per store the way `glance_store` keeps them: written
//! whole after a successful upload, removed with the image.

pub mod memory;

pub use memory::MemoryStore;
