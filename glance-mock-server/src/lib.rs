//! An in-memory OpenStack Image service (Glance) API v2 server that answers
//! as real Glance 33 does, for tests that need a realistic Glance without a
//! cloud.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let server = glance_mock_server::MockServer::start().await?;
//! println!("Glance at {}", server.url());
//! // ... point a client at server.url(), with any X-Auth-Token ...
//! drop(server); // stops it
//! # Ok(()) }
//! ```
//!
//! Identity is taken as Glance behind keystone-middleware sees it: with
//! `X-Identity-Status: Confirmed` the `X-Project-Id`, `X-User-Id` and
//! `X-Roles` headers say who calls; otherwise any `X-Auth-Token` acts as
//! user `admin` in project `admin` with roles admin, member and reader.
//! A Keystone v3 shim under `/identity` issues tokens that act as their
//! user and project instead (see [`keystone`]).
//!
//! Tests can inspect, reset, seed and break the server through its control
//! plane under `/_mock`, or the same methods on [`MockServer`]: state dumps
//! and seeds, a request journal, fault rules (error answers, latency,
//! dropped connections, short or corrupted bodies) and manual task steps
//! (see [`control`]).

pub mod api;
pub mod app;
pub mod config;
pub mod control;
pub mod db;
pub mod domain;
pub mod keystone;
pub mod queue;
pub mod registry;
mod server;
pub mod state;
pub mod store;
pub mod worker;

pub use config::{
    Config, ConnectionConfig, ImportFiltering, StoreConfig, TaskConfig, TaskProgression,
};
pub use keystone::IdentityConfig;
pub use server::{MockServer, MockServerBuilder, router, service};
