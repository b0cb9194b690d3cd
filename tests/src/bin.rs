//! Finding the workspace's `glance` binary for CLI tests.

use std::path::PathBuf;
use std::sync::OnceLock;

/// The `glance` binary of this workspace (`target/<profile>/glance`),
/// brought up to date once per test process.
///
/// `cargo test --workspace` builds it already (glance-cli has integration
/// tests); when only this crate is tested it may be missing or stale, so
/// `cargo build` runs once (a quick no-op when it is fresh).
///
/// # Panics
/// When the build fails or the binary cannot be found.
pub fn glance_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "glance-cli", "--bin", "glance"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building glance failed");
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/<test>-<hash> -> target/<profile>/glance
        let bin = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target directory")
            .join(format!("glance{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.exists(), "{} not found", bin.display());
        bin
    })
    .clone()
}
