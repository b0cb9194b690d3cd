//! Retries: which requests are replayed, when, and what error is left.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use glance_client::images::ImagePatch;
use glance_client::{Client, CreateImage, RetryConfig, UploadBody};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{ID, builder, image_json};

fn fast() -> RetryConfig {
    RetryConfig::default()
        .with_max_retries(3)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
        .with_timeout(Duration::from_secs(10))
}

/// Fails `failures` times with `status` (request ids `req-1`, `req-2`, …),
/// then answers `ok`.
struct Flaky {
    calls: Arc<AtomicUsize>,
    failures: usize,
    failure: ResponseTemplate,
    ok: ResponseTemplate,
}

impl Flaky {
    fn new(failures: usize, failure: ResponseTemplate, ok: ResponseTemplate) -> Self {
        Flaky {
            calls: Arc::new(AtomicUsize::new(0)),
            failures,
            failure,
            ok,
        }
    }
}

impl Respond for Flaky {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let template = if n <= self.failures {
            self.failure.clone()
        } else {
            self.ok.clone()
        };
        template.insert_header("x-openstack-request-id", format!("req-{n}"))
    }
}

fn unavailable() -> ResponseTemplate {
    ResponseTemplate::new(503)
        .insert_header("content-type", "text/plain")
        .set_body_string("503 Service Unavailable\n\nTry later\n\n")
}

async fn count(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn get_is_retried_on_503_until_it_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/images/{ID}")))
        .respond_with(Flaky::new(
            2,
            unavailable(),
            ResponseTemplate::new(200).set_body_json(image_json(json!({}))),
        ))
        .mount(&server)
        .await;
    let image = builder(&server)
        .retry(fast())
        .build()
        .expect("client builds")
        .images()
        .get(ID)
        .await
        .expect("third attempt works");
    assert_eq!(image.id, ID);
    assert_eq!(count(&server).await, 3);
}

#[tokio::test]
async fn exhausted_retries_leave_the_last_status_and_request_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/images/{ID}")))
        .respond_with(Flaky::new(
            100,
            ResponseTemplate::new(502),
            ResponseTemplate::new(200),
        ))
        .mount(&server)
        .await;
    let err = builder(&server)
        .retry(fast().with_max_retries(2))
        .build()
        .expect("client builds")
        .images()
        .get(ID)
        .await
        .expect_err("always failing");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(err.request_id(), Some("req-3"), "{err}");
    assert!(err.is_retryable());
    assert_eq!(count(&server).await, 3, "one attempt and two retries");
}

#[tokio::test]
async fn delete_and_tag_put_are_retried_on_429() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v2/images/{ID}")))
        .respond_with(Flaky::new(
            1,
            ResponseTemplate::new(429),
            ResponseTemplate::new(204),
        ))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("/v2/images/{ID}/tags/x")))
        .respond_with(Flaky::new(
            1,
            ResponseTemplate::new(500),
            ResponseTemplate::new(204),
        ))
        .mount(&server)
        .await;
    let c = builder(&server)
        .retry(fast())
        .build()
        .expect("client builds");
    c.images().delete(ID).await.expect("retried delete");
    c.images().add_tag(ID, "x").await.expect("retried tag");
    assert_eq!(count(&server).await, 4);
}

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/images/{ID}")))
        .respond_with(Flaky::new(
            1,
            ResponseTemplate::new(429).insert_header("retry-after", "1"),
            ResponseTemplate::new(200).set_body_json(image_json(json!({}))),
        ))
        .mount(&server)
        .await;
    let started = Instant::now();
    builder(&server)
        .retry(fast())
        .build()
        .expect("client builds")
        .images()
        .get(ID)
        .await
        .expect("second attempt works");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(950),
        "waited only {waited:?}"
    );
    assert_eq!(count(&server).await, 2);
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let server = MockServer::start().await;
    let at = std::time::SystemTime::now() + Duration::from_secs(2);
    Mock::given(method("GET"))
        .and(path(format!("/v2/images/{ID}")))
        .respond_with(Flaky::new(
            1,
            ResponseTemplate::new(503).insert_header("retry-after", httpdate::fmt_http_date(at)),
            ResponseTemplate::new(200).set_body_json(image_json(json!({}))),
        ))
        .mount(&server)
        .await;
    let started = Instant::now();
    builder(&server)
        .retry(fast())
        .build()
        .expect("client builds")
        .images()
        .get(ID)
        .await
        .expect("second attempt works");
    // HTTP dates have whole seconds: at least one second was waited.
    assert!(started.elapsed() >= Duration::from_millis(950));
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_ends_the_retries_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/images/{ID}")))
        .respond_with(Flaky::new(
            1,
            ResponseTemplate::new(503).insert_header("retry-after", "3600"),
            ResponseTemplate::new(200).set_body_json(image_json(json!({}))),
        ))
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = builder(&server)
        .retry(fast())
        .build()
        .expect("client builds")
        .images()
        .get(ID)
        .await
        .expect_err("not waiting an hour");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(err.request_id(), Some("req-1"));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(count(&server).await, 1);
}

