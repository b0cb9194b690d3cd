//! Several API nodes on one state: on one `--data-dir` (one SQLite file),
//! or holding no database and asking one registry node
//! (`glance-mock-server registry`, `--registry URL`). Either way, what one
//! node does the others see, races between nodes have one winner, tokens
//! work on every node; a registry node that goes away makes the API nodes
//! answer 503 until it is back.

#![cfg(feature = "sqlite")]

use std::ffi::OsStr;
use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::durable::{P1_ADMIN, data, files, login, sha512, slow_body, token_valid};
use crate::harness::http::Api;
use crate::harness::process::{Killed, spawn_binary, spawn_listening};

/// Two processes on one `--data-dir` serve one state.
#[tokio::test]
async fn two_nodes_on_one_folder_serve_one_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let (_a, url_a) = spawn_binary([OsStr::new("--data-dir"), data_dir.as_os_str()]);
    let (_b, url_b) = spawn_binary([OsStr::new("--data-dir"), data_dir.as_os_str()]);
    one_state_through_two_nodes(&url_a, &url_b).await;
}

/// A registry node on `bind` keeping its records in `dir`.
fn registry(bind: &str, dir: &Path) -> (Killed, String) {
    spawn_listening([
        OsStr::new("registry"),
        OsStr::new("--bind"),
        OsStr::new(bind),
        OsStr::new("--data-dir"),
        dir.as_os_str(),
    ])
}

/// An API node asking the registry at `url`, its stores in `stores`.
fn api_node(url: &str, stores: &Path) -> (Killed, String) {
    spawn_binary([
        OsStr::new("--registry"),
        OsStr::new(url),
        OsStr::new("--data-dir"),
        stores.as_os_str(),
    ])
}

#[tokio::test]
async fn a_registry_and_two_api_nodes_serve_one_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (db, stores) = (dir.path().join("registry"), dir.path().join("stores"));
    let (_registry, registry_url) = registry("127.0.0.1:0", &db);
    let (_a, url_a) = api_node(&registry_url, &stores);
    let (_b, url_b) = api_node(&registry_url, &stores);
    one_state_through_two_nodes(&url_a, &url_b).await;
    // The API nodes hold no database; the registry does.
    assert!(!stores.join("glance-mock.sqlite").exists());
    assert!(db.join("glance-mock.sqlite").exists());
}

#[tokio::test]
async fn api_nodes_outlive_each_other_and_wait_out_the_registry() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (db, stores) = (dir.path().join("registry"), dir.path().join("stores"));
    let (registry_node, registry_url) = registry("127.0.0.1:0", &db);
    let (a_node, url_a) = api_node(&registry_url, &stores);
    let (_b, url_b) = api_node(&registry_url, &stores);
    let (a, b) = (
        Api::remote(url_a).acting_as(P1_ADMIN),
        Api::remote(url_b).acting_as(P1_ADMIN),
    );
    let id = a
        .create(json!({"name": "kept", "disk_format": "raw", "container_format": "bare"}))
        .await;
    let bytes = data(7, 100_000);
    a.put_data(&id, "file", bytes.clone()).await;

    // One API node dies; the other serves the same state.
    drop(a_node);
    assert_eq!(b.show(&id).await["status"], "active");
    assert_eq!(sha512(&b.download(&id).await.body), sha512(&bytes));

    // The registry goes: a Glance-shaped 503, for reads and writes alike.
    drop(registry_node);
    let show = b.owner(Method::GET, &format!("/v2/images/{id}"));
    let resp = show.send().await.expect("sent");
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let text = resp.text().await.expect("a body");
    assert!(text.contains("503 Service Unavailable"), "{text}");
    for req in [
        b.owner(Method::GET, "/v2/images"),
        b.owner(Method::POST, "/v2/images")
            .json(&json!({"name": "x"})),
        b.owner(Method::DELETE, &format!("/v2/images/{id}")),
    ] {
        assert_eq!(b.status(req).await, StatusCode::SERVICE_UNAVAILABLE);
    }

    // It comes back on its address: so does the service, state intact.
    let address = registry_url.trim_start_matches("http://");
    let (_registry, _) = registry(address, &db);
    assert_eq!(b.show(&id).await["name"], "kept");
    assert_eq!(sha512(&b.download(&id).await.body), sha512(&bytes));
}

#[tokio::test]
async fn the_registry_lost_mid_upload_leaves_no_bytes_behind() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (db, stores) = (dir.path().join("registry"), dir.path().join("stores"));
    let (registry_node, registry_url) = registry("127.0.0.1:0", &db);
    let (_node, url) = api_node(&registry_url, &stores);
    let api = Api::remote(url).acting_as(P1_ADMIN);
    let id = api
        .create(json!({"name": "cut", "disk_format": "raw", "container_format": "bare"}))
        .await;
    let (feed, body) = slow_body();
    let put = api
        .owner(Method::PUT, &format!("/v2/images/{id}/file"))
        .header("Content-Type", "application/octet-stream")
        .body(body);
    let put = tokio::spawn(async move { put.send().await.expect("sent").status() });
    let bytes = data(3, 2 << 20);
    feed.send(bytes[..1 << 20].to_vec().into())
        .await
        .expect("fed");
    // The first half is in the store's temporary file, the record saving.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(registry_node);
    feed.send(bytes[1 << 20..].to_vec().into())
        .await
        .expect("fed");
    drop(feed);
    assert_eq!(put.await.expect("joined"), StatusCode::SERVICE_UNAVAILABLE);
    let left: Vec<String> = files(&stores)
        .into_iter()
        .filter(|f| f.contains(&id))
        .collect();
    assert!(left.is_empty(), "bytes of the failed upload stay: {left:?}");
}

