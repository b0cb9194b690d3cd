//! Tags and image actions on the wire.

use crate::common::{ID, client, glance_error, requests};
use glance_client::{Client, Error};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn tags_are_percent_encoded_path_segments() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let images = client(&server);
    let images = images.images();
    images.add_tag(ID, "golden").await.expect("added");
    images.add_tag(ID, "t 1?x#y%z").await.expect("added");
    images.remove_tag(ID, "t 1?x#y%z").await.expect("removed");
    let raw: Vec<_> = server
        .received_requests()
        .await
        .expect("recorded")
        .iter()
        .map(|r| (r.method.to_string(), r.url.path().to_owned(), r.body.len()))
        .collect();
    assert_eq!(
        raw,
        [
            ("PUT".into(), format!("/v2/images/{ID}/tags/golden"), 0),
            (
                "PUT".into(),
                format!("/v2/images/{ID}/tags/t%201%3Fx%23y%25z"),
                0
            ),
            (
                "DELETE".into(),
                format!("/v2/images/{ID}/tags/t%201%3Fx%23y%25z"),
                0
            ),
        ]
    );
}

#[tokio::test]
async fn tags_glance_cannot_route_are_refused() {
    let server = MockServer::start().await;
    let c = client(&server);
    for tag in ["", "a/b", "..", "ñ", "tab\t", &"x".repeat(256)] {
        let err = c.images().add_tag(ID, tag).await.expect_err("refused");
        assert!(err.is_invalid_input(), "{tag:?}: {err}");
        let err = c.images().remove_tag(ID, tag).await.expect_err("refused");
        assert!(err.is_invalid_input(), "{tag:?}: {err}");
    }
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn removing_an_absent_tag_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(glance_error(404, "Tag x not found"))
        .mount(&server)
        .await;
    let err = client(&server)
        .images()
        .remove_tag(ID, "x")
        .await
        .expect_err("404");
    assert!(err.is_not_found());
}

#[tokio::test]
async fn deactivate_and_reactivate_post_without_a_body() {
    let server = MockServer::start().await;
    for action in ["deactivate", "reactivate"] {
        Mock::given(method("POST"))
            .and(path(format!("/v2/images/{ID}/actions/{action}")))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
    }
    let c = client(&server);
    c.images().deactivate(ID).await.expect("deactivated");
    c.images().reactivate(ID).await.expect("reactivated");
    for r in server.received_requests().await.expect("recorded") {
        assert!(r.body.is_empty());
        assert!(r.headers.get("content-type").is_none(), "{:?}", r.headers);
    }
}

#[tokio::test]
async fn deactivating_a_queued_image_is_forbidden() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(glance_error(
            403,
            "Not allowed to deactivate image in status 'queued'",
        ))
        .mount(&server)
        .await;
    let err = client(&server)
        .images()
        .deactivate(ID)
        .await
        .expect_err("403");
    assert!(err.is_forbidden());
    assert!(err.to_string().contains("status 'queued'"), "{err}");
}

#[tokio::test]
async fn delete_from_store_addresses_the_store() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v2/stores/cheap/{ID}")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .images()
        .delete_from_store(ID, &glance_client::StoreId::new("cheap"))
        .await
        .expect("deleted");
}

#[tokio::test]
async fn create_sends_the_store_as_a_header_not_in_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/images"))
        .and(wiremock::matchers::header("x-image-meta-store", "cheap"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(crate::common::image_json(json!({}))),
        )
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .images()
        .create(&glance_client::CreateImage::new("n").store("cheap"))
        .await
        .expect("created");
    let received = server.received_requests().await.unwrap_or_default();
    let body: serde_json::Value = serde_json::from_slice(&received[0].body).expect("json");
    assert_eq!(body, json!({"name": "n"}));
}

#[tokio::test]
async fn status_kinds_have_predicates() {
    for (status, check) in [
        (405u16, Error::is_method_not_allowed as fn(&Error) -> bool),
        (415, Error::is_unsupported_media_type),
        (416, Error::is_range_not_satisfiable),
        (429, Error::is_rate_limited),
        (503, Error::is_server_error),
        (413, Error::is_over_limit),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("DELETE"))
            .respond_with(crate::common::glance_error(status, "no"))
            .mount(&server)
            .await;
        let c = Client::builder()
            .endpoint(server.uri())
            .token("t")
            .retry(glance_client::RetryConfig::disabled())
            .build()
            .expect("builds");
        let err = c
            .images()
            .delete(crate::common::ID)
            .await
            .expect_err("fails");
        assert!(check(&err), "{status}: {err:?}");
        assert_eq!(err.request_id(), Some("req-err"));
        assert!(!err.is_not_found());
    }
}
