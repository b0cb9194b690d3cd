//! Moving image bytes against the in-process mock server: upload, stage,
//! import, wait, verified and resumed downloads.

use std::time::Duration;

use glance_client::images::{ImageData, ImportRequest, WaitOptions};
use glance_client::{
    Client, ContainerFormat, CreateImage, DiskFormat, Error, ImageStatus, UploadBody, UploadOptions,
};
use glance_mock_server::MockServer;
use sha2::{Digest, Sha512};

use crate::common::client;

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
        .stage_with(
            &image.id,
            body.clone(),
            &glance_client::images::StageOptions::default().progress(move |done, _| {
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
        .wait_for_import_with(&image.id, &quick())
        .await
        .expect("import succeeds");
    assert_eq!(active.status, ImageStatus::Active);
    assert_eq!(active.stores, ["cheap"]);
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

async fn round_trip(client: &Client, len: usize) {
    let images = client.images();
    let image = images
        .create(&raw(&format!("rt-{len}")))
        .await
        .expect("created");
    let body = data(len);
    images
        .upload(&image.id, body.clone())
        .await
        .expect("uploaded");
    let record = images.get(&image.id).await.expect("get");
    assert_eq!(record.status, ImageStatus::Active);
    assert_eq!(record.size, Some(len as u64));
    assert_eq!(
        record.os_hash_value.as_deref(),
        Some(hex::encode(Sha512::digest(&body)).as_str())
    );
    let back = match images.download(&image.id).await.expect("download") {
        Some(d) => {
            assert!(
                matches!(&d.verification, glance_client::Verification::Digest { algorithm, .. } if algorithm == "sha512")
            );
            d.bytes().await.expect("verified").to_vec()
        }
        None => Vec::new(),
    };
    assert_eq!(back.len(), len);
    assert!(back == body, "{len} bytes came back different");
}

#[tokio::test]
async fn round_trips_of_small_and_odd_sizes() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client(&server);
    for len in [0, 1, (1 << 20) + 7] {
        round_trip(&client, len).await;
    }
}

#[tokio::test]
async fn sixty_four_mib_from_a_reader_to_a_path() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client(&server);
    let images = client.images();
    let len = 64 << 20;
    let body = data(len);
    let digest = hex::encode(Sha512::digest(&body));
    let image = images.create(&raw("big")).await.expect("created");
    // A one-shot body from an AsyncRead (here a pipe fed by another task).
    let (mut tx, rx) = tokio::io::duplex(1 << 16);
    let feed = body.clone();
    let writer = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        tx.write_all(&feed).await.expect("fed");
        tx.shutdown().await.expect("closed");
    });
    images
        .upload(&image.id, UploadBody::reader(rx, Some(len as u64)))
        .await
        .expect("uploaded");
    writer.await.expect("feeder");
    drop(body);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.raw");
    let written = images
        .download_to_path(&image.id, &path)
        .await
        .expect("downloaded");
    let written = written.expect("has data");
    assert_eq!(written.bytes, len as u64);
    assert!(written.is_verified());
    let on_disk = std::fs::read(&path).expect("read");
    assert_eq!(hex::encode(Sha512::digest(&on_disk)), digest);
}

#[tokio::test]
async fn web_download_from_a_file_the_mock_serves() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client(&server);
    let body = data(300_000);
    let uri = server.put_file("disk.img", body.clone()).expect("served");
    let image = client
        .images()
        .create_with_data_with(
            &raw("fetched"),
            ImageData::Import(glance_client::images::FetchImport::web_download(uri)),
            &quick(),
        )
        .await
        .expect("imported");
    assert_eq!(image.status, ImageStatus::Active);
    assert_eq!(image.size, Some(300_000));
    let back = client
        .images()
        .download(&image.id)
        .await
        .expect("download")
        .expect("data")
        .bytes()
        .await
        .expect("verified");
    assert!(back.as_ref() == body.as_slice());
}

#[tokio::test]
async fn copy_image_to_all_stores() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client(&server);
    let images = client.images();
    let image = images
        .create_with_data_with(&raw("copied"), ImageData::upload(data(5000)), &quick())
        .await
        .expect("uploaded");
    assert_eq!(image.stores, ["fast"]);
    images
        .import(&image.id, &ImportRequest::copy_image().all_stores())
        .await
        .expect("copy accepted");
    let copied = images
        .wait_for_import_with(&image.id, &quick())
        .await
        .expect("copied");
    let mut stores: Vec<&str> = copied.stores.iter().map(|s| s.as_str()).collect();
    stores.sort_unstable();
    assert_eq!(stores, ["cheap", "fast"]);
}

