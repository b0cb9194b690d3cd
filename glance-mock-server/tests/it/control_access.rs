//! Who may use the control plane, and where its fault rules may act:
//! `/_mock` behind admin tokens with `require_auth`, open without; the
//! control plane switched off; rules kept off `/identity` unless the
//! operator opts in; statuses a rule cannot send refused.

use glance_mock_server::control::{FaultAction, FaultRule, InvalidFault};
use glance_mock_server::{Config, MockServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::http::token_call;

async fn start(config: Config) -> MockServer {
    MockServer::builder()
        .config(config)
        .start()
        .await
        .expect("mock server starts")
}

fn strict() -> Config {
    Config {
        require_auth: true,
        ..Config::default()
    }
}

/// A project-scoped token of `user` (password `<user>-secret`, project of
/// the same name) from the shim, or the status it answered.
async fn try_login(http: &reqwest::Client, server: &MockServer, user: &str) -> Result<String, u16> {
    let body = json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"name": "Default"}, "password": format!("{user}-secret")}}},
        "scope": {"project": {"name": user, "domain": {"name": "Default"}}}}});
    let resp = http
        .post(format!("{}/v3/auth/tokens", server.identity_url()))
        .json(&body)
        .send()
        .await
        .expect("POST tokens");
    if resp.status() != StatusCode::CREATED {
        return Err(resp.status().as_u16());
    }
    Ok(resp
        .headers()
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .expect("X-Subject-Token")
        .to_owned())
}

async fn login(http: &reqwest::Client, server: &MockServer, user: &str) -> String {
    try_login(http, server, user).await.expect("logged in")
}

/// A Glance-shaped error body (`{"message", "code", "title"}`) for `status`.
/// `POST /_mock/faults` with `rule`, without a token.
async fn add_rule(
    http: &reqwest::Client,
    server: &MockServer,
    rule: &Value,
) -> (StatusCode, Value) {
    token_call(
        http,
        &server.url(),
        Method::POST,
        "/_mock/faults",
        None,
        Some(rule),
    )
    .await
}

