//! Location calls on the wire: the v2.17 API (version-gated) and the
//! JSON-patch based ones.

use crate::common::{ID, client, glance_error, image_json, requests};
use glance_client::images::{JSON_PATCH_MEDIA_TYPE, ValidationData};
use serde_json::{Map, Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn versions(server: &MockServer, newest: &str) {
    Mock::given(method("GET"))
        .and(path("/versions"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"versions": [
                {"id": newest, "status": "CURRENT", "links": []},
                {"id": "v2.0", "status": "SUPPORTED", "links": []}
            ]})),
        )
        .mount(server)
        .await;
}

fn meta(store: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("store".into(), json!(store));
    m
}

#[tokio::test]
async fn new_location_api() {
    let server = MockServer::start().await;
    versions(&server, "v2.17").await;
    let digest = "ab".repeat(32);
    Mock::given(method("POST"))
        .and(path(format!("/v2/images/{ID}/locations")))
        .and(body_json(json!({
            "url": "rbd://f/p/i/s",
            "validation_data": {"os_hash_algo": "sha256", "os_hash_value": digest}
        })))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v2/images/{ID}/locations")))
        .and(body_json(
            json!({"url": "rbd://f/p/i/t", "validation_data": {}}),
        ))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/images/{ID}/locations")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"url": "rbd://f/p/i/s", "metadata": {"store": "ceph"}}])),
        )
        .mount(&server)
        .await;
    let c = client(&server);
    let data = ValidationData::new("sha256", digest).expect("valid");
    c.images()
        .add_image_location(ID, "rbd://f/p/i/s", Some(data))
        .await
        .expect("added");
    c.images()
        .add_image_location(ID, "rbd://f/p/i/t", None)
        .await
        .expect("added");
    let locs = c.images().image_locations(ID).await.expect("listed");
    assert_eq!(locs[0].metadata["store"], "ceph");
    let versions_asked = requests(&server)
        .await
        .iter()
        .filter(|(_, p)| p == "/versions")
        .count();
    assert_eq!(versions_asked, 1, "cached");
}

#[tokio::test]
async fn new_location_api_needs_v2_17() {
    let server = MockServer::start().await;
    versions(&server, "v2.15").await;
    let err = client(&server)
        .images()
        .image_locations(ID)
        .await
        .expect_err("too old");
    assert!(err.is_unsupported_version(), "{err}");
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn patch_based_location_calls() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/images/{ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(image_json(json!({
            "locations": [
                {"url": "file:///a", "metadata": {"store": "fast"}},
                {"url": "file:///b", "metadata": {}},
                {"url": "file:///c", "metadata": {}}
            ]
        }))))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(header("content-type", JSON_PATCH_MEDIA_TYPE))
        .and(body_json(json!([{"op": "add", "path": "/locations/-",
            "value": {"url": "file:///d", "metadata": {"store": "cheap"}}}])))
        .respond_with(ResponseTemplate::new(200).set_body_json(image_json(json!({}))))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(body_json(json!([
            {"op": "remove", "path": "/locations/2"},
            {"op": "remove", "path": "/locations/0"}
        ])))
        .respond_with(ResponseTemplate::new(200).set_body_json(image_json(json!({}))))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(body_json(
            json!([{"op": "replace", "path": "/locations", "value": [
                {"url": "file:///a", "metadata": {"store": "fast"}},
                {"url": "file:///b", "metadata": {"store": "cheap"}},
                {"url": "file:///c", "metadata": {}}
            ]}]),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(image_json(json!({}))))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let images = c.images();
    images
        .add_location(ID, "file:///d", meta("cheap"), None)
        .await
        .expect("added");
    images
        .delete_locations(ID, ["file:///a", "file:///c"])
        .await
        .expect("deleted");
    images
        .update_location(ID, "file:///b", meta("cheap"))
        .await
        .expect("updated");
    // Unchanged metadata: no PATCH. Unknown URLs: refused, no PATCH.
    images
        .update_location(ID, "file:///a", meta("fast"))
        .await
        .expect("no-op");
    let err = images
        .delete_locations(ID, ["file:///a", "file:///zzz"])
        .await
        .expect_err("unknown");
    assert!(err.is_invalid_input() && err.to_string().contains("file:///zzz"));
    let err = images
        .update_location(ID, "file:///zzz", Map::new())
        .await
        .expect_err("unknown");
    assert!(err.is_invalid_input());
    let patches = requests(&server)
        .await
        .iter()
        .filter(|(m, _)| m == "PATCH")
        .count();
    assert_eq!(patches, 3);
}

#[tokio::test]
async fn hidden_locations_are_reported() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(image_json(json!({}))))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(glance_error(
            403,
            "It's not allowed to add locations if locations are invisible.",
        ))
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c
        .images()
        .delete_locations(ID, ["file:///a"])
        .await
        .expect_err("not shown");
    assert!(err.is_invalid_input(), "{err}");
    let err = c
        .images()
        .add_location(ID, "file:///a", Map::new(), None)
        .await
        .expect_err("403");
    assert!(err.is_forbidden());
    assert!(err.to_string().contains("It's not allowed"), "{err}");
}