#[tokio::test]
async fn the_budget_bounds_the_whole_exchange() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/images/{ID}")))
        .respond_with(unavailable().set_delay(Duration::from_millis(150)))
        .mount(&server)
        .await;
    let started = Instant::now();
    let retry = fast()
        .with_max_retries(1000)
        .with_timeout(Duration::from_millis(500));
    builder(&server)
        .retry(retry)
        .build()
        .expect("client builds")
        .images()
        .get(ID)
        .await
        .expect_err("never works");
    assert!(started.elapsed() < Duration::from_secs(2));
    let n = count(&server).await;
    assert!((2..=5).contains(&n), "{n} attempts");
}

#[tokio::test]
async fn post_is_never_replayed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/images"))
        .respond_with(unavailable())
        .mount(&server)
        .await;
    let err = builder(&server)
        .retry(fast())
        .build()
        .expect("client builds")
        .images()
        .create(&CreateImage::new("x"))
        .await
        .expect_err("503");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(count(&server).await, 1);
}

#[tokio::test]
async fn actions_are_never_replayed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v2/images/{ID}/actions/deactivate")))
        .respond_with(unavailable())
        .mount(&server)
        .await;
    builder(&server)
        .retry(fast())
        .build()
        .expect("client builds")
        .images()
        .deactivate(ID)
        .await
        .expect_err("503");
    assert_eq!(count(&server).await, 1);
}

#[tokio::test]
async fn patch_is_never_replayed_but_the_read_before_it_is() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/images/{ID}")))
        .respond_with(Flaky::new(
            1,
            unavailable(),
            ResponseTemplate::new(200).set_body_json(image_json(json!({}))),
        ))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/v2/images/{ID}")))
        .respond_with(unavailable())
        .mount(&server)
        .await;
    let err = builder(&server)
        .retry(fast())
        .build()
        .expect("client builds")
        .images()
        .update(ID, &ImagePatch::new().name("other"))
        .await
        .expect_err("503");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    let requests = server.received_requests().await.expect("recorded");
    let methods: Vec<_> = requests.iter().map(|r| r.method.to_string()).collect();
    assert_eq!(methods, ["GET", "GET", "PATCH"]);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/images/{ID}")))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let err = builder(&server)
        .retry(fast())
        .build()
        .expect("client builds")
        .images()
        .get(ID)
        .await
        .expect_err("404");
    assert!(err.is_not_found());
    assert_eq!(count(&server).await, 1);
}

#[tokio::test]
async fn disabled_retries_send_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(unavailable())
        .mount(&server)
        .await;
    builder(&server)
        .retry(RetryConfig::disabled())
        .build()
        .expect("client builds")
        .images()
        .get(ID)
        .await
        .expect_err("503");
    assert_eq!(count(&server).await, 1);
}