#[tokio::test]
async fn a_token_from_another_node_waits_out_the_registry_too() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (db, stores) = (dir.path().join("registry"), dir.path().join("stores"));
    let (registry_node, registry_url) = registry("127.0.0.1:0", &db);
    let node = |url: &str| {
        spawn_binary([
            OsStr::new("--require-auth"),
            OsStr::new("--registry"),
            OsStr::new(url),
            OsStr::new("--data-dir"),
            stores.as_os_str(),
        ])
    };
    let (_a, url_a) = node(&registry_url);
    let (_b, url_b) = node(&registry_url);
    let (a, b) = (Api::remote(url_a), Api::remote(url_b));
    let token = login(&a, "admin", "admin-secret", "admin").await;
    let list = |api: &Api, token: &str| {
        api.http
            .get(format!("{}/v2/images", api.base))
            .header("X-Auth-Token", token)
    };
    // Node b never saw the token, and cannot ask: 503, not 401.
    drop(registry_node);
    assert_eq!(
        b.status(list(&b, &token)).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let address = registry_url.trim_start_matches("http://");
    let (_registry, _) = registry(address, &db);
    assert_eq!(b.status(list(&b, &token)).await, StatusCode::OK);
    // A token no node issued is refused as before.
    assert_eq!(
        b.status(list(&b, "no-such-token")).await,
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn a_registry_url_that_is_not_plain_http_is_refused_with_a_line() {
    for url in ["https://127.0.0.1:9191", "127.0.0.1:9191", "http://"] {
        let out = crate::harness::process::binary()
            .args(["--bind", "127.0.0.1:0", "--registry", url])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{url}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("glance-mock-server: --registry") && err.lines().count() == 1,
            "{url}: {err}"
        );
    }
}

/// What one of `url_a` and `url_b` does, the other sees.
async fn one_state_through_two_nodes(url_a: &str, url_b: &str) {
    let (a, b) = (
        Api::remote(url_a.to_owned()).acting_as(P1_ADMIN),
        Api::remote(url_b.to_owned()).acting_as(P1_ADMIN),
    );

    // Created through one, read, listed, changed, downloaded and deleted
    // through the other.
    let id = a
        .create(json!({"name": "shared", "disk_format": "raw", "container_format": "bare"}))
        .await;
    assert_eq!(b.show(&id).await["name"], "shared");
    let list = b
        .expect_json(b.owner(Method::GET, "/v2/images"), StatusCode::OK)
        .await;
    assert_eq!(list["images"][0]["id"], id.as_str());
    b.expect_json(
        b.owner(Method::PATCH, &format!("/v2/images/{id}"))
            .header(
                "Content-Type",
                "application/openstack-images-v2.1-json-patch",
            )
            .body(r#"[{"op": "replace", "path": "/name", "value": "renamed"}]"#),
        StatusCode::OK,
    )
    .await;
    assert_eq!(a.show(&id).await["name"], "renamed");
    let bytes = data(20, 300_000);
    a.put_data(&id, "file", bytes.clone()).await;
    let got = b.download(&id).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(sha512(&got.body), sha512(&bytes));
    assert_eq!(
        b.status(b.owner(Method::DELETE, &format!("/v2/images/{id}")))
            .await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        a.status(a.owner(Method::GET, &format!("/v2/images/{id}")))
            .await,
        StatusCode::NOT_FOUND
    );

    // Concurrent uploads to one image through both: one winner.
    let id = a
        .create(json!({"name": "race", "disk_format": "raw", "container_format": "bare"}))
        .await;
    let mut uploads = Vec::new();
    for i in 0..6u64 {
        let api = if i % 2 == 0 { &a } else { &b };
        let rb = api
            .owner(Method::PUT, &format!("/v2/images/{id}/file"))
            .header("Content-Type", "application/octet-stream")
            .body(data(100 + i, 2 << 20));
        uploads.push(async move { rb.send().await.expect("sent").status() });
    }
    let mut statuses: Vec<u16> = futures::future::join_all(uploads)
        .await
        .iter()
        .map(|s| s.as_u16())
        .collect();
    statuses.sort();
    assert_eq!(statuses, [204, 409, 409, 409, 409, 409]);
    assert_eq!(b.show(&id).await["status"], "active");

    // A token issued by one node works on the other; a user made on one
    // logs in on the other.
    let token = login(&a, "demo", "demo-secret", "demo").await;
    assert!(token_valid(&b, &token).await);
    let admin = login(&b, "admin", "admin-secret", "admin").await;
    let status = b
        .http
        .post(format!("{}/identity/v3/users", b.base))
        .header("X-Auth-Token", &admin)
        .json(
            &json!({"user": {"name": "node-user", "password": "pw", "domain_id": "default",
            "default_project_id": "demo"}}),
        )
        .send()
        .await
        .expect("sent")
        .status();
    assert_eq!(status, StatusCode::CREATED);
    let resp = a
        .http
        .post(format!("{}/identity/v3/auth/tokens", a.base))
        .json(
            &json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "node-user", "domain": {"id": "default"}, "password": "pw"}}}}}),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::CREATED);

    // A reset through one empties the state both serve.
    let status = a
        .status(a.http.post(format!("{}/_mock/reset", a.base)))
        .await;
    assert!(status.is_success(), "{status}");
    let list = b
        .expect_json(b.owner(Method::GET, "/v2/images"), StatusCode::OK)
        .await;
    assert_eq!(list["images"], json!([]));
}
