//! The image data path over HTTP: uploads into memory and filesystem
//! stores, what failures leave behind (nothing), limits, downloads with
//! ranges, and deactivation. Expected answers are those of Glance 33.

use std::path::Path;
use std::time::Duration;

use glance_mock_server::{Config, StoreConfig};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::harness::http::{Api, Who, data};

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                // The store's record of its own files.
                .filter(|n| !glance_mock_server::store::filesystem::is_bookkeeping(n))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn on_disk(dir: &Path) -> Config {
    Config {
        stores: vec![
            StoreConfig::filesystem("fast", "Fast local store", dir),
            StoreConfig::memory("cheap", "Cheap bulk store"),
        ],
        ..Config::default()
    }
}

#[tokio::test]
async fn filesystem_store_round_trip_and_delete() {
    let dir = tempfile::tempdir().expect("temp dir");
    let api = Api::with(on_disk(dir.path())).await;
    let id = api.create_format("raw").await;
    let payload = data(300_000);
    assert_eq!(
        api.put(&id, "file", payload.clone()).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(files_in(dir.path()), vec![id.clone()]);
    let shown = api.show(&id).await;
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["size"], 300_000);
    assert_eq!(shown["virtual_size"], 300_000);
    assert_eq!(shown["stores"], "fast");

    let whole = api
        .owner(reqwest::Method::GET, &format!("/v2/images/{id}/file"))
        .send()
        .await
        .expect("downloaded");
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(
        whole.headers()["content-md5"].to_str().ok(),
        shown["checksum"].as_str()
    );
    assert_eq!(whole.bytes().await.expect("body").to_vec(), payload);

    let part = api
        .owner(reqwest::Method::GET, &format!("/v2/images/{id}/file"))
        .header("Range", "bytes=-10")
        .send()
        .await
        .expect("range");
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        "bytes 299990-299999/300000"
    );
    assert_eq!(
        part.bytes().await.expect("body").to_vec(),
        payload[299_990..]
    );

    let deleted = api
        .owner(reqwest::Method::DELETE, &format!("/v2/images/{id}"))
        .send()
        .await
        .expect("deleted");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(files_in(dir.path()).is_empty());
}

#[tokio::test]
async fn refused_uploads_keep_nothing_and_requeue() {
    let dir = tempfile::tempdir().expect("temp dir");
    let api = Api::with(Config {
        image_size_cap: 100_000,
        ..on_disk(dir.path())
    })
    .await;
    let id = api.create_format("raw").await;
    let a = api.put(&id, "file", data(100_001)).await;
    let (status, body) = (a.status, a.text());
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body.contains("The incoming image is too large: The provided image is too large."));
    assert_eq!(api.show(&id).await["status"], "queued");

    let (status, body) = api
        .owner(reqwest::Method::PUT, &format!("/v2/images/{id}/file"))
        .header("Content-Type", "application/octet-stream")
        .header("x-openstack-image-size", "10")
        .body(data(20))
        .send()
        .await
        .map(|r| (r.status(), r))
        .expect("sent");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.text()
            .await
            .unwrap_or_default()
            .contains("Size exceeds: expected 10 bytes, got 20 bytes")
    );

    // qcow2 claimed, raw sent: refused after storing, hashes kept (as
    // Glance does), the data not.
    let q = api.create_format("qcow2").await;
    let a = api.put(&q, "file", data(4096)).await;
    let (status, body) = (a.status, a.text());
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(body.contains("Image disk_format qcow2 does not match stream data raw"));
    let shown = api.show(&q).await;
    assert_eq!(shown["status"], "queued");
    assert!(shown["size"].is_null());
    assert!(shown["checksum"].is_string());
    assert!(files_in(dir.path()).is_empty());
}

