//! python-glanceclient 4.13 (the reference client, from PyPI) works unchanged
//! against the mock server.
//!
//! The client is installed into a virtualenv under the target directory the
//! first time. Where python3 or PyPI is not available the test skips
//! visibly; with `GLANCE_REQUIRE_SHARED=1` (as in `.ci/run`) that is a
//! failure instead.

use std::path::Path;

use glance_e2e_tests::output::{ok, table_value};
use glance_e2e_tests::python::{glanceclient_or_skip, run_glanceclient};
use glance_mock_server::MockServer;

#[tokio::test]
async fn python_glanceclient_works_against_the_mock() {
    let Some(bin) = glanceclient_or_skip(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        "python_glanceclient_works_against_the_mock",
    ) else {
        return;
    };
    let server = MockServer::start().await.expect("mock starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("disk.raw");
    let payload: Vec<u8> = (0..1_500_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&src, &payload).expect("written");
    let src_arg = src.to_str().expect("utf-8 path");

    let created = ok(&run_glanceclient(
        &bin,
        &server.url(),
        "t",
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
    .await);
    let id = table_value(&created, "id").expect("image-create shows the id");
    assert_eq!(table_value(&created, "status").as_deref(), Some("active"));
    assert_eq!(
        table_value(&created, "size"),
        Some(payload.len().to_string())
    );

    let listed = ok(&run_glanceclient(&bin, &server.url(), "t", &["image-list"]).await);
    assert!(listed.contains(&id), "{listed}");

    let shown = ok(&run_glanceclient(&bin, &server.url(), "t", &["image-show", &id]).await);
    assert_eq!(table_value(&shown, "name").as_deref(), Some("x"));

    let updated = ok(&run_glanceclient(
        &bin,
        &server.url(),
        "t",
        &["image-update", &id, "--property", "k=v"],
    )
    .await);
    assert_eq!(table_value(&updated, "k").as_deref(), Some("v"));

    let tagged = ok(&run_glanceclient(
        &bin,
        &server.url(),
        "t",
        &["image-tag-update", &id, "golden"],
    )
    .await);
    assert!(tagged.contains("golden"), "{tagged}");

    let out = dir.path().join("out.raw");
    ok(&run_glanceclient(
        &bin,
        &server.url(),
        "t",
        &[
            "image-download",
            &id,
            "--file",
            out.to_str().expect("utf-8 path"),
        ],
    )
    .await);
    assert_eq!(std::fs::read(&out).expect("downloaded"), payload);

    let member = ok(&run_glanceclient(
        &bin,
        &server.url(),
        "t",
        &["member-create", &id, "other-project"],
    )
    .await);
    assert!(
        member.contains("other-project") && member.contains("pending"),
        "{member}"
    );

    ok(&run_glanceclient(&bin, &server.url(), "t", &["image-delete", &id]).await);
    let gone = run_glanceclient(&bin, &server.url(), "t", &["image-show", &id]).await;
    assert!(!gone.status.success(), "the image is gone");
}
