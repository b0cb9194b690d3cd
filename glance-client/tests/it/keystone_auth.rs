//! Keystone v3 authentication against wiremock: the exact request bodies
//! of each method, version discovery, catalog selection, re-authentication
//! on 401 (exactly once) and near expiry, and typed errors.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt;
use glance_client::auth::{AppCredential, Domain, Interface, Project, User};
use glance_client::{Client, ClientBuilder, Error, ListImages, RetryConfig, UploadBody};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PASSWORD: &str = "demo-secret-Zq9";

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("formats")
}

/// A catalog whose image endpoints are below `base`: public and internal
/// in RegionOne, public in RegionTwo, each with its own path prefix.
fn catalog(base: &str) -> Value {
    json!([
        {"type": "identity", "name": "keystone", "id": "k", "endpoints": [
            {"id": "k1", "interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": format!("{base}/identity")}]},
        {"type": "image", "name": "glance", "id": "g", "endpoints": [
            {"id": "g1", "interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": base},
            {"id": "g2", "interface": "internal", "region_id": "RegionOne", "region": "RegionOne", "url": format!("{base}/internal-one")},
            {"id": "g3", "interface": "public", "region_id": "RegionTwo", "region": "RegionTwo", "url": format!("{base}/public-two/v2")}]}
    ])
}

/// Keystone's 201 for a token `id` living `lifetime` seconds.
fn issued(id: &str, lifetime: i64, base: &str) -> ResponseTemplate {
    let now = OffsetDateTime::now_utc();
    ResponseTemplate::new(201)
        .insert_header("x-subject-token", id)
        .insert_header("x-openstack-request-id", "req-ks")
        .set_body_json(json!({"token": {
            "methods": ["password"],
            "user": {"domain": {"id": "default", "name": "Default"}, "id": "u-demo", "name": "demo", "password_expires_at": null},
            "audit_ids": ["a"],
            "issued_at": rfc3339(now),
            "expires_at": rfc3339(now + time::Duration::seconds(lifetime)),
            "project": {"domain": {"id": "default", "name": "Default"}, "id": "p-demo", "name": "demo"},
            "is_domain": false,
            "roles": [{"id": "r1", "name": "member"}, {"id": "r2", "name": "reader"}],
            "catalog": catalog(base),
        }}))
}

/// Keystone's root: 300 with the version list.
async fn mount_discovery(server: &MockServer) {
    let base = server.uri();
    Mock::given(method("GET"))
        .and(path("/identity"))
        .respond_with(ResponseTemplate::new(300).set_body_json(json!({"versions": {"values": [
            {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
             "links": [{"rel": "self", "href": format!("{base}/identity/v3/")}],
             "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}]}})))
        .mount(server)
        .await;
}

/// An image list answered for requests carrying `token`.
async fn mount_images(server: &MockServer, prefix: &str, token: &str) {
    Mock::given(method("GET"))
        .and(path(format!("{prefix}/v2/images")))
        .and(header("x-auth-token", token))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"images": [], "schema": "/v2/schemas/images"})),
        )
        .mount(server)
        .await;
}

/// Glance's 401 for any other token.
async fn mount_glance_401(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v2/images"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("www-authenticate", "Keystone uri=\"http://k\"")
                .set_body_string("401 Unauthorized\n\nThis server could not verify that you are authorized to access the document you requested."),
        )
        .with_priority(10)
        .mount(server)
        .await;
}

fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder()
        .auth_url(format!("{}/identity", server.uri()))
        .retry(RetryConfig::disabled())
}

fn demo_password(server: &MockServer) -> ClientBuilder {
    builder(server)
        .password_auth(User::name("demo", Domain::name("Default")), PASSWORD)
        .project(Project::name("demo", Domain::name("Default")))
}

async fn list(client: &Client) -> glance_client::Result<usize> {
    let all: Vec<_> = client
        .images()
        .list(ListImages::new())
        .try_collect()
        .await?;
    Ok(all.len())
}