#[tokio::test]
async fn byte_uploads_are_replayed_whole() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(format!("/v2/images/{ID}/file")))
        .respond_with(Flaky::new(1, unavailable(), ResponseTemplate::new(204)))
        .mount(&server)
        .await;
    let payload: Vec<u8> = (0..3 * 1024 * 1024 + 7).map(|i| (i % 251) as u8).collect();
    builder(&server)
        .retry(fast())
        .build()
        .expect("client builds")
        .images()
        .upload(ID, payload.clone())
        .await
        .expect("second attempt works");
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.body, payload, "every attempt sends all the bytes");
        assert_eq!(
            r.headers
                .get("x-openstack-image-size")
                .and_then(|v| v.to_str().ok()),
            Some(payload.len().to_string().as_str())
        );
    }
}

#[tokio::test]
async fn file_uploads_are_reopened_for_a_retry() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(format!("/v2/images/{ID}/file")))
        .respond_with(Flaky::new(2, unavailable(), ResponseTemplate::new(204)))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("disk.raw");
    std::fs::write(&file, b"file contents").expect("written");
    builder(&server)
        .retry(fast())
        .build()
        .expect("client builds")
        .images()
        .upload(ID, file.as_path())
        .await
        .expect("third attempt works");
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.body == b"file contents"));
}

#[tokio::test]
async fn stream_uploads_are_never_replayed() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(format!("/v2/images/{ID}/file")))
        .respond_with(unavailable())
        .mount(&server)
        .await;
    let stream = futures::stream::iter(vec![Ok(bytes::Bytes::from_static(b"once"))]).boxed();
    let err = builder(&server)
        .retry(fast())
        .build()
        .expect("client builds")
        .images()
        .upload(
            ID,
            UploadBody::Stream {
                stream,
                size: Some(4),
            },
        )
        .await
        .expect_err("503");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(count(&server).await, 1);
}

#[tokio::test]
async fn reader_uploads_and_stages_are_never_replayed() {
    let server = MockServer::start().await;
    for tail in ["file", "stage"] {
        Mock::given(method("PUT"))
            .and(path(format!("/v2/images/{ID}/{tail}")))
            .respond_with(unavailable())
            .mount(&server)
            .await;
    }
    let c = builder(&server)
        .retry(fast())
        .build()
        .expect("client builds");
    let err = c
        .images()
        .upload(ID, UploadBody::reader(&b"once"[..], None))
        .await
        .expect_err("503");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(count(&server).await, 1);
    let err = c
        .images()
        .stage(ID, UploadBody::reader(&b"once"[..], Some(4)))
        .await
        .expect_err("503");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(count(&server).await, 2);
}

/// A server that drops the first `drops` connections, then answers every
/// request with the version document.
async fn dropping_server(drops: usize) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(AtomicUsize::new(0));
    let seen = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
            if n <= drops {
                drop(sock);
                continue;
            }
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let body = r#"{"versions": [{"id": "v2.17", "status": "CURRENT", "links": []}]}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}"), accepted)
}

#[tokio::test]
async fn dropped_connections_are_retried_for_idempotent_requests() {
    let (url, accepted) = dropping_server(2).await;
    let client = Client::builder()
        .endpoint(url)
        .retry(fast())
        .build()
        .expect("client builds");
    let versions = client.versions().await.expect("third connection answers");
    assert_eq!(versions[0].id, "v2.17");
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn dropped_connections_are_not_retried_for_post() {
    let (url, accepted) = dropping_server(usize::MAX).await;
    let client = Client::builder()
        .endpoint(url)
        .retry(fast())
        .build()
        .expect("client builds");
    let err = client
        .images()
        .create(&CreateImage::new("x"))
        .await
        .expect_err("connection dropped");
    assert!(matches!(err, glance_client::Error::Transport(_)), "{err}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn refused_connections_give_up_within_the_budget() {
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let client = Client::builder()
        .endpoint(format!("http://127.0.0.1:{port}"))
        .retry(fast().with_max_retries(2))
        .build()
        .expect("client builds");
    let err = client.images().get(ID).await.expect_err("refused");
    assert!(err.is_retryable(), "{err}");
}
