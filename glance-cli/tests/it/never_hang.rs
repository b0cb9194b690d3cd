//! Issue 21 through the `glance` binary: a stalled or endless download
//! ends within a bound with a message that says what happened, a signal
//! leaves no temporary file, a directory target is refused before the
//! download, an unverifiable image is warned about, and a failed download
//! to stdout says how much was written.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use glance_e2e_tests::fixture::{data, entries, file_rule};
use glance_mock_server::MockServer;
use glance_mock_server::control::{FaultAction, FaultRule};

use crate::harness::{glance, glance_cmd, image_of};

#[tokio::test]
async fn a_download_stalling_on_every_attempt_exits_within_60_s_saying_it_stalled() {
    let server = MockServer::start().await.expect("mock starts");
    let id = image_of(&server, &data(1000, 1)).await;
    server
        .add_fault(file_rule(FaultAction::Stall { bytes: 100 }))
        .expect("valid rule");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(60),
        glance(
            &server,
            &[
                "--timeout",
                "3",
                "image-download",
                &id,
                "--file",
                out.to_str().expect("utf-8"),
            ],
        ),
    )
    .await
    .expect("exits within 60 s");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    assert!(stderr.contains("stalled"), "{stderr}");
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
    println!(
        "stalled download: exit after {:.1} s: {stderr}",
        took.as_secs_f64()
    );
}

#[tokio::test]
async fn an_endless_body_exits_within_30_s_leaving_nothing() {
    let server = MockServer::start().await.expect("mock starts");
    let id = image_of(&server, &data(1000, 2)).await;
    server
        .add_fault(file_rule(FaultAction::Endless))
        .expect("valid rule");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        glance(
            &server,
            &[
                "image-download",
                &id,
                "--file",
                out.to_str().expect("utf-8"),
            ],
        ),
    )
    .await
    .expect("exits within 30 s");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    assert!(stderr.contains("longer than the image"), "{stderr}");
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
    // To stdout: no more than the image's 1000 bytes.
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        glance(&server, &["image-download", &id]),
    )
    .await
    .expect("exits within 30 s");
    assert!(!result.status.success());
    assert!(result.stdout.len() <= 1000, "{}", result.stdout.len());
    println!(
        "endless body: exit after {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_and_sighup_during_a_download_leave_no_temporary_file() {
    let server = MockServer::start().await.expect("mock starts");
    let id = image_of(&server, &data(1000, 3)).await;
    // The download starts, writes its first bytes and hangs there.
    server
        .add_fault(file_rule(FaultAction::Stall { bytes: 100 }))
        .expect("valid rule");
    for (signal, code) in [("TERM", 143), ("HUP", 129), ("INT", 130)] {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("out");
        let mut child = glance_cmd(
            &server,
            &[
                "--timeout",
                "60",
                "image-download",
                &id,
                "--file",
                out.to_str().expect("utf-8"),
            ],
        )
        .spawn()
        .expect("spawns");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !entries(dir.path())
            .iter()
            .any(|n| n.starts_with(".glance-download-"))
        {
            assert!(Instant::now() < deadline, "no temporary file appeared");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let pid = child.id().expect("running").to_string();
        let killed = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .expect("exits")
            .expect("waited");
        assert_eq!(status.code(), Some(code), "SIG{signal}");
        assert!(
            entries(dir.path()).is_empty(),
            "SIG{signal}: {:?}",
            entries(dir.path())
        );
    }
}

#[tokio::test]
async fn a_directory_target_is_refused_before_the_download() {
    let server = MockServer::start().await.expect("mock starts");
    let id = image_of(&server, &data(1000, 4)).await;
    server.clear_requests();
    let dir = tempfile::tempdir().expect("temp dir");
    let result = glance(
        &server,
        &[
            "image-download",
            &id,
            "--file",
            dir.path().to_str().expect("utf-8"),
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    assert!(stderr.contains("is a directory"), "{stderr}");
    assert!(
        !server.requests().iter().any(|e| e.path.ends_with("/file")),
        "no data was asked for"
    );
}

#[tokio::test]
async fn an_image_without_any_hash_is_downloaded_with_a_warning() {
    let server = MockServer::start().await.expect("mock starts");
    let id = "c0ffee00-0000-4000-8000-000000000002";
    let record = serde_json::json!({
        "id": id, "status": "active", "name": "legacy", "size": 5,
        "visibility": "private", "disk_format": "raw", "container_format": "bare",
        "checksum": null, "os_hash_algo": null, "os_hash_value": null
    });
    for (path, ctype, body) in [
        (
            format!("/v2/images/{id}"),
            "application/json",
            record.to_string(),
        ),
        (
            format!("/v2/images/{id}/file"),
            "application/octet-stream",
            "hello".to_owned(),
        ),
    ] {
        server
            .add_fault(
                FaultRule::new(FaultAction::Respond {
                    status: 200,
                    headers: BTreeMap::from([("Content-Type".into(), ctype.into())]),
                    body: Some(body),
                })
                .method("GET")
                .path(path),
            )
            .expect("valid rule");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let result = glance(
        &server,
        &["image-download", id, "--file", out.to_str().expect("utf-8")],
    )
    .await;
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    assert!(stderr.contains("not verified"), "{stderr}");
    assert_eq!(std::fs::read(&out).expect("saved"), b"hello");
}

#[tokio::test]
async fn a_corrupt_download_to_stdout_says_what_was_written() {
    let server = MockServer::start().await.expect("mock starts");
    let payload = data(3 << 20, 5);
    let id = image_of(&server, &payload).await;
    server
        .add_fault(file_rule(FaultAction::FlipByte { offset: 10 }))
        .expect("valid rule");
    let result = glance(&server, &["image-download", &id]).await;
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    let written = format!("{} bytes were written to stdout", result.stdout.len());
    assert!(stderr.contains(&written), "{written:?} in {stderr}");
    assert!(stderr.contains("discard"), "{stderr}");
    assert!(stderr.contains("digest"), "{stderr}");
    assert!(result.stdout.len() < payload.len());
}

#[tokio::test]
async fn an_error_line_says_each_cause_once() {
    let server = MockServer::start().await.expect("mock starts");
    let mut cmd = glance_cmd(&server, &["--timeout", "5", "image-show", "x"]);
    // Nothing listens on port 1.
    cmd.env("OS_IMAGE_URL", "http://127.0.0.1:1");
    let result = cmd.output().await.expect("runs");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    assert_eq!(
        stderr.matches("error sending request").count(),
        1,
        "{stderr}"
    );
}
