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

// --- The `token` method: rescoping, and delegated tokens ------------------
//
// Each case below was answered by the reference Keystone 30
// (`shared/real-keystone`), with demo also given `reader` on alt and a
// second application credential of demo limited to `[reader]`.

const DELEGATED: &str = "You are not authorized to perform the requested action: Using a delegated token to create another token is not allowed..";
const REQUIRES_AUTH: &str = "The request you have made requires authentication.";

/// The default identities, plus demo as `reader` on alt and the
/// application credential `reader-ac` of demo, limited to `[reader]`.
async fn rescope_server() -> MockServer {
    let mut identity = IdentityConfig::default();
    let demo = identity
        .users
        .iter_mut()
        .find(|u| u.id == "demo")
        .expect("demo");
    let mut on_alt = demo.assignments[0].clone();
    on_alt.project_id = "alt".into();
    on_alt.roles = vec!["reader".into()];
    demo.assignments.push(on_alt);
    let mut reader = identity.application_credentials[0].clone();
    reader.id = "reader-ac-id".into();
    reader.name = "reader-ac".into();
    reader.secret = "reader-ac-secret".into();
    reader.roles = Some(vec!["reader".into()]);
    identity.application_credentials.push(reader);
    MockServer::builder()
        .config(Config {
            identity,
            ..Config::default()
        })
        .start()
        .await
        .expect("start")
}

fn token_body(token: &str, scope: Option<Value>) -> Value {
    let mut auth = json!({"identity": {"methods": ["token"], "token": {"id": token}}});
    if let Some(s) = scope {
        auth["scope"] = s;
    }
    json!({ "auth": auth })
}

fn project_id(id: &str) -> Option<Value> {
    Some(json!({"project": {"id": id}}))
}

fn app_cred(id: &str, secret: &str) -> Value {
    json!({"id": id, "secret": secret})
}

fn reader_ac() -> Value {
    app_cred("reader-ac-id", "reader-ac-secret")
}

fn demo_password(password: &str) -> Value {
    json!({"user": {"id": "demo", "password": password}})
}

/// A body with the given methods, in order, and their payloads.
fn methods_body(methods: &[(&str, Value)], scope: Option<Value>) -> Value {
    let mut identity = json!({"methods": methods.iter().map(|(m, _)| *m).collect::<Vec<_>>()});
    for (m, payload) in methods {
        identity[*m] = payload.clone();
    }
    let mut auth = json!({ "identity": identity });
    if let Some(s) = scope {
        auth["scope"] = s;
    }
    json!({ "auth": auth })
}

fn role_names(body: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = body["token"]["roles"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["name"].as_str()).collect())
        .unwrap_or_default();
    names.sort_unstable();
    names
}

fn sorted_methods(body: &Value) -> Vec<&str> {
    let mut m: Vec<&str> = body["token"]["methods"]
        .as_array()
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    m.sort_unstable();
    m
}

/// Issue and expect 201; the token and its body.
async fn issued(http: &reqwest::Client, server: &MockServer, body: &Value) -> (String, Value) {
    let (status, token, json) = post_tokens(http, server, body).await;
    assert_eq!(status, StatusCode::CREATED, "{body} -> {json}");
    (token.expect("X-Subject-Token"), json)
}

/// Expect Keystone's error body with this status and message, and no token.
async fn refused(
    http: &reqwest::Client,
    server: &MockServer,
    body: &Value,
    status: StatusCode,
    message: &str,
) -> Value {
    let (got, token, json) = post_tokens(http, server, body).await;
    assert_eq!(got, status, "{body} -> {json}");
    assert!(token.is_none(), "{body}: no token on a refusal");
    assert_eq!(json["error"]["code"], status.as_u16(), "{json}");
    assert_eq!(json["error"]["message"], message, "{json}");
    json
}

