//! Request ids: the server's id of a page forwarded to the next page (as
//! glanceclient does), and a caller's global request id on every request.

use crate::common::{ID, client, image_json};
use futures::TryStreamExt;
use glance_client::{Client, Error, ListImages};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const GLOBAL: &str = "req-4a1c2d3e-0f9b-4c5d-8e7f-0a1b2c3d4e5f";

/// Two pages: the first answers with `req-page-1` and a `next` link.
async fn two_pages() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/images"))
        .and(query_param("marker", ID))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-openstack-request-id", "req-page-2")
                .set_body_json(json!({"images": [image_json(json!({"id": "second"}))]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/images"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-openstack-request-id", "req-page-1")
                .set_body_json(json!({
                    "images": [image_json(json!({}))],
                    "next": format!("/v2/images?limit=1&marker={ID}"),
                })),
        )
        .mount(&server)
        .await;
    server
}

/// The `x-openstack-request-id` values each request carried, in order.
async fn sent_ids(server: &MockServer) -> Vec<Vec<String>> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            r.headers
                .get_all("x-openstack-request-id")
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn later_pages_carry_the_previous_page_request_id() {
    let server = two_pages().await;
    let images: Vec<_> = client(&server)
        .images()
        .list(ListImages::new().page_size(1))
        .try_collect()
        .await
        .expect("listed");
    assert_eq!(images.len(), 2);
    assert_eq!(
        sent_ids(&server).await,
        vec![vec![], vec!["req-page-1".to_owned()]]
    );
}

#[tokio::test]
async fn a_global_request_id_goes_on_every_request_and_wins() {
    let server = two_pages().await;
    let traced = client(&server)
        .with_global_request_id(GLOBAL)
        .expect("valid id");
    let images: Vec<_> = traced
        .images()
        .list(ListImages::new().page_size(1))
        .try_collect()
        .await
        .expect("listed");
    assert_eq!(images.len(), 2);
    assert_eq!(
        sent_ids(&server).await,
        vec![vec![GLOBAL.to_owned()], vec![GLOBAL.to_owned()]]
    );
}

#[tokio::test]
async fn the_builder_sets_a_global_request_id_for_all_calls() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/images/{ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(image_json(json!({}))))
        .mount(&server)
        .await;
    let client = Client::builder()
        .endpoint(server.uri())
        .token("t")
        .global_request_id(GLOBAL)
        .build()
        .expect("client builds");
    client.images().get(ID).await.expect("found");
    // The original handle stays untraced; a derived one does not change it.
    let _other = client.with_global_request_id("req-00000000-0000-4000-8000-000000000000");
    client.images().get(ID).await.expect("found");
    assert_eq!(
        sent_ids(&server).await,
        vec![vec![GLOBAL.to_owned()], vec![GLOBAL.to_owned()]]
    );
}

#[tokio::test]
async fn malformed_global_request_ids_are_refused_unsent() {
    let server = MockServer::start().await;
    let c = client(&server);
    for bad in [
        "",
        "req-",
        "4a1c2d3e-0f9b-4c5d-8e7f-0a1b2c3d4e5f",
        "req-4A1C2D3E-0F9B-4C5D-8E7F-0A1B2C3D4E5F",
        "req-4a1c2d3e-0f9b-4c5d-8e7f-0a1b2c3d4e5",
        "req-4a1c2d3e_0f9b-4c5d-8e7f-0a1b2c3d4e5f",
        "req-4a1c2d3e-0f9b-4c5d-8e7f-0a1b2c3d4e5f\r\nx: y",
    ] {
        let err = c.with_global_request_id(bad).expect_err(bad);
        assert!(matches!(err, Error::InvalidInput(_)), "{bad:?}: {err:?}");
    }
    let err = Client::builder()
        .endpoint(server.uri())
        .global_request_id("nope")
        .build()
        .expect_err("refused");
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert!(sent_ids(&server).await.is_empty());
}

#[tokio::test]
async fn a_successful_call_tells_its_request_ids() {
    use glance_client::WithRequestIds;
    let server = two_pages().await;
    let other = "9b2e7f4a-1c3d-4e5f-8a6b-7c8d9e0f1a2b";
    for (id, request_id) in [(ID, "req-get-1"), (other, "req-get-2")] {
        Mock::given(method("GET"))
            .and(path(format!("/v2/images/{id}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("x-openstack-request-id", request_id)
                    .set_body_json(image_json(json!({"id": id}))),
            )
            .mount(&server)
            .await;
    }
    let client = client(&server);
    let images = client.images();

    let (image, ids) = images.get(ID).with_request_ids().await;
    assert_eq!(image.expect("found").id, ID);
    assert_eq!(ids, ["req-get-1"]);

    // Concurrent calls on one client keep their own ids.
    let ((a, a_ids), (b, b_ids)) = tokio::join!(
        images.get(ID).with_request_ids(),
        images.get(other).with_request_ids()
    );
    assert!(a.is_ok() && b.is_ok());
    assert_eq!(
        (a_ids, b_ids),
        (vec!["req-get-1".to_owned()], vec!["req-get-2".to_owned()])
    );

    // A listing as one future: every page's id, in order.
    let (listed, ids) = images
        .list(ListImages::new().page_size(1))
        .try_collect::<Vec<_>>()
        .with_request_ids()
        .await;
    assert_eq!(listed.expect("listed").len(), 2);
    assert_eq!(ids, ["req-page-1", "req-page-2"]);

    // Outside with_request_ids nothing is collected, and nothing fails.
    images.get(ID).await.expect("found");
}
