//! `info()` and `schemas()` on the wire.

use crate::common::{client, glance_error, requests};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn discovery_documents_are_typed() {
    let server = MockServer::start().await;
    let docs = [
        (
            "/v2/info/import",
            json!({"import-methods": {"description": "Import methods available.", "type": "array",
                   "value": ["glance-direct", "web-download", "copy-image"]}}),
        ),
        (
            "/v2/info/stores",
            json!({"stores": [{"id": "fast", "description": "Fast local store", "default": "true"},
                              {"id": "cheap", "description": "Cheap bulk store"}]}),
        ),
        (
            "/v2/info/stores/detail",
            json!({"stores": [{"id": "fast", "description": "Fast", "default": "true", "type": "file",
                               "properties": {"data_dir": "/d", "chunk_size": 65536, "thin_provisioning": false},
                               "weight": 0}]}),
        ),
        (
            "/v2/info/usage",
            json!({"usage": {"image_size_total": {"limit": 1000, "usage": 12},
                             "image_count_total": {"limit": 100, "usage": 3}}}),
        ),
    ];
    for (p, body) in docs {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;
    }
    let c = client(&server);
    let import = c.info().import_methods().await.expect("import");
    assert_eq!(
        import.methods,
        ["glance-direct", "web-download", "copy-image"]
    );
    assert_eq!(
        import.description.as_deref(),
        Some("Import methods available.")
    );
    let stores = c.info().stores().await.expect("stores");
    assert_eq!(stores.len(), 2);
    assert!(stores[0].default && !stores[1].default);
    assert_eq!(stores[1].description.as_deref(), Some("Cheap bulk store"));
    let detail = c.info().stores_detail().await.expect("detail");
    assert_eq!(detail[0].store_type.as_deref(), Some("file"));
    assert_eq!(
        detail[0]
            .properties
            .as_ref()
            .and_then(|p| p.get("chunk_size")),
        Some(&json!(65536))
    );
    let usage = c.info().usage().await.expect("usage");
    assert_eq!(usage["image_count_total"].limit, 100);
    assert_eq!(usage["image_size_total"].usage, 12);
}

#[tokio::test]
async fn single_store_deployments_answer_404_for_stores() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/info/stores"))
        .respond_with(glance_error(
            404,
            "Multi backend is not supported at this site.",
        ))
        .mount(&server)
        .await;
    let err = client(&server).info().stores().await.expect_err("404");
    assert!(err.is_not_found());
    assert!(err.to_string().contains("Multi backend"), "{err}");
}

#[tokio::test]
async fn schemas_by_name_including_nested_ones() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/schemas/image"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "name": "image",
            "properties": {
                "name": {"type": ["null", "string"], "description": "Descriptive name for the image", "maxLength": 255},
                "status": {"type": "string", "readOnly": true, "enum": ["queued", "active"]},
                "kernel_id": {"type": ["null", "string"], "is_base": false}
            },
            "additionalProperties": {"type": "string"},
            "links": [{"rel": "self", "href": "{self}"}]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/schemas/metadefs/namespace"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "name": "namespace", "properties": {"namespace": {"type": "string"}}, "required": ["namespace"]
        })))
        .mount(&server)
        .await;
    let c = client(&server);
    let image = c.schemas().get("image").await.expect("image schema");
    assert_eq!(image.name, "image");
    let status = image.property("status").expect("status");
    assert!(status.read_only);
    assert_eq!(status.types, ["string"]);
    assert_eq!(status.enum_values.as_ref().map(Vec::len), Some(2));
    assert_eq!(
        image.property("name").expect("name").types,
        ["null", "string"]
    );
    assert!(image.is_core_property("kernel_id"));
    assert!(!image.is_base_property("kernel_id"));
    assert!(image.is_base_property("name"));
    assert_eq!(
        image.additional_properties(),
        Some(&json!({"type": "string"}))
    );
    assert_eq!(image.raw()["links"][0]["rel"], "self");
    let ns = c
        .schemas()
        .get("metadefs/namespace")
        .await
        .expect("nested name");
    assert_eq!(ns.required, ["namespace"]);
    for bad in ["", "metadefs/", "/image", "a//b"] {
        assert!(
            c.schemas()
                .get(bad)
                .await
                .expect_err("refused")
                .is_invalid_input()
        );
    }
    assert_eq!(requests(&server).await.len(), 2);
}