#[tokio::test]
async fn an_application_credential_token_is_not_exchanged_for_another() {
    let server = rescope_server().await;
    let http = reqwest::Client::new();
    let ac = json!({"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": reader_ac()}}});
    let (reader, body) = issued(&http, &server, &ac).await;
    assert_eq!(role_names(&body), ["reader"]);
    let full = json!({"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": app_cred("ref-appcred-id", "ref-appcred-secret")}}});
    let (full, body) = issued(&http, &server, &full).await;
    assert_eq!(role_names(&body), ["member", "reader"]);

    // Keystone 30: 403 whatever the scope (none, unscoped, the credential's
    // own project, another project, a domain), and for either credential.
    let scopes = [
        None,
        Some(json!("unscoped")),
        project_id("demo"),
        Some(json!({"project": {"name": "demo", "domain": {"id": "default"}}})),
        project_id("alt"),
        Some(json!({"domain": {"id": "default"}})),
    ];
    for scope in scopes {
        let json = refused(
            &http,
            &server,
            &token_body(&reader, scope.clone()),
            StatusCode::FORBIDDEN,
            DELEGATED,
        )
        .await;
        assert_eq!(
            json,
            json!({"error": {"code": 403, "message": DELEGATED, "title": "Forbidden"}}),
            "{scope:?}"
        );
    }
    for scope in [None, project_id("demo")] {
        refused(
            &http,
            &server,
            &token_body(&full, scope),
            StatusCode::FORBIDDEN,
            DELEGATED,
        )
        .await;
    }
    // The reader token itself stays what it was.
    let resp = http
        .get(format!("{}/v3/auth/tokens", server.identity_url()))
        .header("X-Auth-Token", &reader)
        .header("X-Subject-Token", &reader)
        .send()
        .await
        .expect("validate");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(role_names(&body), ["reader"]);

    // Revoked, it is 404 before anything else (as Keystone).
    let resp = http
        .delete(format!("{}/v3/auth/tokens", server.identity_url()))
        .header("X-Auth-Token", &reader)
        .header("X-Subject-Token", &reader)
        .send()
        .await
        .expect("revoke");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    refused(
        &http,
        &server,
        &token_body(&reader, None),
        StatusCode::NOT_FOUND,
        "Failed to validate token",
    )
    .await;
}

#[tokio::test]
async fn a_project_token_rescopes_where_the_user_has_a_role() {
    let server = rescope_server().await;
    let http = reqwest::Client::new();
    let demo = login(&http, &server, "demo").await;

    // To alt, where demo is reader: 201 with alt's roles only.
    let (_, body) = issued(&http, &server, &token_body(&demo, project_id("alt"))).await;
    assert_eq!(body["token"]["project"]["id"], "alt");
    assert_eq!(role_names(&body), ["reader"]);
    assert_eq!(sorted_methods(&body), ["password", "token"]);
    assert_eq!(body["token"]["audit_ids"].as_array().map(Vec::len), Some(2));
    // The same project again, or no scope: demo's roles on demo.
    for scope in [project_id("demo"), None] {
        let (_, body) = issued(&http, &server, &token_body(&demo, scope)).await;
        assert_eq!(body["token"]["project"]["id"], "demo");
        assert_eq!(role_names(&body), ["member", "reader"]);
    }
    // To admin (no role there) or a project that does not exist: 401.
    for scope in [project_id("admin"), project_id("no-such-project")] {
        refused(
            &http,
            &server,
            &token_body(&demo, scope),
            StatusCode::UNAUTHORIZED,
            REQUIRES_AUTH,
        )
        .await;
    }
}

#[tokio::test]
async fn an_unscoped_token_scopes_to_a_project_of_the_user() {
    let server = rescope_server().await;
    let http = reqwest::Client::new();
    let mut body = password_body("demo", "demo-secret", None);
    body["auth"]["scope"] = json!("unscoped");
    let (unscoped, json) = issued(&http, &server, &body).await;
    assert!(json["token"].get("project").is_none(), "{json}");

    let (_, json) = issued(&http, &server, &token_body(&unscoped, project_id("demo"))).await;
    assert_eq!(json["token"]["project"]["id"], "demo");
    assert_eq!(role_names(&json), ["member", "reader"]);
    let by_name = Some(json!({"project": {"name": "alt", "domain": {"name": "Default"}}}));
    let (_, json) = issued(&http, &server, &token_body(&unscoped, by_name)).await;
    assert_eq!(json["token"]["project"]["id"], "alt");
    assert_eq!(role_names(&json), ["reader"]);
    // Without a scope it stays unscoped... as the original was.
    let (_, json) = issued(&http, &server, &token_body(&unscoped, None)).await;
    assert!(json["token"].get("project").is_none(), "{json}");
    refused(
        &http,
        &server,
        &token_body(&unscoped, project_id("admin")),
        StatusCode::UNAUTHORIZED,
        REQUIRES_AUTH,
    )
    .await;
}

