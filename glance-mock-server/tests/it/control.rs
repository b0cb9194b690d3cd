//! The control plane over HTTP (`/_mock`): health, reset, state dumps and
//! seeds, the request journal, each fault action, and manual task steps.
//! (`--data-dir` and `--seed` of the binary: `tests/binary/control.rs`.)

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use glance_mock_server::control::{DataMode, STAGING_STORE, StateDump, StoredData};
use glance_mock_server::{Config, MockServer, TaskProgression};
use md5::Digest;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::http::{Api, Who, data};

#[tokio::test]
async fn health_answers_without_a_token() {
    let api = Api::start().await;
    let (status, body) = api.json(api.control(Method::GET, "/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    // Unknown control paths are Glance-shaped 404s, not the API's.
    let (status, body) = api.json(api.control(Method::GET, "/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "404 Not Found");
}

#[tokio::test]
async fn reset_forgets_images_data_faults_and_journal() {
    let api = Api::start().await;
    let id = api.image_with(data(1000)).await;
    let staged = api
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    api.put_data(&staged, "stage", data(10)).await;
    api.add_fault(json!({"match": {"path": "/nothing"}, "action": {"type": "delay", "ms": 1}}))
        .await;
    assert_eq!(api.image_ids().await.len(), 2);

    let resp = api
        .control(Method::POST, "/reset")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(api.image_ids().await.is_empty());
    let dump = api.dump("reference").await;
    for key in ["images", "tasks", "data"] {
        assert_eq!(dump[key], json!([]), "{key}");
    }
    // The shim's identities are the configured ones.
    let users: Vec<&Value> = dump["identities"]["users"]
        .as_array()
        .map(|u| u.iter().map(|u| &u["id"]).collect())
        .unwrap_or_default();
    assert_eq!(users, ["admin", "glance", "demo", "alt"]);
    assert!(api.server().faults().is_empty());
    // Only the list after the reset is left in the journal.
    let journal = api.journal().await;
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0]["path"], "/v2/images");
    // The id was forgotten with its record: a new image may take it.
    let again = api
        .create(json!({"id": id, "disk_format": "raw", "container_format": "bare"}))
        .await;
    assert_eq!(again, id);
}

#[tokio::test]
async fn state_round_trips_through_a_seed() {
    let mut config = Config::default();
    config.tasks.progression = TaskProgression::Manual;
    let api = Api::with(config).await;
    let imported = api
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    api.put_data(&imported, "stage", data(500)).await;
    let resp = api
        .owner(Method::POST, &format!("/v2/images/{imported}/import"))
        .json(&json!({"method": {"name": "glance-direct"}}))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert_eq!(api.server().finish_tasks().await, 1);
    let shared = api
        .create(
            json!({"name": "shared", "disk_format": "raw", "container_format": "bare",
            "visibility": "shared", "tags": ["a", "b"], "os_distro": "debian"}),
        )
        .await;
    api.put_data(&shared, "file", data(70_000)).await;
    let resp = api
        .owner(Method::POST, &format!("/v2/images/{shared}/members"))
        .json(&json!({"member": "other"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    let staged = api
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    api.put_data(&staged, "stage", b"staged bytes".to_vec())
        .await;
    let deleted = api
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    let resp = api
        .owner(Method::DELETE, &format!("/v2/images/{deleted}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let seed = api.dump("inline").await;
    assert_eq!(seed["images"].as_array().map(Vec::len), Some(4));
    assert_eq!(seed["tasks"][0]["status"], "success");
    assert_eq!(seed["tasks"][0]["image_id"], imported.as_str());
    let stores: Vec<(&str, &str)> = seed["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|d| {
            (
                d["store"].as_str().unwrap_or_default(),
                d["image_id"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    // By store (configuration order, staging last), then by image id.
    let mut in_fast = [imported.as_str(), shared.as_str()];
    in_fast.sort();
    assert_eq!(
        stores,
        vec![
            ("fast", in_fast[0]),
            ("fast", in_fast[1]),
            ("os_glance_staging_store", staged.as_str())
        ]
    );

    // Seeding another mock gives the same state, data included.
    let other = Api::start().await;
    let (status, body) = other.load(&seed).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(other.dump("inline").await, seed);
    let resp = other
        .owner(Method::GET, &format!("/v2/images/{shared}/file"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.bytes().await.expect("body").to_vec(), data(70_000));
    let (_, members) = other
        .json(other.owner(Method::GET, &format!("/v2/images/{shared}/members")))
        .await;
    assert_eq!(members["members"][0]["member_id"], "other");

    // The same through the library handle, by reference this time.
    api.server().reset().await.expect("reset");
    let typed: StateDump = serde_json::from_value(seed.clone()).expect("a dump");
    other
        .server()
        .load_state(typed.clone())
        .await
        .expect("loads");
    let by_reference = other
        .server()
        .dump_state(DataMode::Reference)
        .await
        .expect("dumps");
    assert_eq!(by_reference.images, typed.images);
    assert!(by_reference.data.iter().all(|d| d.content_base64.is_none()));
    other
        .server()
        .load_state(by_reference.clone())
        .await
        .expect("the stores hold what the dump refers to");
    assert_eq!(
        other
            .server()
            .dump_state(DataMode::Inline)
            .await
            .expect("dumps"),
        typed
    );

    // A new server seeded from the JSON text (as `--seed FILE` does) starts
    // in the same state; text that is not a dump stops the start.
    let text = serde_json::to_vec(&seed).expect("JSON");
    let third = MockServer::builder()
        .seed_json(text)
        .start()
        .await
        .expect("starts seeded");
    assert_eq!(
        third.dump_state(DataMode::Inline).await.expect("dumps"),
        typed
    );
    let err = MockServer::builder()
        .seed_json(&b"{\"images\": 5}"[..])
        .start()
        .await
        .expect_err("not a dump");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
}

/// `GET /_mock/state` streams its answer, and `MockServer::dump_state_to`
/// writes the same stream: both must be, byte for byte, the JSON of
/// `MockServer::dump_state`'s value, whatever the sizes of the chunks the
/// stores hold (one whole seeded blob, an upload as hyper cut it, a file)
/// and whether the hashes come from the record or from reading the bytes
/// (staged data).
#[tokio::test]
async fn the_streamed_dump_is_the_dumps_json_byte_for_byte() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut on_disk = Config::default();
    on_disk.use_data_dir(dir.path()).expect("data dir");
    for config in [Config::default(), on_disk] {
        let api = Api::with(config).await;
        // Staged data with no image record, written whole as one chunk.
        let seeded = "0b8e4b3c-5c36-4d6b-9b5e-0d3c2f1a9e77";
        let seed = StateDump {
            data: vec![StoredData {
                store: STAGING_STORE.to_owned(),
                image_id: seeded.to_owned(),
                size: 600_001,
                md5: None,
                sha512: None,
                content_base64: Some(BASE64.encode(data(600_001))),
            }],
            ..StateDump::default()
        };
        api.server().load_state(seed).await.expect("seeded");
        // An upload in odd-sized pieces, longer than a base64 piece.
        let uploaded = api
            .create(json!({"disk_format": "raw", "container_format": "bare"}))
            .await;
        let pieces: Vec<Result<Vec<u8>, std::io::Error>> = data(1_000_001)
            .chunks(70_001)
            .map(|c| Ok(c.to_vec()))
            .collect();
        let resp = api
            .owner(Method::PUT, &format!("/v2/images/{uploaded}/file"))
            .header("Content-Type", "application/octet-stream")
            .body(reqwest::Body::wrap_stream(futures::stream::iter(pieces)))
            .send()
            .await
            .expect("sent");
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        let small = api.image_with(data(2)).await;
        let staged = api
            .create(json!({"disk_format": "raw", "container_format": "bare"}))
            .await;
        api.put_data(&staged, "stage", data(5)).await;

        for mode in [DataMode::Reference, DataMode::Inline] {
            let value = api.server().dump_state(mode).await.expect("dumped");
            let json = serde_json::to_vec(&value).expect("json");
            let query = if mode == DataMode::Inline {
                "inline"
            } else {
                "reference"
            };
            let resp = api
                .control(Method::GET, &format!("/state?data={query}"))
                .send()
                .await
                .expect("sent");
            assert_eq!(resp.status(), StatusCode::OK);
            assert_eq!(resp.headers()["content-type"], "application/json");
            let answered = resp.bytes().await.expect("body");
            assert!(answered == json, "GET /_mock/state?data={query} differs");
            let mut written = Vec::new();
            let n = api
                .server()
                .dump_state_to(mode, &mut written)
                .await
                .expect("written");
            assert_eq!(n, written.len() as u64);
            assert!(written == json, "dump_state_to({mode:?}) differs");
            let sizes: Vec<(String, u64)> = value
                .data
                .iter()
                .map(|d| (d.image_id.clone(), d.size))
                .collect();
            assert_eq!(sizes.len(), 4, "{sizes:?}");
            for (id, size) in [
                (seeded, 600_001),
                (&uploaded, 1_000_001),
                (&small, 2),
                (&staged, 5),
            ] {
                assert!(sizes.contains(&(id.to_owned(), size)), "{id} in {sizes:?}");
            }
            if mode == DataMode::Inline {
                for d in &value.data {
                    let content = BASE64
                        .decode(d.content_base64.as_deref().expect("inline"))
                        .expect("base64");
                    assert_eq!(content, data(d.size as usize));
                    assert_eq!(
                        d.md5.as_deref(),
                        Some(&*hex::encode(md5::Md5::digest(&content)))
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn bad_seeds_are_refused_and_change_nothing() {
    let api = Api::start().await;
    let id = api.image_with(data(100)).await;
    let before = api.dump("inline").await;
    let image_id = "0b8e4b3c-5c36-4d6b-9b5e-0d3c2f1a9e77";
    for (seed, says) in [
        (
            json!({"data": [{"store": "fast", "image_id": image_id, "size": 3, "content_base64": "!!"}]}),
            "not base64",
        ),
        (
            json!({"data": [{"store": "fast", "image_id": image_id, "size": 4, "content_base64": "YWJj"}]}),
            "size",
        ),
        (
            json!({"data": [{"store": "fast", "image_id": image_id, "size": 3, "md5": "00", "content_base64": "YWJj"}]}),
            "md5",
        ),
        (
            json!({"data": [{"store": "nowhere", "image_id": image_id, "size": 3, "content_base64": "YWJj"}]}),
            "unknown store",
        ),
        (
            json!({"data": [{"store": "fast", "image_id": "../../etc", "size": 3, "content_base64": "YWJj"}]}),
            "not a UUID",
        ),
        (
            json!({"data": [{"store": "cheap", "image_id": id, "size": 100}]}),
            "holds no 100 bytes",
        ),
        (json!({"images": "none"}), "Malformed"),
    ] {
        let (status, body) = api.load(&seed).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{seed}");
        assert_eq!(body["code"], "400 Bad Request");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{message} should say {says}");
    }
    assert_eq!(api.dump("inline").await, before);
}

#[tokio::test]
async fn the_journal_records_requests_with_their_identity() {
    let api = Api::start().await;
    let id = api.image_with(data(10)).await;
    let resp = api
        .req(
            Who::new("member,reader", "demo"),
            Method::GET,
            "/v2/images?limit=1&sort=name:asc",
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = api
        .http
        .get(format!("{}/v2/images", api.base))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let journal = api.journal().await;
    let seen: Vec<(String, String, u64)> = journal
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap_or_default().to_owned(),
                e["path"].as_str().unwrap_or_default().to_owned(),
                e["status"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("POST".into(), "/v2/images".into(), 201),
            ("PUT".into(), format!("/v2/images/{id}/file"), 204),
            ("GET".into(), "/v2/images".into(), 200),
            ("GET".into(), "/v2/images".into(), 401),
        ]
    );
    assert_eq!(journal[0]["project_id"], "p");
    assert_eq!(journal[0]["user_id"], "p-user");
    assert_eq!(journal[2]["project_id"], "demo");
    assert_eq!(journal[2]["query"], "limit=1&sort=name:asc");
    assert!(journal[3]["project_id"].is_null());
    assert!(journal[1]["query"].is_null());
    assert!(
        journal
            .windows(2)
            .all(|w| w[0]["seq"].as_u64() < w[1]["seq"].as_u64())
    );

    let resp = api
        .control(Method::DELETE, "/requests")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(api.journal().await.is_empty());
}

#[tokio::test]
async fn a_respond_fault_answers_for_the_api_a_number_of_times() {
    let api = Api::start().await;
    let rule = api
        .add_fault(json!({
            "match": {"method": "GET", "path": "/v2/images", "count": 1},
            "action": {"type": "respond", "status": 503, "headers": {"Retry-After": "2"}}
        }))
        .await;
    let resp = api
        .owner(Method::GET, "/v2/images")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "2");
    let body: Value = resp.json().await.expect("Glance-shaped JSON");
    assert_eq!(body["code"], "503 Service Unavailable");
    // Spent: the next one reaches the API.
    assert_eq!(api.image_ids().await, Vec::<String>::new());
    let (_, listed) = api.json(api.control(Method::GET, "/faults")).await;
    assert_eq!(listed["faults"][0]["id"], rule.as_str());
    assert_eq!(listed["faults"][0]["fired"], 1);
    let journal = api.journal().await;
    assert_eq!(journal[0]["fault"], rule.as_str());
    assert!(journal[1]["fault"].is_null());

    // A body of one's own, and a rule for one project only.
    api.add_fault(json!({
        "match": {"path_regex": "/v2/images(/.*)?", "project_id": "demo"},
        "action": {"type": "respond", "status": 429, "body": "slow down",
                   "headers": {"Content-Type": "text/plain"}}
    }))
    .await;
    let resp = api
        .req(Who::new("member,reader", "demo"), Method::GET, "/v2/images")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.text().await.expect("text"), "slow down");
    assert_eq!(api.image_ids().await, Vec::<String>::new());

    let resp = api
        .control(Method::DELETE, "/faults")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = api
        .req(Who::new("member,reader", "demo"), Method::GET, "/v2/images")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn invalid_rules_are_glance_shaped_400s() {
    let api = Api::start().await;
    for rule in [
        json!({"match": {"path_regex": "("}, "action": {"type": "delay", "ms": 1}}),
        json!({"action": {"type": "respond", "status": 1000}}),
        json!({"action": {"type": "teleport"}}),
        json!({"match": {"probability": -1}, "action": {"type": "delay", "ms": 1}}),
        json!({"action": {"type": "throttle", "bytes_per_second": 0}}),
    ] {
        let (status, body) = api
            .json(api.control(Method::POST, "/faults").json(&rule))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{rule}");
        assert_eq!(body["title"], "Bad Request");
    }
    assert!(api.server().faults().is_empty());
}

#[tokio::test]
async fn a_delay_fault_holds_the_request_back() {
    let api = Api::start().await;
    api.add_fault(json!({"match": {"path": "/v2/**"}, "action": {"type": "delay", "ms": 300}}))
        .await;
    assert!(api.image_ids().await.is_empty());
    let journal = api.journal().await;
    // A lower bound only: the rule sleeps at least this long.
    assert!(journal[0]["duration_ms"].as_f64().unwrap_or_default() >= 300.0);
    assert_eq!(journal[0]["status"], 200);
}

/// An image with 200 000 bytes and a fault of `action` on its download.
async fn faulted_download(action: Value) -> (Api, String, Vec<u8>) {
    let api = Api::start().await;
    let payload = data(200_000);
    let id = api.image_with(payload.clone()).await;
    api.add_fault(
        json!({"match": {"method": "GET", "path": "/v2/images/*/file"}, "action": action}),
    )
    .await;
    (api, id, payload)
}

#[tokio::test]
async fn a_flipped_byte_changes_exactly_that_byte() {
    let (api, id, payload) =
        faulted_download(json!({"type": "flip_byte", "offset": 100_001})).await;
    let resp = api
        .owner(Method::GET, &format!("/v2/images/{id}/file"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    let got = resp.bytes().await.expect("complete body");
    assert_eq!(got.len(), payload.len());
    let differ: Vec<usize> = (0..got.len()).filter(|&i| got[i] != payload[i]).collect();
    assert_eq!(differ, vec![100_001]);
    assert_eq!(got[100_001], !payload[100_001]);
}

#[tokio::test]
async fn a_truncated_body_looks_complete_but_is_short() {
    let (api, id, payload) = faulted_download(json!({"type": "truncate", "bytes": 1234})).await;
    let resp = api
        .owner(Method::GET, &format!("/v2/images/{id}/file"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-length"], "1234");
    let got = resp.bytes().await.expect("a complete response");
    assert_eq!(got.to_vec(), payload[..1234].to_vec());
}

#[tokio::test]
async fn a_dropped_connection_breaks_the_body_after_n_bytes() {
    let (api, id, payload) = faulted_download(json!({"type": "drop_after", "bytes": 5000})).await;
    let mut resp = api
        .owner(Method::GET, &format!("/v2/images/{id}/file"))
        .send()
        .await
        .expect("head arrives");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.content_length(), Some(payload.len() as u64));
    let mut got = Vec::new();
    let failure = loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    assert!(
        failure.is_some(),
        "the body must fail, got {} bytes",
        got.len()
    );
    assert_eq!(got, payload[..5000].to_vec());
    // The API itself is fine: without the rule the download is whole.
    api.server().clear_faults();
    let resp = api
        .owner(Method::GET, &format!("/v2/images/{id}/file"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.bytes().await.expect("whole").to_vec(), payload);
}

#[tokio::test]
async fn a_throttle_caps_each_response_on_its_own() {
    // 200 000 bytes at 400 000 B/s: half a second per response, whether
    // one or two are sent at once (the cap is each response's).
    let (api, id, payload) =
        faulted_download(json!({"type": "throttle", "bytes_per_second": 400_000})).await;
    let path = format!("/v2/images/{id}/file");
    let get = |range: Option<&'static str>| {
        let mut req = api.owner(Method::GET, &path);
        if let Some(r) = range {
            req = req.header("range", r);
        }
        async move {
            let started = std::time::Instant::now();
            let resp = req.send().await.expect("sent");
            let status = resp.status();
            let got = resp.bytes().await.expect("whole body");
            (status, got.to_vec(), started.elapsed())
        }
    };
    let (status, got, took) = get(None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, payload, "throttled, not changed");
    assert!(took.as_secs_f64() >= 0.4, "{took:?}: faster than the cap");
    assert!(took.as_secs_f64() < 5.0, "{took:?}");
    let started = std::time::Instant::now();
    let (whole, half) = tokio::join!(get(None), get(Some("bytes=100000-")));
    let both = started.elapsed().as_secs_f64();
    assert_eq!(whole.1, payload);
    assert_eq!(half.0, StatusCode::PARTIAL_CONTENT);
    assert_eq!(half.1, payload[100_000..].to_vec());
    assert!(half.2.as_secs_f64() >= 0.2, "{:?}", half.2);
    assert!(
        both < 0.5 * 2.0,
        "two responses at once took {both:.2} s: the cap must be per response"
    );
    let (_, listed) = api.json(api.control(Method::GET, "/faults")).await;
    assert_eq!(listed["faults"][0]["action"]["type"], "throttle");
    assert_eq!(listed["faults"][0]["fired"], 3);
}

#[tokio::test]
async fn waiting_tasks_advance_one_step_at_a_time() {
    let mut config = Config::default();
    config.tasks.progression = TaskProgression::Manual;
    let api = Api::with(config).await;
    let id = api
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    api.put_data(&id, "stage", data(1000)).await;
    let resp = api
        .owner(Method::POST, &format!("/v2/images/{id}/import"))
        .json(&json!({"method": {"name": "glance-direct"}}))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let (_, tasks) = api
        .json(api.owner(Method::GET, &format!("/v2/images/{id}/tasks")))
        .await;
    let task = tasks["tasks"][0]["id"]
        .as_str()
        .expect("task id")
        .to_owned();

    let advance = format!("/tasks/{task}/advance");
    let (status, body) = api.json(api.control(Method::POST, &advance)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "processing");
    let (status, body) = api.json(api.control(Method::POST, &advance)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "success");
    // Ended: nothing waits any more.
    let (status, body) = api.json(api.control(Method::POST, &advance)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "404 Not Found");
    let (_, image) = api
        .json(api.owner(Method::GET, &format!("/v2/images/{id}")))
        .await;
    assert_eq!(image["status"], "active");
}

/// The identity a fault rule matches on and the journal records is the one
/// policy acts on, however the request says who it is: keystone-middleware
/// headers, a bare token (the default admin) or a token the shim issued
/// (which replaces the headers it came with).
#[tokio::test]
async fn faults_the_journal_and_policy_see_the_same_caller() {
    let api = Api::start().await;
    let id = api
        .create(json!({"name": "private", "visibility": "private"}))
        .await;
    let path = format!("/v2/images/{id}");
    let http = &api.http;
    let login = json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "demo", "domain": {"name": "Default"}, "password": "demo-secret"}}},
        "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}}}});
    let resp = http
        .post(format!("{}/v3/auth/tokens", api.server().identity_url()))
        .json(&login)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let demo_token = resp.headers()["x-subject-token"]
        .to_str()
        .expect("ascii")
        .to_owned();
    api.control(Method::DELETE, "/requests")
        .send()
        .await
        .expect("sent");

    for project in ["p", "admin", "demo"] {
        api.add_fault(json!({
            "match": {"path": path, "project_id": project, "count": 1},
            "action": {"type": "respond", "status": 418}
        }))
        .await;
    }
    let get = |token: &str, confirmed: bool| {
        if confirmed {
            api.owner(Method::GET, &path)
        } else {
            api.anon(Method::GET, &path)
                .header("Accept", "application/json")
                .header("X-Auth-Token", token)
        }
    };
    // Each caller: first its own rule answers, then policy does: the owner
    // and the admin see the private image, demo (a token of the shim, sent
    // with headers claiming the owner's project) does not.
    let mut statuses = vec![];
    for (token, confirmed) in [("t", true), ("bare", false), (demo_token.as_str(), false)] {
        for _ in 0..2 {
            statuses.push(api.status(get(token, confirmed)).await.as_u16());
        }
    }
    let resp = api
        .anon(Method::GET, &path)
        .header("X-Auth-Token", &demo_token)
        .header("X-Identity-Status", "Confirmed")
        .header("X-Project-Id", "p")
        .header("X-Roles", "member")
        .send()
        .await
        .expect("sent");
    statuses.push(resp.status().as_u16());
    assert_eq!(statuses, [418, 200, 418, 200, 418, 404, 404]);
    let journal = api.journal().await;
    let projects: Vec<&str> = journal
        .iter()
        .map(|e| e["project_id"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(
        projects,
        ["p", "p", "admin", "admin", "demo", "demo", "demo"]
    );
    let users: Vec<&str> = journal
        .iter()
        .map(|e| e["user_id"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(
        users,
        ["p-user", "p-user", "admin", "admin", "demo", "demo", "demo"]
    );
}
