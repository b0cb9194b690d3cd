//! Skipping a test that cannot run here, visibly, and `../shared` (the
//! team's reference material beside the checkout).
//!
//! A test that needs something this machine lacks (`../shared`, python3
//! and PyPI, a real server) calls [`skip`]: `SKIP <test>: <why>` goes to
//! the real stderr, not libtest's capture, so it shows in the output of a
//! passing run. With `GLANCE_REQUIRE_SHARED=1`, as `.ci/run` sets, a skip
//! is a failure instead: CI has all of it.

use std::io::Write;
use std::path::PathBuf;

/// `../shared` next to the workspace, if it exists.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()?
        .parent()?
        .join("shared");
    dir.is_dir().then_some(dir)
}

/// Whether a missing requirement must fail the test instead of skipping it.
pub fn required() -> bool {
    std::env::var("GLANCE_REQUIRE_SHARED").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Say that `test` skips and why; the caller then returns.
///
/// Written to the process's stderr directly (libtest captures only the
/// `print!` family), so the line is in the output whether the test passes
/// or fails.
///
/// # Panics
/// When [`required`]: a skip is then a failure.
pub fn skip(test: &str, why: &str) {
    assert!(
        !required(),
        "{test} cannot run ({why}) but GLANCE_REQUIRE_SHARED is set"
    );
    let _ = writeln!(std::io::stderr(), "SKIP {test}: {why}");
}

/// `../shared`, or `None` after [`skip`] said why the calling test skips.
///
/// # Panics
/// When `../shared` is missing and [`required`] says it must be there.
pub fn shared_or_skip(test: &str) -> Option<PathBuf> {
    let dir = shared_dir();
    if dir.is_none() {
        skip(test, "../shared is not beside this checkout");
    }
    dir
}
