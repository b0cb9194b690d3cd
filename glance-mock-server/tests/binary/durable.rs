//! `--data-dir`: the whole state survives the process being killed
//! (`kill -9`) at any moment, and comes back on a restart without a seed.
//!
//! Each test fills a mock (20 images with properties, tags, members, some
//! uploaded, one staged, one imported, a metadef namespace, a user made
//! through the shim's admin API and tokens), starts a slow upload and a
//! slow stage, kills the process at one moment of the transfer, restarts
//! it on the same folder and checks: every acknowledged record and byte is
//! back (the state dump, sha512 of each download), the interrupted images
//! are as Glance 33 leaves them (`saving` / `uploading`, no data, 204 on
//! download) and can be deleted, and no temporary file or orphan file is
//! left.

#![cfg(feature = "sqlite")]

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha512};
use tokio::sync::mpsc;

use crate::harness::http::{Api, Who};
use crate::harness::process::{Killed, binary, spawn_binary};

/// Who the tests act as: an admin of project `p1`.
pub(crate) const P1_ADMIN: Who = Who::new("admin,member,reader", "p1");

/// The binary on a free port with `--data-dir dir`; its URL once it
/// listens. Killed when the first value is dropped (a failing test too).
fn spawn(dir: &Path) -> (Killed, String) {
    spawn_binary([OsStr::new("--data-dir"), dir.as_os_str()])
}

/// A password token of `user`, scoped to `project`.
pub(crate) async fn login(api: &Api, user: &str, password: &str, project: &str) -> String {
    let body = json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}});
    let resp = api
        .http
        .post(format!("{}/identity/v3/auth/tokens", api.base))
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::CREATED, "token of {user}");
    resp.headers()["x-subject-token"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

pub(crate) async fn token_valid(api: &Api, token: &str) -> bool {
    api.http
        .get(format!("{}/identity/v3/auth/tokens", api.base))
        .header("X-Auth-Token", token)
        .header("X-Subject-Token", token)
        .send()
        .await
        .expect("sent")
        .status()
        == StatusCode::OK
}

async fn wait_for_status(api: &Api, id: &str, want: &str) {
    for _ in 0..500 {
        if api.show(id).await["status"] == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("image {id} never became {want}");
}

pub(crate) fn data(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..len).map(|_| rng.u8(..)).collect()
}

pub(crate) fn sha512(data: &[u8]) -> String {
    hex::encode(Sha512::digest(data))
}

/// What was acknowledged before the kill.
struct Filled {
    /// Uploaded images and the sha512 of their bytes.
    uploaded: Vec<(String, String)>,
    /// The state dump.
    dump: Value,
    /// A token issued before the kill.
    token: String,
}

async fn fill(api: &Api) -> Filled {
    let mut uploaded = Vec::new();
    for i in 0..20u64 {
        let visibility = if i % 4 == 0 { "shared" } else { "private" };
        let id = api
            .create(json!({
                "name": format!("image-{i}"), "disk_format": "raw",
                "container_format": "bare", "visibility": visibility,
                "tags": [format!("t{i}"), "durable"], format!("prop_{i}"): format!("v{i}"),
            }))
            .await;
        if visibility == "shared" {
            api.expect_json(
                api.owner(Method::POST, &format!("/v2/images/{id}/members"))
                    .json(&json!({"member": format!("friend-{i}")})),
                StatusCode::OK,
            )
            .await;
        }
        match i % 3 {
            0 => {
                let bytes = data(i, 65_536 + 7919 * i as usize);
                api.put_data(&id, "file", bytes.clone()).await;
                uploaded.push((id, sha512(&bytes)));
            }
            1 if i == 1 => api.put_data(&id, "stage", data(i, 50_000)).await,
            1 if i == 4 => {
                let bytes = data(i, 40_000);
                api.put_data(&id, "stage", bytes.clone()).await;
                let status = api
                    .status(
                        api.owner(Method::POST, &format!("/v2/images/{id}/import"))
                            .json(&json!({"method": {"name": "glance-direct"}})),
                    )
                    .await;
                assert_eq!(status, StatusCode::ACCEPTED);
                wait_for_status(api, &id, "active").await;
                uploaded.push((id, sha512(&bytes)));
            }
            _ => {}
        }
    }
    // A deleted image: its row stays.
    let gone = api.create(json!({"name": "gone"})).await;
    assert_eq!(
        api.status(api.owner(Method::DELETE, &format!("/v2/images/{gone}")))
            .await,
        StatusCode::NO_CONTENT
    );
    api.expect_json(
        api.owner(Method::POST, "/v2/metadefs/namespaces")
            .json(&json!({"namespace": "OS::Durable::Test", "visibility": "public"})),
        StatusCode::CREATED,
    )
    .await;
    // A user made through the shim's admin API, and tokens.
    let admin = login(api, "admin", "admin-secret", "admin").await;
    let (status, user) = {
        let resp = api
            .http
            .post(format!("{}/identity/v3/users", api.base))
            .header("X-Auth-Token", &admin)
            .json(&json!({"user": {"name": "durable", "password": "pw", "domain_id": "default"}}))
            .send()
            .await
            .expect("sent");
        (resp.status(), resp.json::<Value>().await.expect("json"))
    };
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let user_id = user["user"]["id"].as_str().expect("id");
    let (_, roles) = {
        let resp = api
            .http
            .get(format!("{}/identity/v3/roles?name=member", api.base))
            .header("X-Auth-Token", &admin)
            .send()
            .await
            .expect("sent");
        (resp.status(), resp.json::<Value>().await.expect("json"))
    };
    let role = roles["roles"][0]["id"].as_str().expect("role");
    let status = api
        .http
        .put(format!(
            "{}/identity/v3/projects/demo/users/{user_id}/roles/{role}",
            api.base
        ))
        .header("X-Auth-Token", &admin)
        .send()
        .await
        .expect("sent")
        .status();
    assert_eq!(status, StatusCode::NO_CONTENT);
    let token = login(api, "durable", "pw", "demo").await;
    Filled {
        uploaded,
        dump: api.dump("reference").await,
        token,
    }
}

/// When the process is killed, relative to the transfer's body.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Moment {
    /// The request is in, no byte of its body.
    BeforeFirstByte,
    /// Part of the body is in.
    MidBody,
    /// Every byte is sent; the answer may or may not have been.
    AfterLastByte,
}

