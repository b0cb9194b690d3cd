//! The application layer: each use case of the Image API (and of the
//! control plane) as one function that owns its steps across the policy,
//! the repositories and the stores, in the order Glance's controllers take
//! them. Handlers in [`crate::api`] parse a request, call one of these and
//! render what it returns; the task worker ([`crate::worker`]) calls the
//! same functions. Nothing here knows HTTP.
//!
//! Use cases take the [`AppState`](crate::state::AppState) and the caller's
//! [`Identity`](crate::domain::Identity), and fail with
//! [`Fault`](crate::domain::Fault) (Glance's ordinary refusals) or, where a
//! failure needs more than that to be answered as Glance answers it, an
//! error type of their own.

pub mod cache;
pub mod control;
pub mod data;
pub mod files;
pub mod images;
pub mod import;
pub mod info;
pub mod ingest;
pub mod locations;
pub mod members;
pub mod metadefs;
pub mod records;
pub mod recovery;
pub mod staging;
pub mod tags;
pub mod tasks;