/// Requests received, as `METHOD path`.
async fn seen(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

fn count(seen: &[String], what: &str) -> usize {
    seen.iter().filter(|s| *s == what).count()
}

#[tokio::test]
async fn password_by_name_discovers_v3_and_uses_the_catalog() {
    let server = MockServer::start().await;
    mount_discovery(&server).await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": "demo", "domain": {"name": "Default"}, "password": PASSWORD}}},
            "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}}
        }})))
        .respond_with(issued("tok-1", 3600, &server.uri()))
        .expect(1)
        .mount(&server)
        .await;
    mount_images(&server, "", "tok-1").await;

    let client = demo_password(&server).build().expect("builds");
    assert_eq!(client.endpoint(), None, "no catalog before the first call");
    assert_eq!(list(&client).await.expect("listed"), 0);
    assert_eq!(list(&client).await.expect("listed"), 0);
    assert_eq!(
        client.endpoint().map(|u| u.as_str().to_owned()),
        Some(format!("{}/", server.uri()))
    );
    let info = client.token_info().await.expect("ok").expect("keystone");
    assert_eq!(info.project_id.as_deref(), Some("p-demo"));
    assert_eq!(info.roles, ["member", "reader"]);
    assert_eq!(
        seen(&server).await,
        [
            "GET /identity",
            "POST /identity/v3/auth/tokens",
            "GET /v2/images",
            "GET /v2/images"
        ]
    );
}

#[tokio::test]
async fn password_by_ids_with_a_versioned_auth_url_skips_discovery() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .and(body_json(json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {"id": "u-demo", "password": PASSWORD}}},
            "scope": {"project": {"id": "p-demo"}}
        }})))
        .respond_with(issued("tok-1", 3600, &server.uri()))
        .expect(1)
        .mount(&server)
        .await;
    mount_images(&server, "", "tok-1").await;
    let client = Client::builder()
        .auth_url(format!("{}/identity/v3", server.uri()))
        .password_auth(User::id("u-demo"), PASSWORD)
        .project(Project::id("p-demo"))
        .build()
        .expect("builds");
    client.authenticate().await.expect("authenticated");
    list(&client).await.expect("listed");
    assert_eq!(
        seen(&server).await,
        ["POST /identity/v3/auth/tokens", "GET /v2/images"]
    );
}