#[tokio::test]
async fn a_project_token_can_be_unscoped() {
    let server = rescope_server().await;
    let http = reqwest::Client::new();
    let demo = login(&http, &server, "demo").await;
    let (unscoped, json) =
        issued(&http, &server, &token_body(&demo, Some(json!("unscoped")))).await;
    let t = &json["token"];
    for key in ["project", "roles", "catalog", "application_credential"] {
        assert!(t.get(key).is_none(), "{key} in {t}");
    }
    assert_eq!(sorted_methods(&json), ["password", "token"]);
    // And the unscoped one rescopes to unscoped again.
    let (_, json) = issued(
        &http,
        &server,
        &token_body(&unscoped, Some(json!("unscoped"))),
    )
    .await;
    assert!(json["token"].get("project").is_none(), "{json}");
}

#[tokio::test]
async fn tokens_mixing_an_application_credential_are_delegated_too() {
    let server = rescope_server().await;
    let http = reqwest::Client::new();
    let demo = login(&http, &server, "demo").await;
    let ac = json!({"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": reader_ac()}}});
    let (reader, _) = issued(&http, &server, &ac).await;

    // An application credential with a password token: 201, the
    // credential's project and roles.
    let (mixed, json) = issued(
        &http,
        &server,
        &methods_body(
            &[
                ("application_credential", reader_ac()),
                ("token", json!({"id": demo})),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(json["token"]["project"]["id"], "demo");
    assert_eq!(role_names(&json), ["reader"]);
    assert_eq!(json["token"]["application_credential"]["name"], "reader-ac");
    assert_eq!(
        sorted_methods(&json),
        ["application_credential", "password", "token"]
    );
    // ... and with a password.
    let (with_password, json) = issued(
        &http,
        &server,
        &methods_body(
            &[
                ("application_credential", reader_ac()),
                ("password", demo_password("demo-secret")),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(role_names(&json), ["reader"]);
    // Neither buys another token.
    for t in [&mixed, &with_password] {
        for scope in [None, Some(json!("unscoped")), project_id("demo")] {
            refused(
                &http,
                &server,
                &token_body(t, scope),
                StatusCode::FORBIDDEN,
                DELEGATED,
            )
            .await;
        }
    }

    // Methods run in the request's order: the delegated token refuses
    // once the methods before it passed, whatever comes after.
    let delegated_cases = [
        (
            vec![
                ("password", demo_password("demo-secret")),
                ("token", json!({"id": reader})),
            ],
            project_id("demo"),
        ),
        (
            vec![
                ("token", json!({"id": reader})),
                ("password", demo_password("demo-secret")),
            ],
            None,
        ),
        (
            vec![
                ("token", json!({"id": reader})),
                ("password", demo_password("wrong")),
            ],
            None,
        ),
        (
            vec![
                (
                    "password",
                    json!({"user": {"id": "alt", "password": "alt-secret"}}),
                ),
                ("token", json!({"id": reader})),
            ],
            None,
        ),
        (
            vec![
                ("application_credential", reader_ac()),
                ("token", json!({"id": reader})),
            ],
            None,
        ),
    ];
    for (methods, scope) in delegated_cases {
        refused(
            &http,
            &server,
            &methods_body(&methods, scope),
            StatusCode::FORBIDDEN,
            DELEGATED,
        )
        .await;
    }
    // A failing method before it: that method's 401.
    for methods in [
        vec![
            ("password", demo_password("wrong")),
            ("token", json!({"id": reader})),
        ],
        vec![
            (
                "application_credential",
                app_cred("reader-ac-id", "Xeader-ac-secret"),
            ),
            ("token", json!({"id": reader})),
        ],
    ] {
        refused(
            &http,
            &server,
            &methods_body(&methods, None),
            StatusCode::UNAUTHORIZED,
            REQUIRES_AUTH,
        )
        .await;
    }
    // An application credential with a (password) token still may not
    // ask for a scope.
    let json = refused(
        &http,
        &server,
        &methods_body(
            &[
                ("application_credential", reader_ac()),
                ("token", json!({"id": demo})),
            ],
            project_id("demo"),
        ),
        StatusCode::UNAUTHORIZED,
        "Error authenticating with application credential: Application credentials cannot request a scope.",
    )
    .await;
    assert_eq!(json["error"]["identity"], json!({}));
}
