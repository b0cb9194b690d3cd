//! The registry driver (`glance.db.registry.api`): API nodes that hold no
//! database and ask a registry node for every repository call.
//!
//! # The wire
//!
//! Glance's registry RPC, in its shape: one `POST /rpc` whose JSON body is
//! a list of calls, each `{"command": NAME, "kwargs": {…}}`, answered
//! `200` with a list holding each call's result in the same order. A
//! call that fails has `{"_error": {"cls": CLASS, "val": MESSAGE, "error":
//! {"kind": …, "detail": …}}}` in its place: Glance's exception class and
//! message, and the typed [`RepoError`](crate::db::RepoError) so that the
//! node answers exactly what it would answer with its own database (not
//! found, conflict, forbidden, a bad query). A body that is not such a list,
//! or names a command the registry does not know, is a `400`. The commands
//! are [`wire::Command`]; records travel with their revision
//! ([`wire::Stored`]), which every guarded write checks at the registry.
//!
//! # The ends
//!
//! [`client`] implements the repository traits and the Keystone shim's
//! journal over the wire (what an API node started with `--registry URL`
//! uses); the registry node that answers is [`crate::registry`]. When the
//! registry cannot be reached a call fails with
//! [`RepoError::Unavailable`](crate::db::RepoError::Unavailable), which the
//! API answers with a Glance-shaped 503; the next call tries again.

pub mod client;
pub mod wire;

pub use client::{RegistryJournal, connect};