#[tokio::test]
async fn application_credential_by_id_and_by_name() {
    let server = MockServer::start().await;
    mount_discovery(&server).await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .and(body_json(json!({"auth": {"identity": {
            "methods": ["application_credential"],
            "application_credential": {"id": "ac-id", "secret": "ac-secret"}}}})))
        .respond_with(issued("tok-id", 3600, &server.uri()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .and(body_json(json!({"auth": {"identity": {
            "methods": ["application_credential"],
            "application_credential": {"name": "ref-appcred",
                "user": {"name": "demo", "domain": {"id": "default"}}, "secret": "ac-secret"}}}})))
        .respond_with(issued("tok-name", 3600, &server.uri()))
        .expect(1)
        .mount(&server)
        .await;
    mount_images(&server, "", "tok-id").await;
    mount_images(&server, "", "tok-name").await;

    // A project given alongside is not sent: Keystone refuses scoped
    // application credential requests.
    let by_id = builder(&server)
        .application_credential(AppCredential::id("ac-id"), "ac-secret")
        .project(Project::id("ignored"))
        .build()
        .expect("builds");
    list(&by_id).await.expect("listed by id");
    let by_name = builder(&server)
        .application_credential(
            AppCredential::name("ref-appcred", User::name("demo", Domain::id("default"))),
            "ac-secret",
        )
        .build()
        .expect("builds");
    list(&by_name).await.expect("listed by name");
}

#[tokio::test]
async fn an_existing_token_is_exchanged_for_a_scoped_one() {
    let server = MockServer::start().await;
    mount_discovery(&server).await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .and(body_json(json!({"auth": {
            "identity": {"methods": ["token"], "token": {"id": "unscoped-tok"}},
            "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}})))
        .respond_with(issued("scoped-tok", 3600, &server.uri()))
        .expect(1)
        .mount(&server)
        .await;
    mount_images(&server, "", "scoped-tok").await;
    let client = builder(&server)
        .token_auth("unscoped-tok")
        .project(Project::name("demo", Domain::id("default")))
        .build()
        .expect("builds");
    list(&client).await.expect("listed");
}

#[tokio::test]
async fn catalog_selection_by_interface_and_region() {
    let server = MockServer::start().await;
    mount_discovery(&server).await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(issued("tok-1", 3600, &server.uri()))
        .mount(&server)
        .await;
    mount_images(&server, "/internal-one", "tok-1").await;
    mount_images(&server, "/public-two", "tok-1").await;
    mount_images(&server, "/explicit", "tok-1").await;

    let internal = demo_password(&server)
        .interface(Interface::Internal)
        .build()
        .expect("builds");
    list(&internal).await.expect("internal endpoint");
    // The catalog's "/v2" suffix is dropped, as for explicit endpoints.
    let two = demo_password(&server)
        .region("RegionTwo")
        .build()
        .expect("builds");
    list(&two).await.expect("RegionTwo endpoint");
    // An explicit endpoint wins over the catalog.
    let explicit = demo_password(&server)
        .endpoint(format!("{}/explicit", server.uri()))
        .region("RegionTwo")
        .build()
        .expect("builds");
    list(&explicit).await.expect("explicit endpoint");
    let paths = seen(&server).await;
    assert_eq!(count(&paths, "GET /internal-one/v2/images"), 1);
    assert_eq!(count(&paths, "GET /public-two/v2/images"), 1);
    assert_eq!(count(&paths, "GET /explicit/v2/images"), 1);

    // Nothing internal in RegionTwo: a typed error, and no image request.
    let none = demo_password(&server)
        .interface(Interface::Internal)
        .region("RegionTwo")
        .build()
        .expect("builds");
    let err = list(&none).await.expect_err("no endpoint");
    match &err {
        Error::Catalog {
            service_type,
            interface,
            region,
            message,
        } => {
            assert_eq!(service_type, "image");
            assert_eq!(interface, "internal");
            assert_eq!(region.as_deref(), Some("RegionTwo"));
            assert!(message.contains("public in RegionTwo"), "{message}");
        }
        other => panic!("expected a catalog error, got {other:?}"),
    }
    assert!(err.is_catalog());
    assert_eq!(
        seen(&server).await.len(),
        paths.len() + 2,
        "discovery + token only"
    );
}

#[tokio::test]
async fn a_401_reauthenticates_and_resends_exactly_once() {
    let server = MockServer::start().await;
    mount_discovery(&server).await;
    let base = server.uri();
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(issued("tok-1", 3600, &base))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(issued("tok-2", 3600, &base))
        .with_priority(2)
        .mount(&server)
        .await;
    mount_images(&server, "", "tok-2").await;
    mount_glance_401(&server).await;

    let client = demo_password(&server).build().expect("builds");
    // tok-1 is refused (revoked, say): a new token, the request once more.
    list(&client).await.expect("listed after re-authentication");
    // tok-2 is kept for later calls.
    list(&client).await.expect("listed");
    let paths = seen(&server).await;
    assert_eq!(
        count(&paths, "POST /identity/v3/auth/tokens"),
        2,
        "{paths:?}"
    );
    assert_eq!(count(&paths, "GET /v2/images"), 3, "{paths:?}");
    let tokens: Vec<String> = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == "/v2/images")
        .filter_map(|r| {
            r.headers
                .get("x-auth-token")?
                .to_str()
                .ok()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(tokens, ["tok-1", "tok-2", "tok-2"]);
}

#[tokio::test]
async fn a_second_401_is_returned_without_looping() {
    let server = MockServer::start().await;
    mount_discovery(&server).await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(issued("tok-n", 3600, &server.uri()))
        .mount(&server)
        .await;
    mount_glance_401(&server).await;
    let client = demo_password(&server).build().expect("builds");
    let err = list(&client).await.expect_err("refused twice");
    assert!(err.is_unauthorized(), "{err}");
    assert!(matches!(err, Error::Http { .. }), "{err:?}");
    let paths = seen(&server).await;
    assert_eq!(
        count(&paths, "POST /identity/v3/auth/tokens"),
        2,
        "{paths:?}"
    );
    assert_eq!(count(&paths, "GET /v2/images"), 2, "{paths:?}");
}

#[tokio::test]
async fn a_one_shot_upload_is_not_resent_after_a_401() {
    let server = MockServer::start().await;
    mount_discovery(&server).await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(issued("tok-n", 3600, &server.uri()))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/v2/images/i1/file"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let client = demo_password(&server).build().expect("builds");
    let stream = futures::stream::iter([Ok(bytes::Bytes::from_static(b"data"))]);
    let body = UploadBody::Stream {
        stream: Box::pin(stream),
        size: Some(4),
    };
    let err = client
        .images()
        .upload("i1", body)
        .await
        .expect_err("refused");
    assert!(err.is_unauthorized(), "{err}");
    let paths = seen(&server).await;
    assert_eq!(count(&paths, "PUT /v2/images/i1/file"), 1, "{paths:?}");
    // The refused token is forgotten: the next call authenticates again.
    assert_eq!(count(&paths, "POST /identity/v3/auth/tokens"), 1);
    let _ = client.token_info().await.expect("new token");
    let paths = seen(&server).await;
    assert_eq!(count(&paths, "POST /identity/v3/auth/tokens"), 2);
}

#[tokio::test]
async fn a_token_about_to_expire_is_replaced_before_use() {
    let server = MockServer::start().await;
    mount_discovery(&server).await;
    let base = server.uri();
    // The first token lives one second: it is replaced after half of it.
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(issued("short", 1, &base))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(issued("long", 3600, &base))
        .with_priority(2)
        .mount(&server)
        .await;
    mount_images(&server, "", "short").await;
    mount_images(&server, "", "long").await;
    let client = demo_password(&server).build().expect("builds");
    list(&client).await.expect("listed");
    tokio::time::sleep(Duration::from_millis(700)).await;
    list(&client).await.expect("listed");
    list(&client).await.expect("listed");
    let tokens: Vec<String> = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == "/v2/images")
        .filter_map(|r| {
            r.headers
                .get("x-auth-token")?
                .to_str()
                .ok()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(tokens, ["short", "long", "long"]);
    assert_eq!(
        count(&seen(&server).await, "POST /identity/v3/auth/tokens"),
        2
    );
}

#[tokio::test]
async fn concurrent_calls_share_one_authentication() {
    let server = MockServer::start().await;
    mount_discovery(&server).await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(issued("tok-1", 3600, &server.uri()).set_delay(Duration::from_millis(100)))
        .expect(1)
        .mount(&server)
        .await;
    mount_images(&server, "", "tok-1").await;
    let client = demo_password(&server).build().expect("builds");
    let calls = (0..5).map(|_| list(&client));
    for r in futures::future::join_all(calls).await {
        r.expect("listed");
    }
}

#[tokio::test]
async fn wrong_credentials_are_a_typed_error_with_keystones_message() {
    let server = MockServer::start().await;
    mount_discovery(&server).await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("www-authenticate", "Keystone uri=\"http://k/v3\"")
                .insert_header("x-openstack-request-id", "req-wrong")
                .set_body_json(json!({"error": {"code": 401,
                    "message": "The request you have made requires authentication.",
                    "title": "Unauthorized"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = demo_password(&server).build().expect("builds");
    let err = list(&client).await.expect_err("refused");
    match &err {
        Error::Auth {
            status,
            message,
            request_id,
        } => {
            assert_eq!(status.as_u16(), 401);
            assert_eq!(
                message,
                "The request you have made requires authentication."
            );
            assert_eq!(request_id.as_deref(), Some("req-wrong"));
        }
        other => panic!("expected an auth error, got {other:?}"),
    }
    assert!(err.is_auth() && err.is_unauthorized());
    assert_eq!(
        err.to_string(),
        "authentication failed: The request you have made requires authentication. (HTTP 401) (Request-ID: req-wrong)"
    );
    assert!(!seen(&server).await.iter().any(|p| p.contains("/v2/")));
}

#[tokio::test]
async fn keystone_5xx_is_retried_like_other_idempotent_calls() {
    let server = MockServer::start().await;
    mount_discovery(&server).await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(issued("tok-1", 3600, &server.uri()))
        .with_priority(2)
        .mount(&server)
        .await;
    mount_images(&server, "", "tok-1").await;
    let client = demo_password(&server)
        .retry(RetryConfig::default().with_initial_backoff(Duration::from_millis(1)))
        .build()
        .expect("builds");
    list(&client).await.expect("listed");
}

#[tokio::test]
async fn discovery_falls_back_to_appending_v3() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(issued("tok-1", 3600, &server.uri()))
        .mount(&server)
        .await;
    mount_images(&server, "", "tok-1").await;
    // The root answers 404 (nothing mounted there).
    let client = demo_password(&server).build().expect("builds");
    list(&client).await.expect("listed");
    assert_eq!(
        seen(&server).await,
        [
            "GET /identity",
            "POST /identity/v3/auth/tokens",
            "GET /v2/images"
        ]
    );
}

#[tokio::test]
async fn builder_mistakes_are_config_errors() {
    let e = Client::builder()
        .password_auth(User::id("u"), "p")
        .build()
        .expect_err("no auth URL");
    assert!(e.to_string().contains("without an auth URL"), "{e}");
    let e = Client::builder()
        .auth_url("http://k:5000")
        .build()
        .expect_err("no credentials");
    assert!(e.to_string().contains("without credentials"), "{e}");
    let e = Client::builder()
        .auth_url("http://k:5000/v2.0")
        .password_auth(User::id("u"), "p")
        .build()
        .expect_err("v2.0");
    assert!(e.to_string().contains("v2.0"), "{e}");
    let e = Client::builder()
        .auth_url("http://k:5000")
        .password_auth(User::id("u"), "p")
        .token("static")
        .build()
        .expect_err("both");
    assert!(e.to_string().contains("not both"), "{e}");
    let e = Client::builder().build().expect_err("nothing");
    assert!(e.to_string().contains("no Image service endpoint"), "{e}");
}

/// A writer collecting tracing output.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn secrets_never_reach_debug_or_tracing_output() {
    let server = MockServer::start().await;
    mount_discovery(&server).await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(issued("tok-SENSITIVE-1", 3600, &server.uri()))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(issued("tok-SENSITIVE-2", 3600, &server.uri()))
        .with_priority(2)
        .mount(&server)
        .await;
    mount_images(&server, "", "tok-SENSITIVE-2").await;
    mount_glance_401(&server).await;

    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let builder = demo_password(&server);
    let client = builder.clone().build().expect("builds");
    list(&client).await.expect("listed");
    let log = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(log.contains("authenticating with Keystone"), "{log}");
    assert!(log.contains("401 with a Keystone token"), "{log}");
    // Every event of a call sits in its request span (method and path).
    assert!(
        log.contains("glance_request{method=GET path=/v2/images}"),
        "{log}"
    );
    let debug = format!("{builder:?} {client:?}");
    for text in [&log, &debug] {
        assert!(!text.contains(PASSWORD), "{text}");
        assert!(!text.contains("SENSITIVE"), "{text}");
    }
    // The client's own Debug names the method, not the secret.
    assert!(debug.contains("<redacted>"), "{debug}");
}

/// With a caller's reqwest client, Keystone is asked through it too, with
/// the builder's User-Agent.
#[tokio::test]
async fn keystone_goes_through_a_callers_http_client() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .and(header("user-agent", "tool/2.0"))
        .respond_with(issued("tok-1", 3600, &server.uri()))
        .expect(1)
        .mount(&server)
        .await;
    mount_images(&server, "", "tok-1").await;
    let client = Client::builder()
        .auth_url(format!("{}/identity/v3", server.uri()))
        .password_auth(User::id("u-demo"), PASSWORD)
        .project(Project::id("p-demo"))
        .user_agent("tool/2.0")
        .http_client(glance_client::reqwest::Client::new())
        .build()
        .expect("builds");
    list(&client).await.expect("listed");
}

/// A domain-scoped token is asked for with keystoneauth's body (the
/// mock's identity shim has no domain scope; real Keystone takes this).
#[tokio::test]
async fn a_domain_scope_is_sent_as_keystoneauth_sends_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .and(body_json(json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {"id": "u-demo", "password": PASSWORD}}},
            "scope": {"domain": {"name": "Default"}}
        }})))
        .respond_with(issued("tok-1", 3600, &server.uri()))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder()
        .auth_url(format!("{}/identity/v3", server.uri()))
        .password_auth(User::id("u-demo"), PASSWORD)
        .domain_scope(Domain::name("Default"))
        .build()
        .expect("builds");
    client.authenticate().await.expect("authenticated");
}