fn assert_glance_error(body: &Value, status: StatusCode) {
    assert_eq!(
        body["code"].as_str(),
        Some(status.to_string().as_str()),
        "{body}"
    );
    assert!(
        body["message"].is_string() && body["title"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn with_require_auth_the_control_plane_wants_an_admin_token() {
    let server = start(strict()).await;
    let http = reqwest::Client::new();
    let admin = login(&http, &server, "admin").await;
    let member = login(&http, &server, "demo").await;
    let get = Method::GET;

    let (status, body) = token_call(
        &http,
        &server.url(),
        get.clone(),
        "/_mock/state?data=inline",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no token: {body}");
    assert_glance_error(&body, status);
    let (status, _) = token_call(
        &http,
        &server.url(),
        get.clone(),
        "/_mock/state",
        Some("not-issued"),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a token the shim never issued"
    );

    let (status, body) = token_call(
        &http,
        &server.url(),
        get.clone(),
        "/_mock/state",
        Some(&member),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "member token: {body}");
    assert_glance_error(&body, status);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("admin"),
        "{body}"
    );

    let (status, body) = token_call(
        &http,
        &server.url(),
        get.clone(),
        "/_mock/state",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "admin token: {body}");
    assert!(body["images"].is_array(), "{body}");

    // Every other route too: seeding, faults, reset, unknown /_mock paths.
    let seed = json!({"images": [], "tasks": [], "data": []});
    let rule = json!({"action": {"type": "delay", "ms": 1}});
    for (method, path, body) in [
        (Method::POST, "/_mock/state", Some(&seed)),
        (Method::POST, "/_mock/faults", Some(&rule)),
        (Method::GET, "/_mock/requests", None),
        (Method::POST, "/_mock/reset", None),
        (Method::POST, "/_mock/tasks/finish", None),
        (Method::GET, "/_mock/elsewhere", None),
    ] {
        let (status, _) = token_call(&http, &server.url(), method.clone(), path, None, body).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {path} without token"
        );
        let (status, _) = token_call(
            &http,
            &server.url(),
            method.clone(),
            path,
            Some(&member),
            body,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} as a member");
    }
    assert!(server.faults().is_empty(), "no rule got in");
    let (status, _) = token_call(
        &http,
        &server.url(),
        Method::POST,
        "/_mock/faults",
        Some(&admin),
        Some(&rule),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // A revoked admin token no longer opens it.
    let revoked = http
        .delete(format!("{}/v3/auth/tokens", server.identity_url()))
        .header("X-Auth-Token", &admin)
        .header("X-Subject-Token", &admin)
        .send()
        .await
        .expect("DELETE token");
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let (status, _) = token_call(
        &http,
        &server.url(),
        get,
        "/_mock/state",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked token");
}

#[tokio::test]
async fn health_stays_open_with_require_auth() {
    let server = start(strict()).await;
    let http = reqwest::Client::new();
    let (status, body) = token_call(
        &http,
        &server.url(),
        Method::GET,
        "/_mock/health",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ok");
    let (status, _) = token_call(
        &http,
        &server.url(),
        Method::GET,
        "/_mock/health",
        Some("junk"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// Served files stand for a public web server (web-download fetches them
/// without a token); writing or removing them is an admin's.
#[tokio::test]
async fn served_files_are_readable_by_anyone_but_written_by_admins() {
    let server = start(strict()).await;
    let http = reqwest::Client::new();
    let admin = login(&http, &server, "admin").await;
    let member = login(&http, &server, "demo").await;
    let url = format!("{}/_mock/files/f.img", server.url());
    for (token, want) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(member.as_str()), StatusCode::FORBIDDEN),
        (Some(admin.as_str()), StatusCode::CREATED),
    ] {
        let mut req = http.put(&url).body("bytes");
        if let Some(token) = token {
            req = req.header("X-Auth-Token", token);
        }
        assert_eq!(req.send().await.expect("sent").status(), want, "{token:?}");
    }
    let resp = http.get(&url).send().await.expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.text().await.expect("body"), "bytes");
    let resp = http.head(&url).send().await.expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
    let (status, _) = token_call(
        &http,
        &server.url(),
        Method::GET,
        "/_mock/files",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the list is not a file");
    let (status, _) = token_call(
        &http,
        &server.url(),
        Method::DELETE,
        "/_mock/files/f.img",
        Some(&member),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = token_call(
        &http,
        &server.url(),
        Method::DELETE,
        "/_mock/files/f.img",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn without_require_auth_the_control_plane_is_open() {
    let server = start(Config::default()).await;
    let http = reqwest::Client::new();
    let member = login(&http, &server, "demo").await;
    for token in [None, Some("anything"), Some(member.as_str())] {
        let (status, body) = token_call(
            &http,
            &server.url(),
            Method::GET,
            "/_mock/state",
            token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{token:?}: {body}");
        let (status, _) = token_call(
            &http,
            &server.url(),
            Method::POST,
            "/_mock/reset",
            token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{token:?}");
    }
}

#[tokio::test]
async fn a_control_plane_switched_off_has_no_routes_and_no_faults() {
    let server = start(Config {
        control_plane: false,
        ..Config::default()
    })
    .await;
    let http = reqwest::Client::new();
    // `/_mock` paths answer as any unknown path: Glance's version
    // negotiation (300 and the versions document), never the control plane.
    let (unknown_status, unknown_body) = token_call(
        &http,
        &server.url(),
        Method::GET,
        "/no-such-path",
        None,
        None,
    )
    .await;
    for path in ["/_mock/state", "/_mock/health", "/_mock/requests"] {
        let (status, body) = token_call(&http, &server.url(), Method::GET, path, None, None).await;
        assert_eq!(status, StatusCode::MULTIPLE_CHOICES, "{path}: {body}");
        assert_eq!((status, &body), (unknown_status, &unknown_body), "{path}");
        assert!(
            body.get("images").is_none() && body.get("status").is_none(),
            "{body}"
        );
    }
    let (status, _) = token_call(
        &http,
        &server.url(),
        Method::POST,
        "/_mock/reset",
        None,
        None,
    )
    .await;
    assert_ne!(status, StatusCode::NO_CONTENT);

    // A rule installed through the library acts on nothing, and nothing is journaled.
    server
        .add_fault(FaultRule::new(FaultAction::Respond {
            status: 503,
            headers: Default::default(),
            body: None,
        }))
        .expect("a valid rule");
    let (status, body) = token_call(
        &http,
        &server.url(),
        Method::GET,
        "/v2/images",
        Some("t"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(server.faults()[0].fired, 0);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn rules_on_identity_need_the_opt_in() {
    let rule = json!({"match": {"method": "POST", "path": "/identity/v3/auth/tokens"},
                      "action": {"type": "respond", "status": 503}});
    let http = reqwest::Client::new();

    let server = start(Config::default()).await;
    let (status, body) = add_rule(&http, &server, &rule).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("/identity") && message.contains("--allow-identity-faults"),
        "{message}"
    );
    for path in ["/identity/**", "/_mock/state"] {
        let rule = json!({"match": {"path": path}, "action": {"type": "delay", "ms": 1}});
        let (status, _) = add_rule(&http, &server, &rule).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
    }
    let direct = FaultRule::new(FaultAction::Delay { ms: 1 }).path_regex("/identity/v3/.*");
    assert!(matches!(
        server.add_fault(direct),
        Err(InvalidFault::Reserved { .. })
    ));
    assert!(server.faults().is_empty());
    assert!(try_login(&http, &server, "demo").await.is_ok());

    let server = start(Config {
        allow_identity_faults: true,
        ..Config::default()
    })
    .await;
    let (status, body) = add_rule(&http, &server, &rule).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        try_login(&http, &server, "demo").await,
        Err(503),
        "the rule forged the shim's answer"
    );
}

#[tokio::test]
async fn a_catch_all_rule_skips_identity_without_the_opt_in() {
    let catch_all = json!({"action": {"type": "respond", "status": 503}});
    let http = reqwest::Client::new();

    let server = start(Config::default()).await;
    let (status, _) = token_call(
        &http,
        &server.url(),
        Method::POST,
        "/_mock/faults",
        None,
        Some(&catch_all),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let token = login(&http, &server, "demo").await;
    let (status, _) = token_call(
        &http,
        &server.url(),
        Method::GET,
        "/identity/v3",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = token_call(
        &http,
        &server.url(),
        Method::GET,
        "/v2/images",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the rule still acts on /v2"
    );
    assert_eq!(server.faults()[0].fired, 1, "only the /v2 request counted");
    // The journal still records the shim's requests.
    assert!(
        server
            .requests()
            .iter()
            .any(|e| e.path == "/identity/v3/auth/tokens" && e.status == 201)
    );

    let server = start(Config {
        allow_identity_faults: true,
        ..Config::default()
    })
    .await;
    let (status, _) = token_call(
        &http,
        &server.url(),
        Method::POST,
        "/_mock/faults",
        None,
        Some(&catch_all),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(try_login(&http, &server, "demo").await, Err(503));
}

#[tokio::test]
async fn statuses_that_cannot_be_sent_are_refused() {
    let server = start(Config::default()).await;
    let http = reqwest::Client::new();
    for status in [100u16, 103, 199, 600, 999] {
        let rule = json!({"action": {"type": "respond", "status": status}});
        let (answer, body) = add_rule(&http, &server, &rule).await;
        assert_eq!(answer, StatusCode::BAD_REQUEST, "{status}: {body}");
        assert_glance_error(&body, answer);
        let direct = FaultRule::new(FaultAction::Respond {
            status,
            headers: Default::default(),
            body: None,
        });
        assert!(
            matches!(server.add_fault(direct), Err(InvalidFault::Status(s)) if s == status),
            "{status}"
        );
    }
    assert!(server.faults().is_empty());
    let (status, _) = token_call(
        &http,
        &server.url(),
        Method::GET,
        "/v2/images",
        Some("t"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}
