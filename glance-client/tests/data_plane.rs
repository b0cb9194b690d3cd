//! Moving image bytes against the in-process mock server: upload, stage,
//! import, wait, verified and resumed downloads.

use std::time::Duration;

use glance_client::images::{ImportRequest, WaitOptions};
use glance_client::{
    Client, ContainerFormat, CreateImage, DiskFormat, Error, ImageStatus, UploadBody, UploadOptions,
};
use glance_mock_server::MockServer;

fn client(server: &MockServer) -> Client {
    Client::builder()
        .endpoint(server.url())
        .token("t")
        .build()
        .expect("client builds")
}

fn raw(name: &str) -> CreateImage {
    CreateImage::new(name)
        .disk_format(DiskFormat::Raw)
        .container_format(ContainerFormat::Bare)
}

/// Deterministic, non-repeating test data.
fn data(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ len as u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn quick() -> WaitOptions {
    WaitOptions::default()
        .interval(Duration::from_millis(10), Duration::from_millis(50))
        .timeout(Duration::from_secs(30))
}

#[tokio::test]
async fn glance_direct_import_of_staged_data() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client(&server);
    let images = client.images();
    let image = images.create(&raw("staged")).await.expect("created");
    let body = data(1 << 20);
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen2 = seen.clone();
    images
        .stage(
            &image.id,
            body.clone(),
            UploadOptions::default().progress(move |done, _| {
                seen2.store(done, std::sync::atomic::Ordering::Relaxed);
            }),
        )
        .await
        .expect("staged");
    assert_eq!(seen.load(std::sync::atomic::Ordering::Relaxed), 1 << 20);
    assert_eq!(
        images.get(&image.id).await.expect("get").status,
        ImageStatus::Uploading
    );
    images
        .import(&image.id, &ImportRequest::glance_direct().store("cheap"))
        .await
        .expect("import accepted");
    let active = images
        .wait_for_import(&image.id, &quick())
        .await
        .expect("import succeeds");
    assert_eq!(active.status, ImageStatus::Active);
    assert_eq!(active.stores.as_deref(), Some("cheap"));
    let back = images
        .download(&image.id)
        .await
        .expect("download")
        .expect("has data")
        .bytes()
        .await
        .expect("verified");
    assert_eq!(back.as_ref(), body.as_slice());
}

#[tokio::test]
async fn staging_refuses_a_store() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client(&server);
    let err = client
        .images()
        .stage("x", b"x".to_vec(), UploadOptions::default().store("fast"))
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    let _ = UploadBody::from(b"x".to_vec());
}
