//! A port of the conformance checker `glance-conformance` (Python): it replays
//! HTTP scenarios against an Image API v2 server and compares the normalised
//! transcript with the one the reference (OpenStack Glance 33) produced.
//!
//! The scenarios and the reference transcripts live in
//! `tests/conformance/{scenarios,expected}` ([`data_dir`]); they are copies of
//! the shared ones, so the tests run on a fresh clone. The project's own
//! scenarios, recorded the same way from the same reference deployment, live
//! apart in `tests/conformance/own/{scenarios,expected}` ([`own_data_dir`]),
//! so that the copies stay equal to `../shared`.
//!
//! Semantics follow the Python tool exactly:
//! - each step is sent as `http.client` sends it (one connection per request,
//!   no `Accept` unless the scenario asks, no redirects, no compression), with
//!   keystone-middleware identity headers ([`IDENTITIES`]) whose project and
//!   user ids are prefixed by the scenario name;
//! - the transcript keeps the status, the [`KEPT_HEADERS`] and a description
//!   of the body, with ids (`<uuid:N>`), times, request ids, the scenario
//!   prefix and the base URL replaced by placeholders ([`Normaliser`]);
//! - [`compare`] compares error bodies by title and treats a differing error
//!   message as a note unless `strict`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), glance_e2e_tests::conformance::Error> {
//! use glance_e2e_tests::conformance;
//! let outcome = conformance::check("http://127.0.0.1:9292", "versions", false).await?;
//! println!("{}", outcome.report("versions"));
//! # Ok(()) }
//! ```

mod compare;
mod http;
mod json;
mod normalise;
mod run;
mod scenario;
mod serve;

use std::fmt;
use std::path::{Path, PathBuf};

pub use compare::{Outcome, Step, Transcript, body_diff, compare};
pub use json::{OrderedJson, py_eq};
pub use normalise::{Normaliser, describe_body};
pub use run::{det_bytes, run_scenario};
pub use scenario::{Data, RequestBody, Scenario, ScenarioStep, Wait};
pub use serve::{FileServer, serve_dir};

/// The identities a step can act as (`as`): name, `X-Roles`, project and
/// user (both sent prefixed by `SCENARIO-`). `anon` sends no identity headers.
pub const IDENTITIES: &[(&str, &str, &str, &str)] = &[
    (
        "admin",
        "admin,member,reader",
        "admin-project",
        "admin-user",
    ),
    ("alice", "member,reader", "alice-project", "alice"),
    ("alice-reader", "reader", "alice-project", "alice-reader"),
    ("bob", "member,reader", "bob-project", "bob"),
    ("carol", "member,reader", "carol-project", "carol"),
];

/// The response headers a transcript keeps (lowercase), in this order.
pub const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "location",
    "content-md5",
    "content-length",
    "content-range",
    "openstack-image-import-methods",
    "openstack-image-store-ids",
    "allow",
];

/// Why a scenario could not be loaded or run.
#[derive(Debug)]
pub enum Error {
    /// A file or network operation failed (what was being done, the cause).
    Io(String, std::io::Error),
    /// A file is not valid JSON of the expected shape (which file, the cause).
    Json(String, serde_json::Error),
    /// A scenario is malformed or uses a variable no earlier step saved.
    Scenario(String),
    /// The server's answer is not valid HTTP, or the target URL is unusable.
    Http(String),
}

impl Error {
    /// The same error with `what` put in front of its description.
    pub fn context(self, what: &str) -> Self {
        match self {
            Error::Io(m, e) => Error::Io(format!("{what}: {m}"), e),
            Error::Json(m, e) => Error::Json(format!("{what}: {m}"), e),
            Error::Scenario(m) => Error::Scenario(format!("{what}: {m}")),
            Error::Http(m) => Error::Http(format!("{what}: {m}")),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(m, e) => write!(f, "{m}: {e}"),
            Error::Json(m, e) => write!(f, "{m}: {e}"),
            Error::Scenario(m) => write!(f, "scenario error: {m}"),
            Error::Http(m) => write!(f, "HTTP error: {m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(_, e) => Some(e),
            Error::Json(_, e) => Some(e),
            Error::Scenario(_) | Error::Http(_) => None,
        }
    }
}

/// `tests/conformance`: holds `scenarios/` and `expected/`.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

/// `tests/conformance/own`: the project's own scenarios (`scenarios/`) and
/// their transcripts (`expected/`), recorded from the reference with
/// `glance-conformance record --scenarios ... --expected ...`.
pub fn own_data_dir() -> PathBuf {
    data_dir().join("own")
}

/// `tests/conformance/scenarios`.
pub fn scenarios_dir() -> PathBuf {
    data_dir().join("scenarios")
}

/// `tests/conformance/expected`.
pub fn expected_dir() -> PathBuf {
    data_dir().join("expected")
}

/// The names (file names without `.json`) of the scenarios in `dir`, sorted.
pub fn scenario_names(dir: &Path) -> Result<Vec<String>, Error> {
    let io = |e| Error::Io(format!("listing {}", dir.display()), e);
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let file = entry.map_err(io)?.file_name();
        if let Some(name) = file.to_str().and_then(|f| f.strip_suffix(".json")) {
            names.push(name.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// Every scenario in `dir`, as `(name, scenario)` sorted by name.
pub fn load_scenarios(dir: &Path) -> Result<Vec<(String, Scenario)>, Error> {
    scenario_names(dir)?
        .into_iter()
        .map(|name| {
            let scenario = Scenario::load(&dir.join(format!("{name}.json")))?;
            Ok((name, scenario))
        })
        .collect()
}

/// The recorded transcript `dir/NAME.json`.
pub fn load_expected(dir: &Path, name: &str) -> Result<Transcript, Error> {
    let path = dir.join(format!("{name}.json"));
    let data =
        std::fs::read(&path).map_err(|e| Error::Io(format!("reading {}", path.display()), e))?;
    serde_json::from_slice(&data).map_err(|e| Error::Json(path.display().to_string(), e))
}

/// Runs the scenario `name` of [`scenarios_dir`] against `base_url` and
/// compares its transcript with the one in [`expected_dir`].
pub async fn check(base_url: &str, name: &str, strict: bool) -> Result<Outcome, Error> {
    check_in(&data_dir(), base_url, name, strict).await
}

/// [`check`] for the scenario `name` of `data` (a directory holding
/// `scenarios/` and `expected/`, such as [`own_data_dir`]).
pub async fn check_in(
    data: &Path,
    base_url: &str,
    name: &str,
    strict: bool,
) -> Result<Outcome, Error> {
    let scenario = Scenario::load(&data.join("scenarios").join(format!("{name}.json")))?;
    let expected = load_expected(&data.join("expected"), name)?;
    let actual = run_scenario(base_url, name, &scenario).await?;
    Ok(compare(&expected, &actual, strict))
}