#[tokio::test]
async fn a_client_gone_mid_upload_leaves_a_queued_image_and_no_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let api = Api::with(on_disk(dir.path())).await;
    let id = api.create_format("raw").await;

    let mut conn = tokio::net::TcpStream::connect(api.server().addr())
        .await
        .expect("connected");
    let head = format!(
        "PUT /v2/images/{id}/file HTTP/1.1\r\nHost: mock\r\nX-Identity-Status: Confirmed\r\n\
         X-Roles: member,reader\r\nX-Project-Id: p\r\nX-User-Id: u\r\nX-Auth-Token: t\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.expect("head sent");
    conn.write_all(&data(200_000))
        .await
        .expect("some data sent");
    let mut status = Value::Null;
    for _ in 0..100 {
        status = api.show(&id).await["status"].clone();
        if status == "saving" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(status, "saving");
    drop(conn);

    for _ in 0..200 {
        status = api.show(&id).await["status"].clone();
        if status == "queued" && files_in(dir.path()).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(status, "queued");
    assert!(
        files_in(dir.path()).is_empty(),
        "{:?}",
        files_in(dir.path())
    );
    // And the image takes a complete upload afterwards.
    assert_eq!(
        api.put(&id, "file", data(10)).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn storage_quota_counts_the_owners_other_images() {
    let api = Api::with(Config {
        user_storage_quota: 20,
        ..Config::default()
    })
    .await;
    let first = api.create_format("raw").await;
    assert_eq!(
        api.put(&first, "file", data(15)).await.status,
        StatusCode::NO_CONTENT
    );
    let second = api.create_format("raw").await;
    let a = api.put(&second, "file", data(10)).await;
    let (status, body) = (a.status, a.text());
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body.contains(
        "Image exceeds the storage quota: The size of the data 10 will exceed the limit. 5 bytes remaining."
    ));
    assert_eq!(api.show(&second).await["status"], "queued");
    assert_eq!(
        api.put(&second, "file", data(5)).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn deactivated_images_are_for_admins_only() {
    let api = Api::with(Config::default()).await;
    let id = api.create_format("raw").await;
    let deactivate = |roles: &'static str| {
        api.req(
            Who::new(roles, "p"),
            reqwest::Method::POST,
            &format!("/v2/images/{id}/actions/deactivate"),
        )
        .send()
    };
    let queued = deactivate("member,reader").await.expect("sent");
    assert_eq!(queued.status(), StatusCode::FORBIDDEN);
    assert!(
        queued
            .text()
            .await
            .unwrap_or_default()
            .contains("Not allowed to deactivate image in status 'queued'")
    );
    assert_eq!(
        api.put(&id, "file", data(10)).await.status,
        StatusCode::NO_CONTENT
    );
    let reader = deactivate("reader").await.expect("sent");
    assert_eq!(reader.status(), StatusCode::FORBIDDEN);
    for _ in 0..2 {
        let done = deactivate("member,reader").await.expect("sent");
        assert_eq!(done.status(), StatusCode::NO_CONTENT);
    }
    let shown = api.show(&id).await;
    assert_eq!(shown["status"], "deactivated");
    assert!(shown.get("stores").is_none());

    let file = format!("/v2/images/{id}/file");
    let member = api
        .owner(reqwest::Method::GET, &file)
        .send()
        .await
        .expect("sent");
    assert_eq!(member.status(), StatusCode::FORBIDDEN);
    let admin = api
        .req(
            Who::new("admin,member,reader", "p"),
            reqwest::Method::GET,
            &file,
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(admin.status(), StatusCode::OK);
    assert_eq!(admin.bytes().await.expect("body").to_vec(), data(10));

    let reactivate = api
        .owner(
            reqwest::Method::POST,
            &format!("/v2/images/{id}/actions/reactivate"),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(reactivate.status(), StatusCode::NO_CONTENT);
    assert_eq!(api.show(&id).await["stores"], "fast");
}

#[tokio::test]
async fn an_image_deleted_during_its_upload_is_gone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let api = Api::with(on_disk(dir.path())).await;
    let id = api.create_format("raw").await;
    let payload = data(100_000);

    let mut conn = tokio::net::TcpStream::connect(api.server().addr())
        .await
        .expect("connected");
    let head = format!(
        "PUT /v2/images/{id}/file HTTP/1.1\r\nHost: mock\r\nX-Identity-Status: Confirmed\r\n\
         X-Roles: member,reader\r\nX-Project-Id: p\r\nX-User-Id: u\r\nX-Auth-Token: t\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    );
    conn.write_all(head.as_bytes()).await.expect("head sent");
    conn.write_all(&payload[..50_000]).await.expect("half sent");
    for _ in 0..100 {
        if api.show(&id).await["status"] == "saving" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let deleted = api
        .owner(reqwest::Method::DELETE, &format!("/v2/images/{id}"))
        .send()
        .await
        .expect("deleted");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    conn.write_all(&payload[50_000..]).await.expect("rest sent");
    let mut answer = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut conn, &mut answer)
        .await
        .expect("answer read");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 410"), "{answer}");
    assert!(answer.contains(&format!(
        "Image {id} could not be found after upload. The image may have been deleted during the upload, cleaning up the chunks uploaded."
    )));
    assert!(files_in(dir.path()).is_empty());
}
