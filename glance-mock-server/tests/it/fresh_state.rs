//! A mock per test: every server starts empty, whatever the servers started
//! before it in the same process did. The routers they all share (built once
//! per process, issue 25) hold no state; this proves none passes through
//! them: an image, a fault rule, a token, a metadef namespace, a served
//! file and the journal of one mock are not in the next.

use glance_mock_server::MockServer;
use glance_mock_server::control::FaultRule;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ADMIN: &str = "any-token";

async fn get(http: &reqwest::Client, url: String, token: &str) -> (StatusCode, Value) {
    let resp = http
        .get(url)
        .header("x-auth-token", token)
        .send()
        .await
        .expect("GET");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A token from the Keystone shim of `server`.
async fn issue_token(http: &reqwest::Client, server: &MockServer) -> String {
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "demo", "domain": {"name": "Default"}, "password": "demo-secret"}}},
        "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}}}});
    let resp = http
        .post(format!("{}/v3/auth/tokens", server.identity_url()))
        .json(&body)
        .send()
        .await
        .expect("POST tokens");
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.headers()["x-subject-token"]
        .to_str()
        .expect("a token")
        .to_owned()
}

/// What a fresh server holds, as seen from outside.
async fn contents(http: &reqwest::Client, server: &MockServer, token: &str) -> Value {
    let url = server.url();
    let (_, images) = get(http, format!("{url}/v2/images"), ADMIN).await;
    let (_, namespaces) = get(http, format!("{url}/v2/metadefs/namespaces"), ADMIN).await;
    let (_, files) = get(http, format!("{url}/_mock/files"), ADMIN).await;
    // Is `token` one of this shim's? (It validates itself: 200, else 401.)
    let (token_status, _) = {
        let resp = http
            .get(format!("{}/v3/auth/tokens", server.identity_url()))
            .header("x-auth-token", token)
            .header("x-subject-token", token)
            .send()
            .await
            .expect("GET tokens");
        (resp.status(), ())
    };
    let faults = server.faults().len();
    json!({
        "images": images["images"],
        "namespaces": namespaces["namespaces"],
        "files": files,
        "token": token_status.as_u16(),
        "faults": faults,
    })
}

#[tokio::test]
async fn each_mock_starts_empty_whatever_the_ones_before_it_did() {
    let http = reqwest::Client::new();

    let first = MockServer::start().await.expect("starts");
    let before = contents(&http, &first, "no-such-token").await;
    assert_eq!(before["images"], json!([]), "{before}");

    let resp = http
        .post(format!("{}/v2/images", first.url()))
        .header("x-auth-token", ADMIN)
        .json(&json!({"name": "left-behind", "disk_format": "raw", "container_format": "bare"}))
        .send()
        .await
        .expect("POST images");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = http
        .post(format!("{}/v2/metadefs/namespaces", first.url()))
        .header("x-auth-token", ADMIN)
        .json(&json!({"namespace": "left-behind"}))
        .send()
        .await
        .expect("POST namespaces");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let rule: FaultRule = serde_json::from_value(
        json!({"match": {"path": "/v2/images"}, "action": {"type": "delay", "ms": 1}}),
    )
    .expect("a rule");
    first.add_fault(rule).expect("installed");
    first.put_file("left-behind", "bytes").expect("served");
    let token = issue_token(&http, &first).await;
    let filled = contents(&http, &first, &token).await;
    assert_ne!(filled["images"], json!([]), "{filled}");
    assert_eq!(filled["token"], 200, "{filled}");
    assert_eq!(filled["faults"], 1, "{filled}");

    assert!(!first.requests().is_empty());

    // One started while the first runs, and one after it has gone: as the
    // first was before (the first's token unknown to them, as "no-such-token"
    // was to the first).
    let second = MockServer::start().await.expect("starts");
    assert!(second.requests().is_empty() && second.faults().is_empty());
    assert_eq!(contents(&http, &second, &token).await, before);
    drop((first, second));
    let third = MockServer::start().await.expect("starts");
    assert!(third.requests().is_empty() && third.faults().is_empty());
    assert_eq!(contents(&http, &third, &token).await, before);
}
