//! python-glanceclient 4.13 (the reference client, from PyPI) works unchanged
//! against the mock server.
//!
//! The client is installed into a virtualenv under the target directory the
//! first time. Where python3 or PyPI is not available the test skips with a
//! printed reason; with `GLANCE_REQUIRE_SHARED=1` (as in `.ci/run`) that is a
//! failure instead.

use std::path::{Path, PathBuf};
use std::process::Output;

use glance_e2e_tests::shared::required;
use glance_mock_server::MockServer;

const VERSION: &str = "4.13.0";

/// A virtualenv holding python-glanceclient, or why there is none.
fn glanceclient() -> Result<PathBuf, String> {
    let venv =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("python-glanceclient-{VERSION}"));
    let glance = venv.join("bin").join("glance");
    // Written last: a venv without it is an interrupted install, redone.
    let complete = venv.join("install-complete");
    if complete.exists() {
        return Ok(glance);
    }
    let run = |cmd: &mut std::process::Command| -> Result<(), String> {
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
    };
    let _ = std::fs::remove_dir_all(&venv);
    run(std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv))?;
    run(
        std::process::Command::new(venv.join("bin").join("pip")).args([
            "install",
            "-q",
            "--disable-pip-version-check",
            &format!("python-glanceclient=={VERSION}"),
        ]),
    )?;
    std::fs::write(&complete, VERSION).map_err(|e| format!("cannot mark the venv: {e}"))?;
    Ok(glance)
}

async fn glance(bin: &Path, server: &MockServer, args: &[&str]) -> Output {
    tokio::process::Command::new(bin)
        .args(["--os-image-url", &server.url(), "--os-auth-token", "t"])
        .args(args)
        .env_remove("OS_AUTH_URL")
        .env_remove("OS_CLOUD")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("python glance runs")
}

fn ok(out: &Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "glance {what} failed ({}):\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The value of `property` in a Property/Value table.
fn table_value(table: &str, property: &str) -> Option<String> {
    table.lines().find_map(|line| {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        (cells.len() >= 3 && cells[1] == property).then(|| cells[2].to_owned())
    })
}

#[tokio::test]
async fn python_glanceclient_works_against_the_mock() {
    let bin = match glanceclient() {
        Ok(bin) => bin,
        Err(why) if !required() => {
            eprintln!("SKIP python_glanceclient_works_against_the_mock: {why}");
            return;
        }
        Err(why) => panic!("python-glanceclient {VERSION} is required here: {why}"),
    };
    let server = MockServer::start().await.expect("mock starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("disk.raw");
    let payload: Vec<u8> = (0..1_500_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&src, &payload).expect("written");
    let src_arg = src.to_str().expect("utf-8 path");

    let created = ok(
        &glance(
            &bin,
            &server,
            &[
                "image-create",
                "--name",
                "x",
                "--disk-format",
                "raw",
                "--container-format",
                "bare",
                "--file",
                src_arg,
            ],
        )
        .await,
        "image-create",
    );
    let id = table_value(&created, "id").expect("image-create shows the id");
    assert_eq!(table_value(&created, "status").as_deref(), Some("active"));
    assert_eq!(
        table_value(&created, "size"),
        Some(payload.len().to_string())
    );

    let listed = ok(&glance(&bin, &server, &["image-list"]).await, "image-list");
    assert!(listed.contains(&id), "{listed}");

    let shown = ok(
        &glance(&bin, &server, &["image-show", &id]).await,
        "image-show",
    );
    assert_eq!(table_value(&shown, "name").as_deref(), Some("x"));

    let updated = ok(
        &glance(&bin, &server, &["image-update", &id, "--property", "k=v"]).await,
        "image-update",
    );
    assert_eq!(table_value(&updated, "k").as_deref(), Some("v"));

    let tagged = ok(
        &glance(&bin, &server, &["image-tag-update", &id, "golden"]).await,
        "image-tag-update",
    );
    assert!(tagged.contains("golden"), "{tagged}");

    let out = dir.path().join("out.raw");
    ok(
        &glance(
            &bin,
            &server,
            &[
                "image-download",
                &id,
                "--file",
                out.to_str().expect("utf-8 path"),
            ],
        )
        .await,
        "image-download",
    );
    assert_eq!(std::fs::read(&out).expect("downloaded"), payload);

    let member = ok(
        &glance(&bin, &server, &["member-create", &id, "other-project"]).await,
        "member-create",
    );
    assert!(
        member.contains("other-project") && member.contains("pending"),
        "{member}"
    );

    ok(
        &glance(&bin, &server, &["image-delete", &id]).await,
        "image-delete",
    );
    let gone = glance(&bin, &server, &["image-show", &id]).await;
    assert!(!gone.status.success(), "the image is gone");
}
