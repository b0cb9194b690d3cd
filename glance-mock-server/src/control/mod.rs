//! The control plane: what a test can do to the mock that no real Glance
//! allows. It lives under the reserved prefix `/_mock`, outside Glance's
//! request pipeline, and the same operations are typed methods on
//! [`crate::MockServer`].
//!
//! Who may use it over HTTP: anyone, by default (no token needed). With
//! [`crate::Config::require_auth`], every `/_mock` route but
//! `GET /_mock/health` wants an `X-Auth-Token` the Keystone shim issued
//! carrying the `admin` role (401 without a valid one, 403 without the
//! role). With [`crate::Config::control_plane`] off there are no `/_mock`
//! routes (they answer as any unknown path) and no fault or journal layer;
//! the `MockServer` methods work either way.
//!
//! | request | `MockServer` | what it does |
//! | --- | --- | --- |
//! | `GET /_mock/health` | | `{"status": "ok", ...}` with a few counts |
//! | `POST /_mock/reset` | `reset` | back to a fresh start ([`crate::app::control::reset`]) |
//! | `GET /_mock/state[?data=inline]` | `dump_state` | the state as JSON ([`dump::StateDump`]) |
//! | `POST /_mock/state` | `load_state` | replace the state by a dump (seeding) |
//! | `GET`/`DELETE /_mock/requests` | `requests`/`clear_requests` | the request journal ([`journal`]) |
//! | `GET`/`POST`/`DELETE /_mock/faults` | `faults`/`add_fault`/`clear_faults` | fault rules ([`faults`]) |
//! | `DELETE /_mock/faults/{id}` | `remove_fault` | remove one rule |
//! | `PUT`/`GET`/`DELETE /_mock/files/{name}`, `GET /_mock/files` | `put_file`/`file`/`remove_file`/`files` | files served for web-download ([`files`]) |
//! | `POST /_mock/tasks/{id}/advance` | `advance_task` | manual progression: one step of one task |
//! | `POST /_mock/tasks/advance`, `/finish` | `advance_tasks`, `finish_tasks` | the same for every waiting task |
//!
//! Every other request passes [`crate::api::control::intercept`] first: a fault rule may
//! act on it, and the journal records it. Requests to `/_mock` are neither
//! faulted nor journaled.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use glance_mock_server::MockServer;
//! use glance_mock_server::control::{FaultAction, FaultRule};
//!
//! let server = MockServer::start().await?;
//! // The next GET of an image list fails once with 503 and Retry-After.
//! let rule = FaultRule::new(FaultAction::Respond {
//!     status: 503,
//!     headers: [("Retry-After".to_owned(), "1".to_owned())].into(),
//!     body: None,
//! })
//! .method("GET")
//! .path("/v2/images")
//! .count(1);
//! server.add_fault(rule).expect("a valid rule");
//! // ... run the client ...
//! for entry in server.requests() {
//!     println!("{} {} -> {}", entry.method, entry.path, entry.status);
//! }
//! # Ok(()) }
//! ```

pub mod dump;
pub mod faults;
pub mod files;
pub mod journal;

pub use dump::{DataMode, STAGING_STORE, Seed, SeedData, SeedError, StateDump, StoredData};
pub use faults::{FaultAction, FaultMatch, FaultRule, InstalledFault, InvalidFault};
pub use journal::{JOURNAL_CAPACITY, JournalEntry};

/// The control plane's own state: fault rules and the journal.
#[derive(Debug, Default)]
pub struct Control {
    /// Installed fault rules.
    pub faults: faults::Faults,
    /// Requests seen.
    pub journal: journal::Journal,
    /// Files served under `/_mock/files/` (a source for web-download).
    pub files: std::sync::Arc<files::ServedFiles>,
}

impl Control {
    /// No rules and an empty journal; `allow_identity_faults`
    /// ([`crate::Config::allow_identity_faults`]) lets rules target and act
    /// on `/identity` (see [`faults`]).
    pub fn new(allow_identity_faults: bool) -> Self {
        Control {
            faults: faults::Faults::new(allow_identity_faults),
            journal: journal::Journal::default(),
            files: Default::default(),
        }
    }
}
