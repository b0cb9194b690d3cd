//! `images().update()` / `patch()` on the wire: the read, the minimal
//! JSON-patch body and its media type, and error mapping.

use crate::common::{ID, client, glance_error, image_json, requests};
use glance_client::images::{ImagePatch, JSON_PATCH_MEDIA_TYPE, PatchOp};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn serve_image(server: &MockServer, image: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path(format!("/v2/images/{ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(image))
        .mount(server)
        .await;
}

#[tokio::test]
async fn update_reads_then_sends_only_the_changes() {
    let server = MockServer::start().await;
    serve_image(
        &server,
        image_json(json!({"os_distro": "debian", "build": "7", "tags": ["a"]})),
    )
    .await;
    let expected_ops = json!([
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "add", "path": "/os_version", "value": "13"},
        {"op": "remove", "path": "/build"},
        {"op": "replace", "path": "/tags", "value": ["a", "golden"]},
    ]);
    Mock::given(method("PATCH"))
        .and(path(format!("/v2/images/{ID}")))
        .and(header("content-type", JSON_PATCH_MEDIA_TYPE))
        .and(body_json(&expected_ops))
        .respond_with(ResponseTemplate::new(200).set_body_json(image_json(json!({
            "name": "renamed", "os_distro": "debian", "os_version": "13", "tags": ["a", "golden"]
        }))))
        .expect(1)
        .mount(&server)
        .await;
    let image = client(&server)
        .images()
        .update(
            ID,
            &ImagePatch::new()
                .name("renamed")
                .property("os_distro", "debian")
                .property("os_version", "13")
                .remove_property("build")
                .remove_property("not-there")
                .add_tag("golden"),
        )
        .await
        .expect("updated");
    assert_eq!(image.property("os_version"), Some("13"));
    assert_eq!(
        requests(&server).await,
        [
            ("GET".to_string(), format!("/v2/images/{ID}")),
            ("PATCH".to_string(), format!("/v2/images/{ID}")),
        ]
    );
}

#[tokio::test]
async fn nothing_to_change_sends_no_patch() {
    let server = MockServer::start().await;
    serve_image(&server, image_json(json!({"tags": ["a", "b"]}))).await;
    let image = client(&server)
        .images()
        .update(ID, &ImagePatch::new().name("n").tags(["b", "a"]))
        .await
        .expect("no-op");
    assert_eq!(image.id, ID);
    assert_eq!(requests(&server).await.len(), 1, "only the read");
}

#[tokio::test]
async fn nova_purge_props_replaces_the_property_set() {
    let server = MockServer::start().await;
    serve_image(
        &server,
        image_json(json!({
            "hw_disk_bus": "scsi", "os_distro": "debian",
            "os_glance_importing_to_stores": "", "os_glance_failed_import": ""
        })),
    )
    .await;
    Mock::given(method("PATCH"))
        .and(body_json(json!([
            {"op": "replace", "path": "/os_distro", "value": "ubuntu"},
            {"op": "remove", "path": "/hw_disk_bus"},
        ])))
        .respond_with(ResponseTemplate::new(200).set_body_json(image_json(json!({}))))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .images()
        .update(
            ID,
            &ImagePatch::new()
                .property("os_distro", "ubuntu")
                .purge_props(true),
        )
        .await
        .expect("purged");
}

#[tokio::test]
async fn invalid_patches_send_nothing() {
    let server = MockServer::start().await;
    let err = client(&server)
        .images()
        .update(ID, &ImagePatch::new().set("status", json!("active")))
        .await
        .expect_err("read-only");
    assert!(err.is_invalid_input(), "{err}");
    let err = client(&server)
        .images()
        .update(ID, &ImagePatch::new().set("hw_cpu_cores", json!(4)))
        .await
        .expect_err("extra properties are strings");
    assert!(err.is_invalid_input(), "{err}");
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn raw_patch_is_sent_as_given_and_errors_are_typed() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(format!("/v2/images/{ID}")))
        .and(header("content-type", JSON_PATCH_MEDIA_TYPE))
        .and(body_json(json!([
            {"op": "replace", "path": "/missing", "value": "x"},
            {"op": "add", "path": "/locations/-", "value": {"url": "http://x/y", "metadata": {}}},
            {"op": "remove", "path": "/locations/0"},
        ])))
        .respond_with(glance_error(409, "Property missing does not exist."))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .images()
        .patch(
            ID,
            &[
                PatchOp::replace("missing", json!("x")),
                PatchOp::add_location("http://x/y", json!({})),
                PatchOp::remove_location(0),
            ],
        )
        .await
        .expect_err("409");
    assert!(err.is_conflict());
    assert_eq!(err.request_id(), Some("req-err"));
    assert!(
        err.to_string().contains("Property missing does not exist."),
        "{err}"
    );
}

#[tokio::test]
async fn a_failed_read_stops_the_update() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(glance_error(404, "No image found with ID x"))
        .mount(&server)
        .await;
    let err = client(&server)
        .images()
        .update(ID, &ImagePatch::new().name("x"))
        .await
        .expect_err("404");
    assert!(err.is_not_found());
    assert_eq!(requests(&server).await.len(), 1);
}
