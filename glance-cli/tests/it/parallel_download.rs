//! `glance image-download --parallel`: several connections at once, in
//! ranges, verified (the library's side is in glance-e2e-tests'
//! `parallel_download`).

use std::time::Duration;

use glance_e2e_tests::fixture::{
    client_with, data, entries, file_gets, file_rule, image_with, pass_first,
};
use glance_mock_server::MockServer;
use glance_mock_server::control::FaultAction;
use sha2::{Digest, Sha512};

use crate::harness::glance;

#[tokio::test]
async fn cli_image_download_parallel_saves_the_verified_image() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_secs(30));
    // 5 ranges of 8 MiB, the last one 5 bytes.
    let payload = data((32 << 20) + 5, 10);
    let image = image_with(&client, "parallel", &payload).await;
    server
        .add_fault(file_rule(FaultAction::Throttle {
            bytes_per_second: 64 << 20,
        }))
        .expect("valid rule");
    server.clear_requests();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("image.raw");
    let path = out.to_str().expect("utf-8");
    let id = image.id.as_str();
    let args = move |n: &'static str| ["image-download", id, "--parallel", n, "--file", path];
    let result = glance(&server, &args("4")).await;
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(Sha512::digest(std::fs::read(&out).expect("saved")) == Sha512::digest(&payload));
    assert_eq!(file_gets(&server, &image.id), 5);

    // A flipped byte in a later range: exit 1, nothing at the path.
    std::fs::remove_file(&out).expect("removed");
    server.clear_faults();
    pass_first(&server, 3);
    server
        .add_fault(file_rule(FaultAction::FlipByte { offset: 7 }).count(1))
        .expect("valid rule");
    let result = glance(&server, &args("4")).await;
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    assert!(stderr.contains("digest"), "{stderr}");
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));

    // Out of range: refused by the argument parser.
    let result = glance(&server, &args("0")).await;
    assert!(!result.status.success());
    let result = glance(&server, &args("17")).await;
    assert!(!result.status.success());
}
