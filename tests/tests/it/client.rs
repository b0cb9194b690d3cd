//! glance-client against the in-process glance-mock-server.

use futures::TryStreamExt;
use glance_client::{Client, Error, ImageStatus, ListImages, UploadOptions};
use glance_e2e_tests::fixture::{data, raw, setup};
use glance_mock_server::MockServer;
use sha2::{Digest, Sha512};

#[tokio::test]
async fn upload_then_download_returns_the_same_bytes() {
    let (_server, client) = setup().await;
    let images = client.images();
    let image = images.create(&raw("roundtrip")).await.expect("created");
    assert_eq!(image.status, ImageStatus::Queued);
    assert_eq!(image.size, None);

    let payload = data(3 * 1024 * 1024 + 17, 1);
    let progress = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = progress.clone();
    images
        .upload_with(
            &image.id,
            payload.clone(),
            &UploadOptions::default().progress(move |done, total| {
                assert_eq!(total, Some(3 * 1024 * 1024 + 17));
                seen.store(done, std::sync::atomic::Ordering::Relaxed);
            }),
        )
        .await
        .expect("uploaded");
    assert_eq!(
        progress.load(std::sync::atomic::Ordering::Relaxed),
        payload.len() as u64
    );

    let active = images.get(&image.id).await.expect("shown");
    assert_eq!(active.status, ImageStatus::Active);
    assert_eq!(active.size, Some(payload.len() as u64));
    assert_eq!(active.os_hash_algo.as_deref(), Some("sha512"));
    assert_eq!(
        active.os_hash_value.as_deref(),
        Some(hex::encode(Sha512::digest(&payload)).as_str())
    );
    assert_eq!(active.stores, ["fast"]);

    let download = images
        .download(&image.id)
        .await
        .expect("download starts")
        .expect("has data");
    assert_eq!(download.content_length, Some(payload.len() as u64));
    assert_eq!(download.content_md5, active.checksum);
    let got = download.bytes().await.expect("verified");
    assert_eq!(got.len(), payload.len());
    assert!(got[..] == payload[..], "downloaded bytes differ");
}

#[tokio::test]
async fn upload_from_a_file_to_a_chosen_store() {
    let (server, client) = setup().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("disk.raw");
    let payload = data(1024 * 1024 + 5, 2);
    std::fs::write(&path, &payload).expect("written");

    let image = client
        .images()
        .create(&raw("from-file"))
        .await
        .expect("created");
    client
        .images()
        .upload_with(
            &image.id,
            path.as_path(),
            &UploadOptions::default().store("cheap"),
        )
        .await
        .expect("uploaded");
    let shown = client.images().get(&image.id).await.expect("shown");
    assert_eq!(shown.stores, ["cheap"]);
    assert!(server.state().store.holds("cheap", &image.id).await);
    assert!(!server.state().store.holds("fast", &image.id).await);

    let target = dir.path().join("copy.raw");
    let written = client
        .images()
        .download_to_path(&image.id, &target)
        .await
        .expect("downloaded")
        .expect("has data");
    assert_eq!(written.bytes, payload.len() as u64);
    assert!(written.is_verified(), "{:?}", written.verification);
    assert_eq!(std::fs::read(&target).expect("read back"), payload);
}

#[tokio::test]
async fn list_streams_across_pages() {
    let (_server, client) = setup().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let img = client
            .images()
            .create(&raw(&format!("img-{i}")))
            .await
            .expect("created");
        ids.push(img.id);
    }
    let listed: Vec<_> = client
        .images()
        .list(ListImages::new().page_size(2).sort("name", true))
        .try_collect()
        .await
        .expect("listed");
    let names: Vec<_> = listed.iter().filter_map(|i| i.name.clone()).collect();
    assert_eq!(
        names,
        (0..7).map(|i| format!("img-{i}")).collect::<Vec<_>>()
    );

    let limited: Vec<_> = client
        .images()
        .list(ListImages::new().page_size(2).limit(3))
        .try_collect()
        .await
        .expect("listed");
    assert_eq!(limited.len(), 3);

    let filtered: Vec<_> = client
        .images()
        .list(ListImages::new().filter("name", "img-4"))
        .try_collect()
        .await
        .expect("listed");
    assert_eq!(filtered.len(), 1);
    assert!(ids.contains(&filtered[0].id));
}

