//! Metadata definitions on the wire.

use crate::common::{client, requests};
use futures::TryStreamExt;
use glance_client::metadefs::{ListNamespaces, MetadefProperty, Namespace};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NS: &str = "/v2/metadefs/namespaces/OS::Test";

#[tokio::test]
async fn namespaces_are_listed_across_pages_and_sent_back_without_server_keys() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/metadefs/namespaces"))
        .and(query_param("marker", "OS::A"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "namespaces": [{"namespace": "OS::Test", "owner": "p"}],
            "first": "/v2/metadefs/namespaces?limit=1", "schema": "/v2/schemas/metadefs/namespaces"
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/metadefs/namespaces"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "namespaces": [{"namespace": "OS::A"}],
            "first": "/v2/metadefs/namespaces?limit=1",
            "next": "/v2/metadefs/namespaces?limit=1&marker=OS::A",
            "schema": "/v2/schemas/metadefs/namespaces"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(NS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "namespace": "OS::Test", "display_name": "T", "visibility": "public",
            "protected": false, "owner": "p", "created_at": "c", "updated_at": "u",
            "self": NS, "schema": "/v2/schemas/metadefs/namespace", "future_field": 1
        })))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(NS))
        .and(body_json(json!({
            "namespace": "OS::Test", "display_name": "T", "description": "new",
            "visibility": "public", "protected": false, "owner": "p", "future_field": 1
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"namespace": "OS::Test"})))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let md = c.metadefs();
    let names: Vec<_> = md
        .list_namespaces(ListNamespaces::new().page_size(1))
        .try_collect::<Vec<_>>()
        .await
        .expect("listed")
        .into_iter()
        .map(|n| n.namespace)
        .collect();
    assert_eq!(names, ["OS::A", "OS::Test"]);
    let mut ns: Namespace = md.namespace("OS::Test").await.expect("shown");
    ns.description = Some("new".into());
    md.update_namespace("OS::Test", &ns).await.expect("updated");
}

#[tokio::test]
async fn tags_append_header_and_property_names() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{NS}/tags")))
        .and(header("x-openstack-append", "True"))
        .and(body_json(json!({"tags": [{"name": "a"}, {"name": "b"}]})))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"tags": [{"name": "a"}, {"name": "b"}]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{NS}/tags")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"tags": [{"name": "c"}]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{NS}/properties")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "properties": {"speed": {"type": "integer", "title": "Speed", "minimum": 1}}
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{NS}/properties")))
        .and(body_json(
            json!({"name": "hp", "title": "Huge pages", "type": "boolean"}),
        ))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"name": "hp", "title": "Huge pages", "type": "boolean"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let md = c.metadefs();
    assert_eq!(
        md.create_tags("OS::Test", ["a", "b"], true)
            .await
            .expect("appended")
            .len(),
        2
    );
    assert_eq!(
        md.create_tags("OS::Test", ["c"], false)
            .await
            .expect("replaced")
            .len(),
        1
    );
    let props = md.properties("OS::Test").await.expect("listed");
    assert_eq!(props["speed"].name, "speed");
    assert_eq!(props["speed"].extra["minimum"], 1);
    md.create_property(
        "OS::Test",
        &MetadefProperty::new("hp", "boolean", "Huge pages"),
    )
    .await
    .expect("created");
    let err = md
        .create_property("OS::Test", &MetadefProperty::new("x", "", "X"))
        .await
        .expect_err("type required");
    assert!(err.is_invalid_input());
    let unappended = server
        .received_requests()
        .await
        .expect("recorded")
        .into_iter()
        .filter(|r| r.url.path().ends_with("/tags"))
        .map(|r| r.headers.contains_key("x-openstack-append"))
        .collect::<Vec<_>>();
    assert_eq!(unappended, [true, false]);
    assert_eq!(requests(&server).await.len(), 4);
}