#[tokio::test]
async fn stage_and_import_into_listed_stores_in_one_call() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client(&server);
    let body = data(70_000);
    let image = client
        .images()
        .create_with_data_with(
            &raw("both"),
            ImageData::StageAndImport {
                body: UploadBody::stream(
                    futures::stream::iter(
                        body.chunks(4096)
                            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                            .collect::<Vec<_>>(),
                    ),
                    None,
                ),
                options: Default::default(),
                import: glance_client::images::GlanceDirect::new()
                    .stores(["fast", "cheap"])
                    .all_stores_must_succeed(true),
            },
            &quick(),
        )
        .await
        .expect("imported");
    assert_eq!(image.status, ImageStatus::Active);
    assert_eq!(image.size, Some(70_000));
    let mut stores: Vec<&str> = image.stores.iter().map(|s| s.as_str()).collect();
    stores.sort_unstable();
    assert_eq!(stores, ["cheap", "fast"]);
}

#[tokio::test]
async fn a_failing_import_is_reported_not_awaited_forever() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client(&server);
    // No such file is served: the mock answers 404 and the import task fails.
    let images = client.images();
    let image = images.create(&raw("doomed")).await.expect("created");
    images
        .import(
            &image.id,
            &ImportRequest::web_download(server.file_url("missing")),
        )
        .await
        .expect("accepted");
    let err = images
        .wait_for_import_with(&image.id, &quick())
        .await
        .expect_err("fails");
    let Error::ImportFailed(failure) = &err else {
        panic!("expected ImportFailed, got {err}");
    };
    assert_eq!(failure.image_id, image.id);
    assert_eq!(failure.status, ImageStatus::Queued);
    assert_eq!(failure.failed_stores, ["fast"]);
    assert!(failure.importing_stores.is_empty());
    let task = failure.task.as_ref().expect("the import task");
    assert_eq!(task.status, glance_client::TaskStatus::Failure);
    assert!(failure.message().is_some(), "{task:?}");
    assert!(err.to_string().contains("failed stores: fast"), "{err}");
}

#[tokio::test]
async fn waiting_times_out_with_the_import_still_running() {
    let mut config = glance_mock_server::Config::default();
    config.tasks.progression = glance_mock_server::TaskProgression::Manual;
    let server = MockServer::builder()
        .config(config)
        .start()
        .await
        .expect("mock starts");
    let client = client(&server);
    let images = client.images();
    let image = images.create(&raw("stuck")).await.expect("created");
    images.stage(&image.id, data(10)).await.expect("staged");
    images
        .import(&image.id, &ImportRequest::glance_direct())
        .await
        .expect("accepted");
    let err = images
        .wait_for_import_with(&image.id, &quick().timeout(Duration::from_millis(100)))
        .await
        .expect_err("times out");
    assert!(
        matches!(&err, Error::WaitTimeout { image_id, status, .. } if *image_id == image.id && status == "uploading"),
        "{err}"
    );
    server.finish_tasks().await;
    let active = images
        .wait_for_import_with(&image.id, &quick())
        .await
        .expect("finished");
    assert_eq!(active.status, ImageStatus::Active);
}

#[tokio::test]
async fn create_with_data_removes_the_record_when_the_upload_is_refused() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client(&server);
    let err = client
        .images()
        .create_with_data_with(
            &raw("nowhere"),
            ImageData::Upload {
                body: UploadBody::from(data(10)),
                options: UploadOptions::default().store("no-such-store"),
            },
            &quick(),
        )
        .await
        .expect_err("refused");
    assert!(err.is_bad_request(), "{err}");
    let left: Vec<_> = futures::TryStreamExt::try_collect::<Vec<_>>(
        client
            .images()
            .list(glance_client::ListImages::new().filter("name", "nowhere")),
    )
    .await
    .expect("list");
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn get_with_or_without_locations_as_nova_asks() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client(&server);
    let images = client.images();
    let image = images
        .create_with_data_with(&raw("located"), ImageData::upload(data(10)), &quick())
        .await
        .expect("uploaded");
    let with = images.get_with(&image.id, true).await.expect("get");
    let locations = with.locations().expect("locations are always present");
    assert!(locations.len() <= 1, "{locations:?}");
    let without = images.get_with(&image.id, false).await.expect("get");
    assert!(without.locations().is_none());
    assert!(without.property("direct_url").is_none());
}

