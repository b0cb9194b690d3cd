//! python-glanceclient 4.13, the client users would pick instead: its venv
//! (made when missing) and the scripts timed against ours.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Result, bail};

use super::Env;

const VERSION: &str = "4.13.0";

/// The venv's python, installing python-glanceclient first when missing.
/// The same venv as the e2e tests (`target/tmp/python-glanceclient-4.13.0`).
pub fn python(env: &Env) -> Result<PathBuf> {
    let venv = env.work_dir.join(format!("python-glanceclient-{VERSION}"));
    let python = venv.join("bin").join("python");
    // Written last: a venv without it is an interrupted install, redone.
    if venv.join("install-complete").exists() {
        return Ok(python);
    }
    eprintln!(
        "installing python-glanceclient {VERSION} into {}",
        venv.display()
    );
    let _ = std::fs::remove_dir_all(&venv);
    let ok = |c: &mut Command| -> Result<()> {
        let st = c.status()?;
        if !st.success() {
            bail!("{c:?} failed: {st}");
        }
        Ok(())
    };
    ok(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    ok(Command::new(venv.join("bin").join("pip")).args([
        "install",
        "-q",
        "--disable-pip-version-check",
        &format!("python-glanceclient=={VERSION}"),
    ]))?;
    std::fs::write(venv.join("install-complete"), VERSION)?;
    Ok(python)
}

/// `images.data()` with its validation on (the default `do_checksum`),
/// every chunk consumed. Prints secs, bytes, peak RSS.
pub const DOWNLOAD: &str = r#"
import json, resource, sys, time
from glanceclient import Client
url, image_id = sys.argv[1], sys.argv[2]
c = Client('2', endpoint=url, token='bench')
t = time.perf_counter()
n = 0
for chunk in c.images.data(image_id):
    n += len(chunk)
secs = time.perf_counter() - t
print(json.dumps({"secs": secs, "bytes": n,
                  "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"#;

/// `images.upload()` from a file. Prints secs, bytes, peak RSS.
pub const UPLOAD: &str = r#"
import json, os, resource, sys, time
from glanceclient import Client
url, image_id, path = sys.argv[1], sys.argv[2], sys.argv[3]
c = Client('2', endpoint=url, token='bench')
size = os.path.getsize(path)
t = time.perf_counter()
with open(path, 'rb') as f:
    c.images.upload(image_id, f, image_size=size)
secs = time.perf_counter() - t
print(json.dumps({"secs": secs, "bytes": size,
                  "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"#;

/// hashlib (OpenSSL) speed over 1 MiB chunks: MiB/s of sha512 and md5.
pub const HASHLIB: &str = r#"
import hashlib, json, os, sys, time
mib = int(sys.argv[1])
block = os.urandom(1 << 20)
out = {}
for algo in ("sha512", "md5"):
    h = hashlib.new(algo)
    t = time.perf_counter()
    for _ in range(mib):
        h.update(block)
    h.hexdigest()
    out[algo] = mib / (time.perf_counter() - t)
print(json.dumps(out))
"#;

/// The venv's `glance` command (python-glanceclient's shell).
pub fn cli(python: &std::path::Path) -> PathBuf {
    python.with_file_name("glance")
}

/// `python -c SCRIPT ARGS...`.
pub fn command(python: &PathBuf, script: &str, args: &[&str]) -> Command {
    let mut c = Command::new(python);
    c.arg("-c").arg(script).args(args);
    c
}
