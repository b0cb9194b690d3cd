//! python-glanceclient (the reference client, from PyPI) in a virtualenv,
//! installed the first time a test asks for it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::shared::skip;

/// The release compared with: the one the reference tables were read from.
pub const GLANCECLIENT_VERSION: &str = "4.13.0";

/// Its `glance` script, from a virtualenv under `tmp` (the calling test's
/// `CARGO_TARGET_TMPDIR`), or `None` after [`skip`] said why there is none
/// (no python3, no PyPI).
///
/// # Panics
/// Where it cannot be installed and `GLANCE_REQUIRE_SHARED` is set.
pub fn glanceclient_or_skip(tmp: &Path, test: &str) -> Option<PathBuf> {
    static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match INSTALLED.get_or_init(|| install(tmp)) {
        Ok(bin) => Some(bin.clone()),
        Err(why) => {
            skip(
                test,
                &format!("python-glanceclient {GLANCECLIENT_VERSION} is not installable: {why}"),
            );
            None
        }
    }
}

fn install(tmp: &Path) -> Result<PathBuf, String> {
    let venv = tmp.join(format!("python-glanceclient-{GLANCECLIENT_VERSION}"));
    let glance = venv.join("bin").join("glance");
    // Written last: a venv without it is an interrupted install, redone.
    let complete = venv.join("install-complete");
    if complete.exists() {
        return Ok(glance);
    }
    let _ = std::fs::remove_dir_all(&venv);
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin").join("pip")).args([
        "install",
        "-q",
        "--disable-pip-version-check",
        &format!("python-glanceclient=={GLANCECLIENT_VERSION}"),
    ]))?;
    std::fs::write(&complete, GLANCECLIENT_VERSION)
        .map_err(|e| format!("cannot mark the venv: {e}"))?;
    Ok(glance)
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ))
    }
}

/// Run python-glanceclient's `bin` against the image API at `url` with
/// `token` and no other `OS_*` settings from the environment.
///
/// Its stdin is closed: glanceclient takes any stdin that is not a
/// terminal, `/dev/null` included, as image data (an empty upload), where
/// the `glance` binary does not.
pub async fn run_glanceclient(
    bin: &Path,
    url: &str,
    token: &str,
    args: &[&str],
) -> std::process::Output {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.args(["-c", r#"exec "$0" "$@" <&-"#])
        .arg(bin)
        .args(["--os-image-url", url, "--os-auth-token", token])
        .args(args)
        .kill_on_drop(true);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("OS_")) {
        cmd.env_remove(k);
    }
    cmd.output().await.expect("python glance runs")
}