#[tokio::test]
async fn glance_download_from_another_region() {
    let remote = MockServer::start().await.expect("remote starts");
    let remote_client = client(&remote);
    let body = data(123_457);
    let source = remote_client
        .images()
        .create_with_data_with(&raw("abroad"), ImageData::upload(body.clone()), &quick())
        .await
        .expect("remote image");
    let mut config = glance_mock_server::Config::default();
    config.import_methods.push("glance-download".into());
    config.tasks.glance_download_endpoint = Some(remote.url());
    // The remote is on loopback, which the import filter refuses by default.
    config.tasks.import_filtering.allow_loopback = true;
    let local = MockServer::builder()
        .config(config)
        .start()
        .await
        .expect("local starts");
    let client = client(&local);
    let image = client
        .images()
        .create_with_data_with(
            &raw("fetched-abroad"),
            ImageData::Import(
                glance_client::images::FetchImport::glance_download("RegionTwo", source.id.clone())
                    .service_interface(glance_client::auth::Interface::Public),
            ),
            &quick(),
        )
        .await
        .expect("imported");
    assert_eq!(image.os_hash_value, source.os_hash_value);
    let back = client
        .images()
        .download(&image.id)
        .await
        .expect("download")
        .expect("data")
        .bytes()
        .await
        .expect("verified");
    assert!(back.as_ref() == body.as_slice());
}

/// A glance-download whose remote the import filter refuses fails before
/// any store is reached: the image is queued again with its stores still
/// listed as being imported to, and no lock. The wait reads the task and
/// reports the failure instead of waiting for its timeout.
#[tokio::test]
async fn a_glance_download_that_fails_early_is_reported_not_awaited() {
    let remote = MockServer::start().await.expect("remote starts");
    let mut config = glance_mock_server::Config::default();
    config.import_methods.push("glance-download".into());
    // On loopback without allow_loopback: the filter refuses the remote.
    config.tasks.glance_download_endpoint = Some(remote.url());
    let local = MockServer::builder()
        .config(config)
        .start()
        .await
        .expect("local starts");
    let client = client(&local);
    let images = client.images();
    let image = images.create(&raw("doomed")).await.expect("created");
    images
        .import(
            &image.id,
            &glance_client::ImportRequest::glance_download(
                "RegionTwo",
                "5f2c7e0a-8b6e-4c1a-9d3b-2a1f0e9c8d7b",
            ),
        )
        .await
        .expect("accepted");
    let started = std::time::Instant::now();
    let err = images
        .wait_for_import_with(&image.id, &quick())
        .await
        .expect_err("fails");
    let Error::ImportFailed(failure) = &err else {
        panic!("expected ImportFailed, got {err}");
    };
    assert!(started.elapsed() < Duration::from_secs(10), "{err}");
    assert_eq!(failure.importing_stores, ["fast"]);
    let task = failure.task.as_ref().expect("the task");
    assert_eq!(task.status, glance_client::tasks::TaskStatus::Failure);
}

/// Nova's `id_or_uri`: get, download and delete take an image's URI too.
#[tokio::test]
async fn image_uris_work_where_nova_takes_them() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client(&server);
    let images = client.images();
    let image = images.create(&raw("by-uri")).await.expect("created");
    images.upload(&image.id, data(100)).await.expect("uploaded");
    let uri = format!(
        "{}/v2/images/{}",
        server.url().trim_end_matches('/'),
        image.id
    );

    assert_eq!(images.get(&uri).await.expect("found").id, image.id);
    let bytes = images
        .download(&format!("http://glance.example/images/{}", image.id))
        .await
        .expect("downloaded")
        .expect("has data")
        .bytes()
        .await
        .expect("verified");
    assert_eq!(bytes.len(), 100);
    let err = images
        .get("http://glance.example/v2/tasks/x")
        .await
        .expect_err("not an image URI");
    assert!(err.is_invalid_input(), "{err}");
    images.delete(&uri).await.expect("deleted");
    assert!(images.get_opt(&image.id).await.expect("asked").is_none());
}