#[tokio::test]
async fn lifecycle_errors_are_typed() {
    let (_server, client) = setup().await;
    let images = client.images();
    let image = images.create(&raw("errors")).await.expect("created");

    // No data yet: a typed "no data", not an error.
    assert!(images.download(&image.id).await.expect("204").is_none());

    images
        .upload(&image.id, b"once".to_vec())
        .await
        .expect("uploaded");
    let again = images
        .upload(&image.id, b"twice".to_vec())
        .await
        .expect_err("a second upload conflicts");
    assert!(again.is_conflict(), "{again}");
    assert!(again.to_string().contains("active to saving"), "{again}");
    assert!(again.request_id().is_some_and(|r| r.starts_with("req-")));

    let bad = images
        .create(&raw("bad").property("os_glance_x", "1"))
        .await
        .expect_err("reserved property");
    assert!(bad.is_forbidden(), "{bad}");

    images.delete(&image.id).await.expect("deleted");
    assert!(images.get_opt(&image.id).await.expect("lookup").is_none());
    let err = images.delete(&image.id).await.expect_err("already gone");
    assert!(err.is_not_found());
    assert!(matches!(err, Error::Http { .. }));

    // A deleted id can never be reused.
    let reuse = images
        .create(&raw("reuse").id(image.id.clone()))
        .await
        .expect_err("id taken");
    assert!(reuse.is_conflict(), "{reuse}");
}

#[tokio::test]
async fn requests_without_credentials_are_refused() {
    let server = MockServer::start().await.expect("mock starts");
    let client = Client::builder()
        .endpoint(server.url())
        .build()
        .expect("client builds");
    let err = client
        .images()
        .list(ListImages::new())
        .try_collect::<Vec<_>>()
        .await
        .expect_err("401");
    assert!(err.is_unauthorized(), "{err}");
}

#[tokio::test]
async fn find_takes_an_id_or_a_name_and_says_when_it_cannot_choose() {
    let (_server, client) = setup().await;
    let images = client.images();
    let cirros = images.create(&raw("cirros")).await.expect("created");
    let by_id = images.find(&cirros.id).await.expect("by id");
    assert_eq!(by_id.id, cirros.id);
    let by_name = images.find("cirros").await.expect("by name");
    assert_eq!(by_name.id, cirros.id);

    // A name that looks like an id, of no image: found by name.
    let odd_name = "0b0e1c9e-0000-4000-8000-000000000000";
    let odd = images.create(&raw(odd_name)).await.expect("created");
    assert_eq!(images.find(odd_name).await.expect("by name").id, odd.id);

    let missing = images.find("nope").await.expect_err("none");
    assert!(
        matches!(&missing, Error::NoSuchImage(n) if n == "nope"),
        "{missing:?}"
    );
    assert!(missing.is_not_found());
    assert_eq!(missing.to_string(), "no image with the name or id \"nope\"");

    let twin = images.create(&raw("cirros")).await.expect("created");
    match images.find("cirros").await {
        Err(Error::AmbiguousName { name, mut ids }) => {
            assert_eq!(name, "cirros");
            ids.sort();
            let mut want = vec![cirros.id.clone(), twin.id.clone()];
            want.sort();
            assert_eq!(ids, want);
        }
        other => panic!("two images named cirros: {other:?}"),
    }
    // By id, each twin is still one image.
    assert_eq!(images.find(&twin.id).await.expect("by id").id, twin.id);
}
