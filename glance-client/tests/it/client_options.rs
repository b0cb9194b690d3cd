//! Builder options on the wire, and version discovery.

use glance_client::{Client, Error, RetryConfig};
use serde_json::json;
use wiremock::matchers::{header, headers, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::ID;

fn versions(ids: &[(&str, &str)]) -> serde_json::Value {
    let entries: Vec<_> = ids
        .iter()
        .map(|(id, status)| json!({"id": id, "status": status, "links": [{"rel": "self", "href": "http://h/v2/"}]}))
        .collect();
    json!({ "versions": entries })
}

/// Glance 33 without multistore or cache.
fn default_glance() -> serde_json::Value {
    versions(&[
        ("v2.15", "SUPPORTED"),
        ("v2.9", "SUPPORTED"),
        ("v2.17", "CURRENT"),
        ("v2.7", "SUPPORTED"),
        ("v2.0", "SUPPORTED"),
    ])
}

#[tokio::test]
async fn default_headers_user_agent_and_token_are_sent() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v2/images/{ID}")))
        .and(header("x-identity-status", "Confirmed"))
        // (wiremock compares comma-separated values one by one)
        .and(headers("x-roles", vec!["admin", "member", "reader"]))
        .and(header("x-project-id", "p1"))
        .and(header("user-agent", "tool/1.0"))
        .and(header("x-auth-token", "secret"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder()
        .endpoint(server.uri())
        .token("secret")
        .user_agent("tool/1.0")
        .default_header("X-Identity-Status", "Confirmed")
        .default_header("X-Roles", "reader")
        .default_header("x-roles", "admin,member,reader")
        .default_header("X-Project-Id", "p1")
        .build()
        .expect("client builds");
    client.images().delete(ID).await.expect("matched");
}

#[tokio::test]
async fn the_token_wins_over_a_default_auth_header() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(header("x-auth-token", "from-token"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder()
        .endpoint(server.uri())
        .default_header("X-Auth-Token", "from-header")
        .token("from-token")
        .build()
        .expect("client builds");
    client.images().delete(ID).await.expect("matched");
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(
        requests[0].headers.get_all("x-auth-token").iter().count(),
        1
    );
}

#[test]
fn bad_options_are_refused_by_build() {
    let base = || Client::builder().endpoint("https://h:9292");
    let cases = [
        base().default_header("bad header", "v"),
        base().default_header("x-ok", "line\nbreak"),
        base().user_agent("\u{7f}"),
        base().token("a\nb"),
        base().ca_cert_file("/nonexistent/ca.pem"),
        base().ca_cert_pem("not a certificate"),
        base().client_cert_file("/nonexistent/c.pem", "/nonexistent/k.pem"),
        base().client_identity_pem("not a key"),
        Client::builder(),
    ];
    for builder in cases {
        let err = builder.build().expect_err("refused");
        assert!(matches!(err, Error::Config(_)), "{err}");
    }
}

#[test]
fn builder_debug_never_shows_secrets() {
    let b = Client::builder()
        .endpoint("http://h")
        .token("super-secret")
        .default_header("X-Auth-Token", "also-secret");
    let shown = format!("{b:?}");
    assert!(!shown.contains("secret"), "{shown}");
    let c = b.build().expect("builds");
    assert!(!format!("{c:?}").contains("secret"));
}

#[tokio::test]
async fn versions_are_fetched_once_and_300_is_accepted() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/versions"))
        .respond_with(ResponseTemplate::new(300).set_body_json(default_glance()))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder()
        .endpoint(format!("{}/v2", server.uri()))
        .build()
        .expect("client builds");
    let listed = client.versions().await.expect("300 is fine here");
    assert_eq!(listed.len(), 5);
    assert!(client.has_version("2.17").await.expect("cached"));
    assert!(client.has_version("v2.15").await.expect("cached"));
    assert!(!client.has_version("2.14").await.expect("cached"));
    assert!(!client.has_version("2.12").await.expect("cached"));
    let clone = client.clone();
    assert!(clone.has_version("2.9").await.expect("shared cache"));
    assert!(
        client
            .has_version("latest")
            .await
            .expect_err("not a version")
            .is_invalid_input()
    );
}

#[tokio::test]
async fn a_failed_version_fetch_is_not_cached() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/versions"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/versions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(default_glance()))
        .mount(&server)
        .await;
    let client = Client::builder()
        .endpoint(server.uri())
        .retry(RetryConfig::disabled())
        .build()
        .expect("client builds");
    assert_eq!(
        client
            .versions()
            .await
            .expect_err("500")
            .status()
            .map(|s| s.as_u16()),
        Some(500)
    );
    assert!(client.has_version("2.17").await.expect("second fetch"));
}

#[tokio::test]
async fn image_tasks_need_api_2_12_or_newer() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/versions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(versions(&[("v2.9", "CURRENT"), ("v2.0", "SUPPORTED")])),
        )
        .mount(&server)
        .await;
    let client = Client::builder()
        .endpoint(server.uri())
        .build()
        .expect("client builds");
    let err = client.images().tasks(ID).await.expect_err("too old");
    match &err {
        Error::UnsupportedVersion { needed, available } => {
            assert_eq!(needed, "v2.12");
            assert_eq!(available, &["v2.9", "v2.0"]);
        }
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
    assert!(err.is_unsupported_version());
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 1, "only /versions was asked");
}

