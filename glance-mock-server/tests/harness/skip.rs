//! Visible skips: a test that cannot run says so in the test output, even
//! when it passes, and fails instead where CI requires what it lacks.

use std::io::Write;

/// Skip the calling test: writes `SKIP <test>: <reason>` to the process's
/// standard error (through `std::io::Write`, which libtest does not
/// capture, unlike `eprintln!`), so that a skip shows in `cargo test`'s
/// output even though the test passes. Panics instead when the
/// environment variable `required` (e.g. `GLANCE_REQUIRE_ROOT`, set by
/// `.ci/run`) is set: there the test must run.
pub fn skip(required: &str, reason: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_owned();
    assert!(
        std::env::var_os(required).is_none(),
        "{test}: {required} is set, but: {reason}"
    );
    let _ = writeln!(std::io::stderr(), "SKIP {test}: {reason}");
}
