//! The cache API on the wire, and its v2.14 gate.

use crate::common::{ID, client, requests};
use glance_client::cache::CacheTarget;
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn versions(server: &MockServer, ids: &[&str]) {
    let entries: Vec<_> = ids
        .iter()
        .map(|id| json!({"id": id, "status": "SUPPORTED", "links": []}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/versions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "versions": entries })))
        .mount(server)
        .await;
}

#[tokio::test]
async fn every_cache_call() {
    let server = MockServer::start().await;
    versions(&server, &["v2.18", "v2.17", "v2.16", "v2.15", "v2.14"]).await;
    Mock::given(method("GET"))
        .and(path("/v2/cache"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "cached_images": [{"image_id": ID, "hits": 3, "last_accessed": 1767225600.5,
                               "last_modified": 1767225600, "size": 1024}],
            "queued_images": ["q1"]
        })))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("/v2/cache/{ID}")))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v2/cache/{ID}")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v2/cache"))
        .and(header("x-image-cache-clear-target", "queue"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v2/cache"))
        .respond_with(ResponseTemplate::new(204))
        .expect(2)
        .mount(&server)
        .await;
    let c = client(&server);
    let contents = c.cache().list().await.expect("listed");
    assert_eq!(contents.cached_images[0].hits, 3);
    assert_eq!(contents.queued_images, ["q1"]);
    c.cache().queue(ID).await.expect("queued");
    c.cache().delete(ID).await.expect("deleted");
    c.cache().clear(CacheTarget::Queue).await.expect("cleared");
    c.cache().clear(CacheTarget::Both).await.expect("cleared");
    c.cache()
        .clear(CacheTarget::default())
        .await
        .expect("cleared");
    let reqs = server.received_requests().await.expect("recorded");
    let both: Vec<_> = reqs
        .iter()
        .filter(|r| r.url.path() == "/v2/cache" && r.method.as_str() == "DELETE")
        .map(|r| r.headers.get("x-image-cache-clear-target").is_some())
        .collect();
    assert_eq!(both, [true, false, false]);
}

#[tokio::test]
async fn without_v2_14_nothing_is_sent() {
    let server = MockServer::start().await;
    // Glance 33 without an image cache: v2.17 is current, v2.14 not listed.
    versions(&server, &["v2.17", "v2.15", "v2.9", "v2.0"]).await;
    let c = client(&server);
    for err in [
        c.cache().list().await.expect_err("unsupported"),
        c.cache().queue(ID).await.expect_err("unsupported"),
        c.cache()
            .clear(CacheTarget::Cache)
            .await
            .expect_err("unsupported"),
    ] {
        assert!(err.is_unsupported_version(), "{err}");
        assert!(err.to_string().contains("v2.14"), "{err}");
    }
    assert_eq!(requests(&server).await.len(), 1, "only /versions, once");
}
