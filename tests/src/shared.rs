//! Finding `../shared` (the team's reference material beside the checkout).
//!
//! Tests that need it skip with a printed reason where it is missing (a
//! fresh clone elsewhere); with `GLANCE_REQUIRE_SHARED=1`, as `.ci/run`
//! sets, a missing `../shared` is a failure instead.

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

/// `../shared`, or `None` after printing why the calling test skips.
///
/// # Panics
/// When `../shared` is missing and [`required`] says it must be there.
pub fn shared_or_skip(test: &str) -> Option<PathBuf> {
    match shared_dir() {
        Some(dir) => Some(dir),
        None if required() => {
            panic!("{test}: ../shared is missing but GLANCE_REQUIRE_SHARED is set")
        }
        None => {
            eprintln!("SKIP {test}: ../shared is not beside this checkout");
            None
        }
    }
}