/// A request whose body the test feeds; the sender stays open until dropped.
pub(crate) fn slow_body() -> (mpsc::Sender<Bytes>, reqwest::Body) {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
    });
    (tx, reqwest::Body::wrap_stream(stream))
}

const SLOW_SIZE: usize = 4 << 20;

/// Start an upload (`what` = `file`) or a stage of image `id` with a body
/// fed by the test; return once it reached `moment` (with the body's
/// sender, `None` once the body is complete).
async fn start_transfer(
    api: &Api,
    id: &str,
    what: &str,
    moment: Moment,
    bytes: &[u8],
) -> (Option<mpsc::Sender<Bytes>>, tokio::task::JoinHandle<()>) {
    let (tx, body) = slow_body();
    let rb = api
        .owner(Method::PUT, &format!("/v2/images/{id}/{what}"))
        .header("Content-Type", "application/octet-stream")
        .body(body);
    let task = tokio::spawn(async move {
        let _ = rb.send().await;
    });
    let busy = if what == "file" {
        "saving"
    } else {
        "uploading"
    };
    match moment {
        Moment::BeforeFirstByte => {}
        Moment::MidBody => {
            for chunk in bytes[..bytes.len() / 2].chunks(64 << 10) {
                tx.send(Bytes::copy_from_slice(chunk)).await.expect("fed");
            }
        }
        Moment::AfterLastByte => {
            for chunk in bytes.chunks(64 << 10) {
                tx.send(Bytes::copy_from_slice(chunk)).await.expect("fed");
            }
            // The body ends here.
            return (None, task);
        }
    }
    if moment != Moment::AfterLastByte {
        wait_for_status(api, id, busy).await;
        // Let the server read what was sent.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (Some(tx), task)
}

/// Wait until the store folder `store` holds all `len` bytes of image `id`:
/// in the upload's temporary file (flushed just before it is renamed) or
/// already under the image's name.
async fn wait_for_last_byte(store: &Path, id: &str, len: usize) {
    for _ in 0..10_000 {
        let done = std::fs::read_dir(store)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                (name == id || name.starts_with(".upload-"))
                    && e.metadata().is_ok_and(|m| m.len() as usize >= len)
            });
        if done {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("the last byte of {id} never reached {}", store.display());
}

/// Every file under `dir`, as paths relative to it.
pub(crate) fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable") {
            let entry = entry.expect("entry");
            if entry.file_type().expect("type").is_dir() {
                stack.push(entry.path());
            } else {
                let rel = entry.path().strip_prefix(dir).expect("below").to_owned();
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// The dump without the images `skip` (their records and data entries).
fn without(dump: &Value, skip: &[&str]) -> Value {
    let mut d = dump.clone();
    if let Some(images) = d["images"].as_array_mut() {
        images.retain(|i| !skip.contains(&i["id"].as_str().unwrap_or_default()));
    }
    if let Some(data) = d["data"].as_array_mut() {
        data.retain(|e| !skip.contains(&e["image_id"].as_str().unwrap_or_default()));
    }
    d
}

async fn killed_at(moment: Moment) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let (first, url) = spawn(&data_dir);
    let api = Api::remote(url).acting_as(P1_ADMIN);
    let filled = fill(&api).await;

    let upload = api
        .create(json!({"name": "slow-upload", "disk_format": "raw", "container_format": "bare"}))
        .await;
    let stage = api
        .create(json!({"name": "slow-stage", "disk_format": "raw", "container_format": "bare"}))
        .await;
    let upload_bytes = data(1001, SLOW_SIZE);
    let stage_bytes = data(1002, SLOW_SIZE);
    let (tx1, t1) = start_transfer(&api, &upload, "file", moment, &upload_bytes).await;
    let (tx2, t2) = start_transfer(&api, &stage, "stage", moment, &stage_bytes).await;
    let before = api.dump("reference").await;
    if moment == Moment::AfterLastByte {
        wait_for_last_byte(&data_dir.join("fast"), &upload, SLOW_SIZE).await;
        let staging = data_dir.join("os_glance_staging_store");
        wait_for_last_byte(&staging, &stage, SLOW_SIZE).await;
    }
    drop(first); // SIGKILL, mid-transfer
    drop((tx1, tx2));
    let _ = tokio::join!(t1, t2);

    let (_second, url) = spawn(&data_dir);
    let api = Api::remote(url).acting_as(P1_ADMIN);

    // Every acknowledged record and byte is back.
    let after = api.dump("reference").await;
    let skip = [upload.as_str(), stage.as_str()];
    assert_eq!(without(&after, &skip), without(&filled.dump, &skip));
    assert_eq!(without(&after, &skip), without(&before, &skip));
    for (id, digest) in &filled.uploaded {
        let a = api.download(id).await;
        let (status, body) = (a.status, a.body);
        assert_eq!(status, StatusCode::OK, "{id}");
        assert_eq!(&sha512(&body), digest, "{id}");
    }
    let ns = api
        .status(api.owner(Method::GET, "/v2/metadefs/namespaces/OS::Durable::Test"))
        .await;
    assert_eq!(ns, StatusCode::OK);
    assert!(
        token_valid(&api, &filled.token).await,
        "a token issued before"
    );
    login(&api, "durable", "pw", "demo").await;

    // The interrupted ones: as Glance leaves them, or (killed after the
    // last byte) possibly finished, never partial.
    for (id, busy, bytes) in [
        (&upload, "saving", &upload_bytes),
        (&stage, "uploading", &stage_bytes),
    ] {
        let img = api.show(id).await;
        let a = api.download(id).await;
        let (status, body) = (a.status, a.body);
        if img["status"] == busy || (moment == Moment::AfterLastByte && img["status"] == "queued") {
            assert_eq!(status, StatusCode::NO_CONTENT, "{id}: {img}");
            assert!(body.is_empty());
            assert!(img["size"].is_null() || busy == "uploading", "{img}");
        } else {
            assert_eq!(moment, Moment::AfterLastByte, "{img}");
            if busy == "saving" {
                assert_eq!(img["status"], "active", "{img}");
                assert_eq!(sha512(&body), sha512(bytes));
            }
        }
        let deleted = api
            .status(api.owner(Method::DELETE, &format!("/v2/images/{id}")))
            .await;
        assert_eq!(deleted, StatusCode::NO_CONTENT, "{id}");
    }

    // No temporary file, and no file of an image that is gone.
    let left = files(&data_dir);
    assert!(
        !left
            .iter()
            .any(|f| f.contains("/.upload-") || f.contains("/.glance-mock-owned-")),
        "{left:?}"
    );
    let kept: Vec<_> = left
        .iter()
        .filter(|f| f.contains(&upload) || f.contains(&stage))
        .collect();
    assert!(kept.is_empty(), "{kept:?} (upload {upload}, stage {stage})");
}

#[tokio::test]
async fn killed_before_the_first_byte_everything_acknowledged_comes_back() {
    killed_at(Moment::BeforeFirstByte).await;
}

#[tokio::test]
async fn killed_mid_body_everything_acknowledged_comes_back() {
    killed_at(Moment::MidBody).await;
}

#[tokio::test]
async fn killed_after_the_last_byte_the_image_is_whole_or_not_active() {
    killed_at(Moment::AfterLastByte).await;
}

#[tokio::test]
async fn a_restart_without_a_seed_and_a_reset_are_both_honoured() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let (child, url) = spawn(&data_dir);
    let api = Api::remote(url).acting_as(P1_ADMIN);
    let id = api
        .create(json!({"name": "kept", "disk_format": "raw", "container_format": "bare"}))
        .await;
    api.put_data(&id, "file", data(7, 1000)).await;
    drop(child);

    let (child, url) = spawn(&data_dir);
    let api = Api::remote(url).acting_as(P1_ADMIN);
    assert_eq!(api.show(&id).await["status"], "active");
    // A reset empties the durable state too, bytes included.
    let status = api
        .status(api.http.post(format!("{}/_mock/reset", api.base)))
        .await;
    assert!(status.is_success(), "{status}");
    drop(child);

    let (_alive, url) = spawn(&data_dir);
    let api = Api::remote(url).acting_as(P1_ADMIN);
    let list = api
        .expect_json(api.owner(Method::GET, "/v2/images"), StatusCode::OK)
        .await;
    assert_eq!(list["images"], json!([]));
    assert!(!data_dir.join("fast").join(&id).exists());
}

#[test]
fn a_database_from_a_newer_mock_is_refused_with_a_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let (child, _url) = spawn(&data_dir);
    drop(child);
    rusqlite::Connection::open(data_dir.join("glance-mock.sqlite"))
        .expect("opens")
        .pragma_update(None, "user_version", 99)
        .expect("raised");
    let out = binary()
        .args(["--bind", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("newer glance-mock-server"), "{err}");
    assert!(err.contains("glance-mock.sqlite"), "{err}");
}
