//! The `glance` binary against the in-process glance-mock-server.

use glance_mock_server::MockServer;

use crate::harness::{glance, glance_with, json};

#[tokio::test]
async fn create_upload_download_delete_through_the_cli() {
    let server = MockServer::start().await.expect("mock starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("in.raw");
    let payload: Vec<u8> = (0..2_500_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&src, &payload).expect("written");

    let created = json(
        &glance(
            &server,
            &[
                "-f",
                "json",
                "image-create",
                "--name",
                "cli",
                "--disk-format",
                "raw",
                "--container-format",
                "bare",
                "--property",
                "os_distro=cirros",
            ],
        )
        .await,
    );
    assert_eq!(created["status"], "queued");
    assert_eq!(created["os_distro"], "cirros");
    let id = created["id"].as_str().expect("id").to_owned();

    let out = glance(
        &server,
        &[
            "image-upload",
            &id,
            "--file",
            src.to_str().expect("utf-8 path"),
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let shown = json(&glance(&server, &["-f", "json", "image-show", &id]).await);
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["size"], payload.len() as u64);

    let table = glance(&server, &["image-list"]).await;
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains(&id) && text.contains("| ID "), "{text}");

    let dst = dir.path().join("out.raw");
    let out = glance(
        &server,
        &[
            "image-download",
            &id,
            "--file",
            dst.to_str().expect("utf-8 path"),
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&dst).expect("downloaded"), payload);

    // Several ids: the good one is deleted, the bad one reported, exit 1.
    let out = glance(&server, &["image-delete", &id, "no-such-image"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("No image with an ID of 'no-such-image' exists."),
        "{err}"
    );
    let out = glance(&server, &["image-show", &id]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one-line message: {err}");
    assert!(err.contains("404"), "{err}");
}

#[tokio::test]
async fn image_create_with_file_uploads_and_download_of_empty_image_fails() {
    let server = MockServer::start().await.expect("mock starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("in.raw");
    std::fs::write(&src, b"tiny image").expect("written");
    let created = json(
        &glance(
            &server,
            &[
                "-f",
                "json",
                "image-create",
                "--disk-format",
                "raw",
                "--container-format",
                "bare",
                "--file",
                src.to_str().expect("utf-8 path"),
            ],
        )
        .await,
    );
    assert_eq!(created["status"], "active");
    assert_eq!(created["size"], 10);

    let empty = json(&glance(&server, &["-f", "json", "image-create", "--name", "e"]).await);
    let id = empty["id"].as_str().expect("id");
    let dst = dir.path().join("never.raw");
    let out = glance(
        &server,
        &[
            "image-download",
            id,
            "--file",
            dst.to_str().expect("utf-8 path"),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no data"));
    assert!(!dst.exists());
}

#[tokio::test]
async fn missing_credentials_are_a_clear_error() {
    // Neither an image URL with a token nor Keystone credentials:
    // glanceclient asks for a username first.
    let out = glance_with(&[], &["image-list"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "You must provide a username via either --os-username or env[OS_USERNAME]"
    );
}
