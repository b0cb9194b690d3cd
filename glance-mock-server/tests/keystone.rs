//! The Keystone shim over HTTP: tokens from `/identity/v3/auth/tokens`, and
//! what `/v2` makes of them.

use glance_mock_server::{Config, IdentityConfig, MockServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn password_body(user: &str, password: &str, project: Option<&str>) -> Value {
    let mut auth = json!({"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": "Default"}, "password": password,
    }}}});
    if let Some(p) = project {
        auth["scope"] = json!({"project": {"name": p, "domain": {"name": "Default"}}});
    }
    json!({ "auth": auth })
}

/// POST the body; the response's status, `X-Subject-Token` and JSON.
async fn post_tokens(
    http: &reqwest::Client,
    server: &MockServer,
    body: &Value,
) -> (StatusCode, Option<String>, Value) {
    let resp = http
        .post(format!("{}/v3/auth/tokens", server.identity_url()))
        .json(body)
        .send()
        .await
        .expect("POST tokens");
    let status = resp.status();
    let token = resp
        .headers()
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, token, resp.json().await.expect("json body"))
}

async fn login(http: &reqwest::Client, server: &MockServer, user: &str) -> String {
    let (status, token, _) = post_tokens(
        http,
        server,
        &password_body(user, &format!("{user}-secret"), Some(user)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    token.expect("X-Subject-Token")
}

async fn create_image(
    http: &reqwest::Client,
    server: &MockServer,
    token: &str,
    name: &str,
) -> (StatusCode, Value) {
    let resp = http
        .post(format!("{}/v2/images", server.url()))
        .header("X-Auth-Token", token)
        .json(&json!({"name": name}))
        .send()
        .await
        .expect("POST image");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn list_names(http: &reqwest::Client, server: &MockServer, token: &str) -> Vec<String> {
    let resp = http
        .get(format!("{}/v2/images", server.url()))
        .header("X-Auth-Token", token)
        .send()
        .await
        .expect("GET images");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.expect("json");
    let mut names: Vec<String> = body["images"]
        .as_array()
        .expect("images")
        .iter()
        .filter_map(|i| i["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn password_token_catalog_and_images_as_that_project() {
    let server = MockServer::start().await.expect("start");
    let http = reqwest::Client::new();

    let (status, token, body) = post_tokens(
        &http,
        &server,
        &password_body("demo", "demo-secret", Some("demo")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let token = token.expect("X-Subject-Token");
    let t = &body["token"];
    assert_eq!(t["methods"], json!(["password"]));
    assert_eq!(t["user"]["name"], "demo");
    assert_eq!(t["project"]["name"], "demo");
    assert_eq!(
        t["project"]["domain"],
        json!({"id": "default", "name": "Default"})
    );
    assert_eq!(t["audit_ids"].as_array().map(Vec::len), Some(1));
    assert!(
        t["expires_at"]
            .as_str()
            .is_some_and(|s| s.ends_with(".000000Z"))
    );

    // The catalog's image endpoints are this server; identity is /identity.
    let catalog = t["catalog"].as_array().expect("catalog");
    let service = |kind: &str| {
        catalog
            .iter()
            .find(|s| s["type"] == kind)
            .unwrap_or_else(|| panic!("{kind} service"))
    };
    let image = service("image");
    let endpoints = image["endpoints"].as_array().expect("endpoints");
    assert_eq!(endpoints.len(), 3);
    for e in endpoints {
        assert_eq!(e["url"], server.url().as_str());
        assert_eq!(e["region_id"], "RegionOne");
    }
    let public = endpoints
        .iter()
        .find(|e| e["interface"] == "public")
        .and_then(|e| e["url"].as_str())
        .expect("public image endpoint")
        .to_owned();
    assert_eq!(
        service("identity")["endpoints"][0]["url"],
        server.identity_url().as_str()
    );

    // /v2 acts as demo in project demo, at the catalog's endpoint.
    let (status, img) = create_image(&http, &server, &token, "demo-image").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(img["owner"], "demo");
    let admin_tok = login(&http, &server, "admin").await;
    let (_, admin_img) = create_image(&http, &server, &admin_tok, "admin-image").await;
    assert_eq!(admin_img["owner"], "admin");
    let resp = http
        .get(format!("{public}/v2/images"))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .expect("list");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(list_names(&http, &server, &token).await, ["demo-image"]);
    let alt = login(&http, &server, "alt").await;
    assert!(list_names(&http, &server, &alt).await.is_empty());

    // Validation: the token's own user may validate it; alt may not.
    let validate = |caller: &str, subject: &str| {
        http.get(format!("{}/v3/auth/tokens", server.identity_url()))
            .header("X-Auth-Token", caller)
            .header("X-Subject-Token", subject)
            .send()
    };
    let resp = validate(&token, &token).await.expect("validate");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok()),
        Some(token.as_str())
    );
    let again: Value = resp.json().await.expect("json");
    assert_eq!(again["token"]["audit_ids"], t["audit_ids"]);
    assert_eq!(
        validate(&alt, &token).await.expect("403").status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        validate(&admin_tok, "no-such-token")
            .await
            .expect("404")
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn wrong_password_is_keystones_401() {
    let server = MockServer::start().await.expect("start");
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{}/v3/auth/tokens", server.identity_url()))
        .json(&password_body("demo", "wrong", None))
        .send()
        .await
        .expect("POST");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().get("x-subject-token").is_none());
    assert_eq!(
        resp.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some(format!("Keystone uri=\"{}/v3\"", server.identity_url()).as_str())
    );
    let body: Value = resp.json().await.expect("json");
    assert_eq!(
        body,
        json!({"error": {
            "code": 401,
            "message": "The request you have made requires authentication.",
            "title": "Unauthorized",
        }})
    );
}

#[tokio::test]
async fn revoked_token_gets_401_on_v2() {
    let server = MockServer::start().await.expect("start");
    let http = reqwest::Client::new();
    let token = login(&http, &server, "demo").await;
    assert!(list_names(&http, &server, &token).await.is_empty());
    let resp = http
        .delete(format!("{}/v3/auth/tokens", server.identity_url()))
        .header("X-Auth-Token", &token)
        .header("X-Subject-Token", &token)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let resp = http
        .get(format!("{}/v2/images", server.url()))
        .header("X-Auth-Token", &token)
        .header("Accept", "application/json")
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some(format!("Keystone uri=\"{}\"", server.identity_url()).as_str())
    );
    let body: Value = resp.json().await.expect("Glance's JSON 401");
    assert_eq!(body["code"], "401 Unauthorized");

    // Keystone no longer knows it either.
    let admin = login(&http, &server, "admin").await;
    let resp = http
        .get(format!("{}/v3/auth/tokens", server.identity_url()))
        .header("X-Auth-Token", &admin)
        .header("X-Subject-Token", &token)
        .send()
        .await
        .expect("validate");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"]["message"], "Failed to validate token");

    // A token the shim never issued keeps the default identity.
    assert!(list_names(&http, &server, "anything").await.is_empty());
}

#[tokio::test]
async fn expired_token_gets_401() {
    let config = Config {
        identity: IdentityConfig {
            token_lifetime_secs: 1,
            ..IdentityConfig::default()
        },
        ..Config::default()
    };
    let server = MockServer::builder()
        .config(config)
        .start()
        .await
        .expect("start");
    let http = reqwest::Client::new();
    let token = login(&http, &server, "demo").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let resp = http
        .get(format!("{}/v2/images", server.url()))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn strict_mode_ignores_identity_headers() {
    let config = Config {
        require_auth: true,
        ..Config::default()
    };
    let server = MockServer::builder()
        .config(config)
        .start()
        .await
        .expect("start");
    let http = reqwest::Client::new();
    let images = format!("{}/v2/images", server.url());

    // Headers alone, or a token the shim never issued: 401.
    let forged = http
        .get(&images)
        .header("X-Identity-Status", "Confirmed")
        .header("X-Project-Id", "demo")
        .header("X-User-Id", "demo")
        .header("X-Roles", "admin,member,reader")
        .send()
        .await
        .expect("GET");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert!(forged.headers().contains_key("www-authenticate"));
    let foreign = http
        .get(&images)
        .header("X-Auth-Token", "not-from-the-shim")
        .send()
        .await
        .expect("GET");
    assert_eq!(foreign.status(), StatusCode::UNAUTHORIZED);
    let unknown_path = http
        .get(format!("{}/v2/nothing", server.url()))
        .send()
        .await
        .expect("GET");
    assert_eq!(unknown_path.status(), StatusCode::UNAUTHORIZED);
    // Outside /v2 nothing changes.
    let versions = http
        .get(format!("{}/versions", server.url()))
        .send()
        .await
        .expect("GET");
    assert_eq!(versions.status(), StatusCode::OK);

    // A shim token wins over forged headers: demo stays demo, not admin.
    let token = login(&http, &server, "demo").await;
    let resp = http
        .post(&images)
        .header("X-Auth-Token", &token)
        .header("X-Identity-Status", "Confirmed")
        .header("X-Project-Id", "alt")
        .header("X-Roles", "admin")
        .json(&json!({"name": "mine", "owner": "alt"}))
        .send()
        .await
        .expect("POST");
    // Setting another owner needs admin, which demo is not.
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (status, img) = create_image(&http, &server, &token, "mine").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(img["owner"], "demo");
}

#[tokio::test]
async fn application_credential_auth() {
    let server = MockServer::start().await.expect("start");
    let http = reqwest::Client::new();
    let ac = server.state().config.identity.application_credentials[0].clone();
    let body = |cred: Value| json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": cred}}});

    let (status, token, by_id) = post_tokens(
        &http,
        &server,
        &body(json!({"id": ac.id, "secret": ac.secret})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let t = &by_id["token"];
    assert_eq!(t["methods"], json!(["application_credential"]));
    assert_eq!(t["user"]["id"], "demo");
    assert_eq!(t["project"]["id"], "demo");
    assert_eq!(
        t["application_credential"],
        json!({"id": ac.id, "name": "ref-appcred", "restricted": true})
    );
    let token = token.expect("X-Subject-Token");
    let (status, img) = create_image(&http, &server, &token, "from-appcred").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(img["owner"], "demo");

    let (status, _, _) = post_tokens(
        &http,
        &server,
        &body(json!({"name": ac.name, "user": {"name": "demo", "domain": {"id": "default"}}, "secret": ac.secret})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, _, err) = post_tokens(
        &http,
        &server,
        &body(json!({"id": ac.id, "secret": format!("x{}", ac.secret)})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(err["error"]["title"], "Unauthorized");
}

#[tokio::test]
async fn version_documents() {
    let server = MockServer::start().await.expect("start");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let root = http.get(server.identity_url()).send().await.expect("GET");
    assert_eq!(root.status(), StatusCode::MULTIPLE_CHOICES);
    let href = format!("{}/v3/", server.identity_url());
    assert_eq!(
        root.headers().get("location").and_then(|v| v.to_str().ok()),
        Some(href.as_str())
    );
    let body: Value = root.json().await.expect("json");
    assert_eq!(body["versions"]["values"][0]["id"], "v3.14");
    assert_eq!(
        body["versions"]["values"][0]["links"][0]["href"],
        href.as_str()
    );
    let v3: Value = http
        .get(format!("{}/v3", server.identity_url()))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(v3["version"]["status"], "stable");
    assert_eq!(
        v3["version"]["media-types"][0]["type"],
        "application/vnd.openstack.identity-v3+json"
    );
}