#[tokio::test]
async fn image_tasks_work_on_a_newer_server_without_v2_12_listed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/versions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(default_glance()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/images/{ID}/tasks")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"tasks": [{
            "id": "t", "type": "api_image_import", "status": "processing",
            "owner": "p", "image_id": ID, "input": {}, "result": null, "message": "",
            "created_at": "2026-11-22T04:11:22.831622", "updated_at": "2026-11-22T04:11:22.831622",
            "expires_at": null, "deleted": false, "deleted_at": null,
            "request_id": "req-1", "user_id": "u"
        }]})))
        .mount(&server)
        .await;
    let client = Client::builder()
        .endpoint(server.uri())
        .build()
        .expect("client builds");
    let tasks = client.images().tasks(ID).await.expect("listed");
    assert_eq!(tasks.len(), 1);
    assert_eq!(
        tasks[0].status,
        glance_client::tasks::TaskStatus::Processing
    );
}

#[tokio::test]
async fn empty_ids_never_reach_the_server() {
    let server = MockServer::start().await;
    let client = Client::builder()
        .endpoint(server.uri())
        .build()
        .expect("client builds");
    for err in [
        client.images().delete("").await.expect_err("refused"),
        client.images().get("").await.expect_err("refused"),
        client.images().add_tag(ID, "").await.expect_err("refused"),
    ] {
        assert!(err.is_invalid_input(), "{err}");
    }
    assert_eq!(server.received_requests().await.map_or(0, |r| r.len()), 0);
}

/// A caller's own reqwest client: the builder's headers and token still
/// go out (once each), and TLS settings are refused on the builder.
#[tokio::test]
async fn a_callers_http_client_is_used_with_the_builders_headers() {
    use glance_client::reqwest;
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v2/images/{ID}")))
        .and(header("user-agent", "tool/1.0"))
        .and(header("x-project-id", "p1"))
        .and(header("x-auth-token", "from-token"))
        .and(header("x-from-the-http-client", "yes"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let mut marked = reqwest::header::HeaderMap::new();
    marked.insert(
        "x-from-the-http-client",
        reqwest::header::HeaderValue::from_static("yes"),
    );
    let http = reqwest::Client::builder()
        .default_headers(marked)
        .build()
        .expect("reqwest client");
    let client = Client::builder()
        .endpoint(server.uri())
        .token("from-token")
        .user_agent("tool/1.0")
        .default_header("X-Project-Id", "p1")
        .default_header("X-Auth-Token", "from-header")
        .http_client(http.clone())
        .build()
        .expect("client builds");
    client.images().delete(ID).await.expect("matched");
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(
        requests[0].headers.get_all("x-auth-token").iter().count(),
        1
    );

    for tls in [
        Client::builder().danger_accept_invalid_certs(true),
        Client::builder().ca_cert_pem("pem"),
        Client::builder().connect_timeout(std::time::Duration::from_secs(1)),
    ] {
        let err = tls
            .endpoint(server.uri())
            .http_client(http.clone())
            .build()
            .expect_err("refused");
        assert!(matches!(err, Error::Config(_)), "{err}");
    }
}
