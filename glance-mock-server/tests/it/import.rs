//! Interoperable import over HTTP: stage then glance-direct, web-download
//! from a local server, copy-image to a second store, failures, the task
//! records each import leaves, and manual task progression. Expected
//! answers are those of Glance 33.

use std::net::SocketAddr;
use std::time::Duration;

use glance_mock_server::{Config, TaskProgression};
use md5::{Digest, Md5};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use sha2::Sha512;

use crate::harness::http::{Api, data};

async fn stage_data(api: &Api, id: &str, data: Vec<u8>) -> StatusCode {
    api.owner(Method::PUT, &format!("/v2/images/{id}/stage"))
        .header("Content-Type", "application/octet-stream")
        .body(data)
        .send()
        .await
        .expect("sent")
        .status()
}

async fn import_as(who: RequestBuilder, body: Value) -> (StatusCode, String) {
    let resp = who.json(&body).send().await.expect("sent");
    let status = resp.status();
    (status, resp.text().await.unwrap_or_default())
}

/// The image once `field` is one of `values` (or after 10 s).
async fn wait_for(api: &Api, id: &str, field: &str, values: &[&str]) -> Value {
    for _ in 0..200 {
        let img = api.show(id).await;
        if values.iter().any(|v| img[field] == *v) {
            return img;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    api.show(id).await
}

async fn tasks(api: &Api, id: &str) -> Vec<Value> {
    let body: Value = api
        .owner(Method::GET, &format!("/v2/images/{id}/tasks"))
        .send()
        .await
        .expect("listed")
        .json()
        .await
        .expect("json");
    body["tasks"].as_array().cloned().unwrap_or_default()
}

async fn download(api: &Api, id: &str) -> Vec<u8> {
    let resp = api
        .owner(Method::GET, &format!("/v2/images/{id}/file"))
        .send()
        .await
        .expect("downloaded");
    assert_eq!(resp.status(), StatusCode::OK);
    resp.bytes().await.expect("bytes").to_vec()
}

fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

fn sha512_hex(data: &[u8]) -> String {
    hex::encode(Sha512::digest(data))
}

/// A file server on 127.0.0.1:0 serving `/image.raw`; anything else is 404.
async fn file_server(body: Vec<u8>) -> SocketAddr {
    use axum::routing::get;
    let app = axum::Router::new().route("/image.raw", get(move || async move { body.clone() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

#[tokio::test]
async fn stage_then_glance_direct_makes_the_image_active() {
    let api = Api::with(Config::default()).await;
    let id = api.create_format("raw").await;
    let bytes = data(100_000);
    assert_eq!(
        stage_data(&api, &id, bytes.clone()).await,
        StatusCode::NO_CONTENT
    );
    let staged = api.show(&id).await;
    assert_eq!(staged["status"], "uploading");
    assert_eq!(staged["size"], 100_000);
    assert!(staged["checksum"].is_null() && staged["virtual_size"].is_null());
    // Staged data is in no configured store yet.
    assert!(!api.server().state().store.holds("fast", &id).await);
    assert_eq!(
        stage_data(&api, &id, bytes.clone()).await,
        StatusCode::CONFLICT
    );

    let path = format!("/v2/images/{id}/import");
    let (status, body) = import_as(
        api.owner(Method::POST, &path),
        json!({"method": {"name": "glance-direct"}}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(body.is_empty());
    let img = wait_for(&api, &id, "status", &["active"]).await;
    assert_eq!(img["checksum"], md5_hex(&bytes));
    assert_eq!(img["os_hash_algo"], "sha512");
    assert_eq!(img["os_hash_value"], sha512_hex(&bytes));
    assert_eq!(img["virtual_size"], 100_000);
    assert_eq!(img["stores"], "fast");
    assert_eq!(img["os_glance_importing_to_stores"], "");
    assert_eq!(img["os_glance_failed_import"], "");
    assert!(img.get("os_glance_import_task").is_none());
    assert_eq!(download(&api, &id).await, bytes);

    let tasks = tasks(&api, &id).await;
    assert_eq!(tasks.len(), 1);
    let task = &tasks[0];
    assert_eq!(task["type"], "api_image_import");
    assert_eq!(task["status"], "success");
    assert_eq!(task["message"], "Copied 0 MiB");
    assert_eq!(task["user_id"], "p-user");
    assert_eq!(task["input"]["backend"], json!(["fast"]));
    assert_eq!(task["result"], json!({"image_id": id}));
    assert!(
        task["request_id"]
            .as_str()
            .is_some_and(|r| r.starts_with("req-"))
    );
    // Microseconds and no zone, unlike the rest of the API.
    let created = task["created_at"].as_str().expect("created_at");
    assert!(!created.ends_with('Z') && created.len() >= 19, "{created}");

    let (status, body) = import_as(
        api.owner(Method::POST, &path),
        json!({"method": {"name": "glance-direct"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("Image with status active cannot be target for import"));
}

#[tokio::test]
async fn web_download_fetches_a_file_the_mock_serves() {
    let api = Api::with(Config::default()).await;
    let bytes = data(3000);
    let uri = api
        .server()
        .put_file("image.raw", bytes.clone())
        .expect("a valid name");
    let id = api.create_format("raw").await;
    let path = format!("/v2/images/{id}/import");
    let (status, body) = import_as(
        api.owner(Method::POST, &path),
        json!({"method": {"name": "web-download", "uri": uri},
                   "stores": ["cheap", "fast"]}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let img = wait_for(&api, &id, "status", &["active"]).await;
    assert_eq!(img["stores"], "cheap,fast");
    assert_eq!(img["os_hash_value"], sha512_hex(&bytes));
    assert_eq!(download(&api, &id).await, bytes);
    assert!(api.server().state().store.holds("cheap", &id).await);
    let task = &tasks(&api, &id).await[0];
    assert_eq!(
        task["input"]["import_req"]["method"]["name"],
        "web-download"
    );

    // URIs the import filter refuses never become tasks.
    let other = api.create_format("raw").await;
    let (status, body) = import_as(
        api.owner(Method::POST, &format!("/v2/images/{other}/import")),
        json!({"method": {"name": "web-download", "uri": "file:///etc/passwd"}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("URI for web-download does not pass filtering: file:///etc/passwd"));
    assert!(tasks(&api, &other).await.is_empty());
}

/// An import started while the image's data is still being staged: the
/// import is accepted (the image is `uploading`), but when the stage ends
/// it fails (Glance: an unhandled conflict, 500; the mock's 409 unless
/// `glance_server_errors`) and the image is back to `queued`, without the
/// import's properties, nothing staged: as on Glance 33, where the sequence
/// was probed. Staging again then works.
#[tokio::test]
async fn an_import_during_a_stage_fails_the_stage_and_queues_the_image_again() {
    for (crash, manual, delay) in [
        (false, false, 0),
        (true, false, 0),
        (false, true, 0),
        (false, false, 300),
    ] {
        let mut config = Config {
            glance_server_errors: crash,
            ..Config::default()
        };
        // The import's task still running (in its delay) when the stage ends.
        config.tasks.import_delay_ms = delay;
        if manual {
            // The import has not started when the stage ends: the image is
            // still `uploading`, so the stage completes and the import,
            // run later, takes the whole data.
            config.tasks.progression = TaskProgression::Manual;
        }
        let api = Api::with(config).await;
        let id = api.create_format("raw").await;
        let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Vec<u8>, std::io::Error>>();
        tx.unbounded_send(Ok(data(64 * 1024))).expect("sent");
        let stage = api
            .owner(Method::PUT, &format!("/v2/images/{id}/stage"))
            .header("Content-Type", "application/octet-stream")
            .body(reqwest::Body::wrap_stream(rx))
            .send();
        let stage = tokio::spawn(stage);
        wait_for(&api, &id, "status", &["uploading"]).await;
        let (status, body) = import_as(
            api.owner(Method::POST, &format!("/v2/images/{id}/import")),
            json!({"method": {"name": "glance-direct"}}),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        tx.unbounded_send(Ok(data(64 * 1024))).expect("sent");
        drop(tx);
        let resp = stage.await.expect("joined").expect("answered");
        if manual {
            assert_eq!(resp.status(), StatusCode::NO_CONTENT);
            api.server().finish_tasks().await;
            let img = wait_for(&api, &id, "status", &["active"]).await;
            assert_eq!(img["size"], 128 * 1024, "{img}");
            continue;
        }
        let want = if crash {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::CONFLICT
        };
        assert_eq!(resp.status(), want);
        let img = wait_for(&api, &id, "status", &["queued"]).await;
        for gone in [
            "os_glance_import_task",
            "os_glance_importing_to_stores",
            "os_glance_failed_import",
        ] {
            assert!(img.get(gone).is_none(), "{gone}: {img}");
        }
        assert!(img["size"].is_null() && img["checksum"].is_null(), "{img}");
        assert!(
            api.server().state().staging.get_size(&id).await.is_err(),
            "nothing stays staged"
        );
        if delay > 0 {
            // The task, once its delay is over, finds nothing staged.
            tokio::time::sleep(Duration::from_millis(2 * delay)).await;
            let img = api.show(&id).await;
            assert_eq!(img["status"], "queued", "{img}");
            assert_eq!(tasks(&api, &id).await[0]["status"], "failure");
        }
        // The image is usable again: stage, import, active.
        assert_eq!(
            stage_data(&api, &id, data(5000)).await,
            StatusCode::NO_CONTENT
        );
        let (status, body) = import_as(
            api.owner(Method::POST, &format!("/v2/images/{id}/import")),
            json!({"method": {"name": "glance-direct"}}),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let img = wait_for(&api, &id, "status", &["active"]).await;
        assert_eq!(img["size"], 5000, "{img}");
    }
}

/// Glance's filter refuses loopback: an image member may not make the mock
/// fetch from other services on its host, or from the mock's own control
/// plane. Only the mock's served files pass, unless loopback is allowed.
#[tokio::test]
async fn loopback_sources_are_refused_but_the_mocks_own_files() {
    let api = Api::with(Config::default()).await;
    let bytes = data(700);
    let other = file_server(bytes.clone()).await;
    api.server()
        .put_file("disk.raw", bytes.clone())
        .expect("a valid name");
    let base = api.server().url();
    let port = api.server().addr().port();
    let refused = [
        format!("http://{other}/image.raw"),
        format!("{base}/_mock/state?data=inline"),
        format!("{base}/_mock/files"),
        format!("{base}/_mock/files/"),
        format!("{base}/_mock/files/../state"),
        format!("{base}/_mock/files/%2e%2e/state"),
        format!("{base}/_mock/files/disk.raw/more"),
        format!("{base}/v2/images"),
        format!("http://{other}/_mock/files/disk.raw"),
        format!("https://127.0.0.1:{}/_mock/files/disk.raw", port + 1),
    ];
    for uri in refused {
        let id = api.create_format("raw").await;
        let (status, body) = import_as(
            api.owner(Method::POST, &format!("/v2/images/{id}/import")),
            json!({"method": {"name": "web-download", "uri": uri}}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(body.contains("does not pass filtering"), "{uri}: {body}");
        let resp = api
            .admin(Method::POST, "/v2/tasks")
            .json(&json!({"type": "import", "input": {"import_from": uri,
                "import_from_format": "raw", "image_properties": {}}}))
            .send()
            .await
            .expect("sent");
        assert_eq!(
            resp.status(),
            StatusCode::BAD_REQUEST,
            "legacy task from {uri}"
        );
    }
    for uri in [
        format!("{base}/_mock/files/disk.raw"),
        format!("http://localhost:{port}/_mock/files/disk.raw"),
        format!("{base}/_mock/files/./disk.raw"),
    ] {
        let id = api.create_format("raw").await;
        let (status, body) = import_as(
            api.owner(Method::POST, &format!("/v2/images/{id}/import")),
            json!({"method": {"name": "web-download", "uri": uri}}),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{uri}: {body}");
        let img = wait_for(&api, &id, "status", &["active"]).await;
        assert_eq!(img["checksum"], md5_hex(&bytes), "{uri}");
    }

    // The opt-in: any loopback port.
    let mut config = Config::default();
    config.tasks.import_filtering.allow_loopback = true;
    let api = Api::with(config).await;
    let id = api.create_format("raw").await;
    let (status, body) = import_as(
        api.owner(Method::POST, &format!("/v2/images/{id}/import")),
        json!({"method": {"name": "web-download", "uri": format!("http://{other}/image.raw")}}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let img = wait_for(&api, &id, "status", &["active"]).await;
    assert_eq!(img["checksum"], md5_hex(&bytes));
}

#[tokio::test]
async fn served_files_are_put_read_listed_and_removed_over_http() {
    let api = Api::with(Config::default()).await;
    let http = Client::new();
    let url = format!("{}/_mock/files/a.img", api.server().url());
    let resp = http
        .put(&url)
        .body(vec![7u8; 10])
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body, json!({"name": "a.img", "size": 10, "url": url}));
    let resp = http
        .put(&url)
        .body(vec![8u8; 3])
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK, "replaced");
    let resp = http.get(&url).send().await.expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert_eq!(resp.bytes().await.expect("body").as_ref(), &[8u8; 3]);
    let resp = http.head(&url).send().await.expect("sent");
    assert_eq!(resp.headers()["content-length"], "3");
    let list: Value = http
        .get(format!("{}/_mock/files", api.server().url()))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(list, json!({"files": [{"name": "a.img", "size": 3}]}));
    // (The client resolves `..` and `%2e%2e` itself: they never arrive.)
    for bad in ["a%20b", "a%2Fb", "%C3%A9"] {
        let resp = http
            .put(format!("{}/_mock/files/{bad}", api.server().url()))
            .body("x")
            .send()
            .await
            .expect("sent");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    api.server().reset().await.expect("reset");
    assert_eq!(
        http.get(&url).send().await.expect("sent").status(),
        StatusCode::NOT_FOUND
    );
    api.server().put_file("a.img", vec![1u8]).expect("put");
    let resp = http.delete(&url).send().await.expect("sent");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = http.delete(&url).send().await.expect("sent");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn failed_imports_are_recorded_on_the_image_and_the_task() {
    let api = Api::with(Config::default()).await;
    let missing = api.server().file_url("missing");

    // A download that fails puts the image back to queued.
    let id = api.create_format("raw").await;
    let (status, _) = import_as(
        api.owner(Method::POST, &format!("/v2/images/{id}/import")),
        json!({"method": {"name": "web-download", "uri": missing},
                   "all_stores": true}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let img = wait_for(&api, &id, "os_glance_failed_import", &["cheap,fast"]).await;
    assert_eq!(img["status"], "queued");
    assert_eq!(img["os_glance_importing_to_stores"], "");
    assert!(img.get("os_glance_import_task").is_none());
    let task = &tasks(&api, &id).await[0];
    assert_eq!(task["status"], "failure");
    assert_eq!(task["message"], "Task failed due to Internal Error");
    assert!(task["result"].is_null());

    // Staged data that is not the disk format: Glance leaves the image importing.
    let id = api.create_format("qcow2").await;
    assert_eq!(
        stage_data(&api, &id, b"not a qcow2 image".to_vec()).await,
        StatusCode::NO_CONTENT
    );
    let path = format!("/v2/images/{id}/import");
    let (status, _) = import_as(
        api.owner(Method::POST, &path),
        json!({"method": {"name": "glance-direct"}}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let img = wait_for(&api, &id, "os_glance_failed_import", &["fast"]).await;
    assert_eq!(img["status"], "importing");
    assert!(img["checksum"].is_null());
    assert!(!api.server().state().store.holds("fast", &id).await);
    let (status, body) = import_as(
        api.owner(Method::POST, &path),
        json!({"method": {"name": "glance-direct"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("Image needs to be staged before 'glance-direct' method can be used"));
}

#[tokio::test]
async fn copy_image_adds_a_store_and_stores_can_be_dropped_again() {
    let api = Api::with(Config::default()).await;
    let id = api.create_format("raw").await;
    let bytes = data(5000);
    assert_eq!(
        stage_data(&api, &id, bytes.clone()).await,
        StatusCode::NO_CONTENT
    );
    let path = format!("/v2/images/{id}/import");
    import_as(
        api.owner(Method::POST, &path),
        json!({"method": {"name": "glance-direct"}}),
    )
    .await;
    wait_for(&api, &id, "status", &["active"]).await;

    // copy_image is the admin's.
    let copy = json!({"method": {"name": "copy-image"}, "stores": ["cheap"]});
    let (status, body) = import_as(api.owner(Method::POST, &path), copy.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("You are not authorized to complete copy_image action."));
    let (status, _) = import_as(api.admin(Method::POST, &path), copy.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let img = wait_for(&api, &id, "stores", &["fast,cheap"]).await;
    assert_eq!(img["status"], "active");
    assert_eq!(img["os_hash_value"], sha512_hex(&bytes));
    assert!(img.get("os_glance_import_task").is_none());
    assert!(api.server().state().store.holds("cheap", &id).await);
    let (status, body) = import_as(api.admin(Method::POST, &path), copy).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("Image is already present at store 'cheap'"));
    // The copy's task belongs to the admin's project: the owner does not see it.
    assert_eq!(tasks(&api, &id).await.len(), 1);

    let drop_from = |store: &str| api.admin(Method::DELETE, &format!("/v2/stores/{store}/{id}"));
    assert_eq!(
        drop_from("fast").send().await.expect("sent").status(),
        StatusCode::NO_CONTENT
    );
    assert!(!api.server().state().store.holds("fast", &id).await);
    assert_eq!(api.show(&id).await["stores"], "cheap");
    assert_eq!(download(&api, &id).await, bytes);
    let resp = drop_from("cheap").send().await.expect("sent");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = drop_from("nowhere").send().await.expect("sent");
    assert_eq!(resp.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn manual_progression_moves_imports_one_step_at_a_time() {
    let mut config = Config::default();
    config.tasks.progression = TaskProgression::Manual;
    let api = Api::with(config).await;
    let id = api.create_format("raw").await;
    assert_eq!(
        stage_data(&api, &id, data(10)).await,
        StatusCode::NO_CONTENT
    );
    import_as(
        api.owner(Method::POST, &format!("/v2/images/{id}/import")),
        json!({"method": {"name": "glance-direct"}}),
    )
    .await;

    let img = api.show(&id).await;
    assert_eq!(img["status"], "uploading");
    let task_id = img["os_glance_import_task"]
        .as_str()
        .expect("locked")
        .to_owned();
    assert_eq!(tasks(&api, &id).await[0]["status"], "pending");

    assert_eq!(api.server().advance_tasks().await, 1);
    let img = api.show(&id).await;
    assert_eq!(img["status"], "importing");
    assert_eq!(img["os_glance_importing_to_stores"], "fast");
    assert_eq!(tasks(&api, &id).await[0]["status"], "processing");

    assert_eq!(api.server().advance_tasks().await, 1);
    let img = api.show(&id).await;
    assert_eq!(img["status"], "active");
    assert!(img.get("os_glance_import_task").is_none());
    let task = &tasks(&api, &id).await[0];
    assert_eq!(
        (task["id"].as_str(), &task["status"]),
        (Some(task_id.as_str()), &json!("success"))
    );
    assert_eq!(api.server().advance_tasks().await, 0);

    // The admin's tasks API shows it too, in Glance's own formats.
    let one: Value = api
        .admin(Method::GET, &format!("/v2/tasks/{task_id}"))
        .send()
        .await
        .expect("shown")
        .json()
        .await
        .expect("json");
    assert_eq!(one["self"], format!("/v2/tasks/{task_id}"));
    assert!(one["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    let resp = api
        .owner(Method::GET, "/v2/tasks")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_import_delay_shows_the_image_importing() {
    let mut config = Config::default();
    config.tasks.import_delay_ms = 300;
    let api = Api::with(config).await;
    let id = api.create_format("raw").await;
    assert_eq!(
        stage_data(&api, &id, data(10)).await,
        StatusCode::NO_CONTENT
    );
    import_as(
        api.owner(Method::POST, &format!("/v2/images/{id}/import")),
        json!({"method": {"name": "glance-direct"}}),
    )
    .await;
    let img = wait_for(&api, &id, "status", &["importing"]).await;
    assert_eq!(img["status"], "importing");
    // Another import meanwhile finds the image busy.
    let (status, body) = import_as(
        api.owner(Method::POST, &format!("/v2/images/{id}/import")),
        json!({"method": {"name": "glance-direct"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let img = wait_for(&api, &id, "status", &["active"]).await;
    assert_eq!(img["status"], "active");
}

#[tokio::test]
async fn glance_download_copies_a_remote_glances_image() {
    let remote = Api::with(Config::default()).await;
    let remote_id = remote.create_format("raw").await;
    let bytes = data(4096);
    let resp = remote
        .owner(Method::PATCH, &format!("/v2/images/{remote_id}"))
        .header(
            "Content-Type",
            "application/openstack-images-v2.1-json-patch",
        )
        .json(&json!([
            {"op": "add", "path": "/hw_disk_bus", "value": "scsi"},
            {"op": "add", "path": "/os_distro", "value": "cirros"},
            {"op": "add", "path": "/unrelated", "value": "x"}
        ]))
        .send()
        .await
        .expect("patched");
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = remote
        .owner(Method::PUT, &format!("/v2/images/{remote_id}/file"))
        .header("Content-Type", "application/octet-stream")
        .body(bytes.clone())
        .send()
        .await
        .expect("uploaded");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let mut config = Config::default();
    config.import_methods.push("glance-download".into());
    config.tasks.glance_download_endpoint = Some(remote.server().url());
    // The remote is on loopback, which the import filter refuses by default.
    config.tasks.import_filtering.allow_loopback = true;
    let api = Api::with(config).await;
    let id = api.create_format("raw").await;
    let path = format!("/v2/images/{id}/import");
    let (status, body) = import_as(
        api.owner(Method::POST, &path),
        json!({"method": {"name": "glance-download", "glance_region": "RegionTwo"}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("'glance_image_id' needs to be set for glance-download import method"));
    let (status, body) = import_as(
        api.owner(Method::POST, &path),
        json!({"method": {"name": "glance-download", "glance_region": "RegionTwo",
                              "glance_image_id": remote_id}}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let img = wait_for(&api, &id, "status", &["active"]).await;
    assert_eq!(img["os_hash_value"], sha512_hex(&bytes));
    assert_eq!(img["hw_disk_bus"], "scsi");
    assert_eq!(img["os_distro"], "cirros");
    assert!(img.get("unrelated").is_none());
    let task = &tasks(&api, &id).await[0];
    assert_eq!(
        task["input"]["import_req"]["method"]["glance_service_interface"],
        "public"
    );
}

#[tokio::test]
async fn legacy_import_tasks_create_an_image_without_owner() {
    let api = Api::with(Config::default()).await;
    let bytes = data(2000);
    let uri = api
        .server()
        .put_file("image.raw", bytes.clone())
        .expect("a valid name");
    let create = |input: Value| {
        api.admin(Method::POST, "/v2/tasks")
            .json(&json!({"type": "import", "input": input}))
    };
    let resp = create(json!({"import_from": "file:///etc/passwd"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = create(json!({
        "import_from": uri,
        "import_from_format": "raw",
        "image_properties": {"name": "legacy", "disk_format": "raw", "container_format": "bare"}
    }))
    .send()
    .await
    .expect("sent");
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert!(resp.headers().contains_key("location"));
    let task: Value = resp.json().await.expect("json");
    assert_eq!(task["status"], "pending");
    let path = format!("/v2/tasks/{}", task["id"].as_str().expect("id"));
    let mut done = Value::Null;
    for _ in 0..200 {
        done = api
            .admin(Method::GET, &path)
            .send()
            .await
            .expect("shown")
            .json()
            .await
            .expect("json");
        if done["status"] == "success" || done["status"] == "failure" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(done["status"], "success", "{done}");
    let image_id = done["result"]["image_id"].as_str().expect("image id");
    let img: Value = api
        .admin(Method::GET, &format!("/v2/images/{image_id}"))
        .send()
        .await
        .expect("shown")
        .json()
        .await
        .expect("json");
    assert_eq!(img["status"], "active");
    assert_eq!(img["name"], "legacy");
    assert!(img["owner"].is_null());
    assert_eq!(img["checksum"], md5_hex(&bytes));
    let resp = api.admin(Method::DELETE, &path).send().await.expect("sent");
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.headers()["allow"], "GET");
}
