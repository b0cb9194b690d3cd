//! Metadata definitions, the cache API and the location API over HTTP, as
//! Glance 33 answers them: routing, headers, status codes and the messages
//! the domain unit tests cannot see end to end.

use glance_mock_server::MockServer;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// A caller: roles and project, sent as keystone-middleware headers.
struct As(&'static str, &'static str);

const ADMIN: As = As("admin,member,reader", "admin-project");
const ALICE: As = As("member,reader", "alice");
const ALICE_MEMBER_ONLY: As = As("member", "alice");
const BOB: As = As("member,reader", "bob");
const SERVICE: As = As("service", "alice");

struct Api {
    server: MockServer,
    http: Client,
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    json: Value,
}

impl Answer {
    /// The JSON error body's message, without webob's trailing template.
    fn message(&self) -> &str {
        self.json["message"]
            .as_str()
            .and_then(|m| m.strip_suffix("<br /><br />\n\n\n"))
            .unwrap_or_default()
    }
}

impl Api {
    async fn start() -> Api {
        Api {
            server: MockServer::start().await.expect("mock starts"),
            http: Client::new(),
        }
    }

    async fn call(
        &self,
        who: &As,
        method: Method,
        path: &str,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> Answer {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.server.url()))
            .header("X-Identity-Status", "Confirmed")
            .header("X-Roles", who.0)
            .header("X-Project-Id", who.1)
            .header("X-Auth-Token", "t")
            .header("Accept", "application/json");
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request answered");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        Answer {
            status,
            headers,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    async fn go(&self, who: &As, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.call(who, method, path, body, &[]).await
    }
}

const NS: &str = "/v2/metadefs/namespaces";

#[tokio::test]
async fn namespace_lifecycle_and_visibility() {
    let api = Api::start().await;
    let a = api
        .go(
            &ADMIN,
            Method::POST,
            NS,
            Some(json!({"namespace": "OS::Test::Pub", "visibility": "public", "display_name": "Pub"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.json["owner"], "admin-project");
    assert_eq!(
        a.headers["location"],
        format!("{}{NS}/OS::Test::Pub", api.server.url()).as_str()
    );

    let a = api
        .go(
            &ADMIN,
            Method::POST,
            NS,
            Some(json!({"namespace": "OS::Test::Pub"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(
        a.message(),
        "The metadata definition namespace=OS::Test::Pub already exists."
    );

    let a = api
        .go(
            &ADMIN,
            Method::POST,
            NS,
            Some(json!({"namespace": "Priv", "owner": "alice"})),
        )
        .await;
    assert_eq!(a.json["visibility"], "private");

    // readers see public namespaces and their own project's
    let a = api.go(&BOB, Method::GET, NS, None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json["namespaces"].as_array().map(Vec::len), Some(1));
    assert_eq!(a.json["first"], "/v2/metadefs/namespaces");
    let a = api
        .go(&ALICE, Method::GET, &format!("{NS}/Priv"), None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = api.go(&BOB, Method::GET, &format!("{NS}/Priv"), None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.message(), "The resource could not be found.");
    // without the reader role nothing at all is visible
    let a = api.go(&ALICE_MEMBER_ONLY, Method::GET, NS, None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);

    // only admins change anything
    let a = api
        .go(&ALICE, Method::DELETE, &format!("{NS}/OS::Test::Pub"), None)
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(
        a.message(),
        "You are not authorized to complete delete_metadef_namespace action."
    );
    let a = api
        .go(&ADMIN, Method::DELETE, &format!("{NS}/OS::Test::Pub"), None)
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = api
        .go(&ALICE, Method::GET, &format!("{NS}/OS::Test::Pub"), None)
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(
        a.message(),
        "Metadata definition namespace=OS::Test::Pub was not found."
    );
}

#[tokio::test]
async fn contents_of_a_namespace() {
    let api = Api::start().await;
    let a = api
        .go(
            &ADMIN,
            Method::POST,
            NS,
            Some(json!({"namespace": "N", "visibility": "public"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let a = api
        .go(
            &ADMIN,
            Method::POST,
            &format!("{NS}/N/properties"),
            Some(json!({"name": "speed", "title": "Speed", "type": "integer", "minimum": 1.5})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.json["minimum"], 1);
    let a = api
        .go(
            &ADMIN,
            Method::POST,
            &format!("{NS}/N/objects"),
            Some(json!({"name": "Obj", "required": ["speed"]})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.json["self"], "/v2/metadefs/namespaces/N/objects/Obj");
    let a = api
        .go(
            &ADMIN,
            Method::POST,
            &format!("{NS}/N/resource_types"),
            Some(json!({"name": "OS::Glance::Image", "prefix": "img_"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let a = api
        .go(&ALICE, Method::GET, "/v2/metadefs/resource_types", None)
        .await;
    assert_eq!(a.json["resource_types"][0]["name"], "OS::Glance::Image");

    let a = api
        .go(
            &ALICE,
            Method::GET,
            &format!("{NS}/N?resource_type=OS::Glance::Image"),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.json["properties"].get("img_speed").is_some());
    assert_eq!(a.json["objects"][0]["required"], json!(["img_speed"]));
    let a = api
        .go(
            &ALICE,
            Method::GET,
            &format!("{NS}/N/properties/img_speed?resource_type=OS::Glance::Image"),
            None,
        )
        .await;
    assert_eq!(a.json["name"], "speed");

    // a body Glance's schema refuses, and a read-only attribute
    let a = api
        .go(
            &ADMIN,
            Method::POST,
            &format!("{NS}/N/objects"),
            Some(json!({"name": 5})),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.message().starts_with(
            "Provided object does not match schema 'object': 5 is not of type 'string'\n\nFailed validating 'type' in schema['properties']['name']:"
        ),
        "{}",
        a.message()
    );
    let a = api
        .go(
            &ADMIN,
            Method::POST,
            &format!("{NS}/N/objects"),
            Some(json!({"name": "x", "self": "y"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.message(), "Attribute 'self' is read-only.");
}

#[tokio::test]
async fn tags_replace_or_append() {
    let api = Api::start().await;
    api.go(
        &ADMIN,
        Method::POST,
        NS,
        Some(json!({"namespace": "N", "visibility": "public"})),
    )
    .await;
    let tags = format!("{NS}/N/tags");
    let a = api
        .go(&ADMIN, Method::POST, &format!("{tags}/old"), None)
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.json["name"], "old");

    let a = api
        .go(
            &ADMIN,
            Method::POST,
            &tags,
            Some(json!({"tags": [{"name": "a"}, {"name": "b"}]})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.json, json!({"tags": [{"name": "a"}, {"name": "b"}]}));
    let a = api
        .call(
            &ADMIN,
            Method::POST,
            &tags,
            Some(json!({"tags": [{"name": "c"}]})),
            &[("X-Openstack-Append", "True")],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let a = api
        .call(
            &ADMIN,
            Method::POST,
            &tags,
            Some(json!({"tags": [{"name": "a"}]})),
            &[("X-Openstack-Append", "yes")],
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(
        a.message(),
        "A metadata tag with name=a already exists in namespace=N. (Please note that metadata tag names are case insensitive)."
    );
    let a = api
        .go(
            &ALICE,
            Method::GET,
            &format!("{tags}?sort_key=name&sort_dir=asc"),
            None,
        )
        .await;
    assert_eq!(
        a.json,
        json!({"tags": [{"name": "a"}, {"name": "b"}, {"name": "c"}]})
    );
    // a tag's route refuses a body; a wrong method gets Glance's Allow list
    let a = api
        .go(&ADMIN, Method::POST, &format!("{tags}/d"), Some(json!({})))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = api.go(&ADMIN, Method::PATCH, &tags, None).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.headers["allow"], "GET, POST, DELETE");
}

#[tokio::test]
async fn cache_is_off_and_locations_are_for_services() {
    let api = Api::start().await;
    let a = api.go(&ALICE, Method::GET, "/v2/cache", None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(
        a.message(),
        "You are not authorized to complete cache_list action."
    );
    let a = api.go(&ADMIN, Method::GET, "/v2/cache", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(
        a.message(),
        "Caching via API is not supported at this site."
    );

    let img = api
        .go(
            &ALICE,
            Method::POST,
            "/v2/images",
            Some(json!({"name": "x"})),
        )
        .await;
    let id = img.json["id"].as_str().expect("id").to_owned();
    let a = api
        .go(&ALICE, Method::PUT, &format!("/v2/cache/{id}"), None)
        .await;
    assert_eq!(
        a.message(),
        "You are not authorized to complete cache_image action."
    );
    let a = api
        .go(&BOB, Method::PUT, &format!("/v2/cache/{id}"), None)
        .await;
    assert_eq!(a.message(), format!("Image {id} not found."));

    let locations = format!("/v2/images/{id}/locations");
    let a = api.go(&ALICE, Method::GET, &locations, None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = api.go(&SERVICE, Method::GET, &locations, None).await;
    assert_eq!(a.json, json!([]));
    let a = api
        .go(
            &ALICE,
            Method::POST,
            &locations,
            Some(json!({"url": "http://203.0.113.9/x"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(
        a.message(),
        "http store must be enabled to use location API by normal user."
    );
    let a = api
        .go(
            &SERVICE,
            Method::POST,
            &locations,
            Some(json!({"url": "http://203.0.113.9/x"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
}

/// A refused namespace create: the namespace is gone, but a resource type
/// it created first stays (Glance 33 commits each step on its own and
/// cleans up only the namespace), while a refused object leaves nothing.
#[tokio::test]
async fn a_refused_create_keeps_what_glance_keeps_and_nothing_else() {
    let api = Api::start().await;
    let refused = api
        .call(
            &ADMIN,
            Method::POST,
            "/v2/metadefs/namespaces",
            Some(json!({
                "namespace": "probe1",
                "resource_type_associations": [{"name": "ProbeRT"}],
                "objects": [{"name": "o"}, {"name": "o"}]
            })),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(
        refused.message(),
        "A metadata definition object with name=o already exists in namespace=probe1."
    );
    let gone = api
        .call(
            &ADMIN,
            Method::GET,
            "/v2/metadefs/namespaces/probe1",
            None,
            &[],
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let types = api
        .call(
            &ADMIN,
            Method::GET,
            "/v2/metadefs/resource_types",
            None,
            &[],
        )
        .await;
    let names: Vec<&str> = types.json["resource_types"]
        .as_array()
        .expect("types")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(names.contains(&"ProbeRT"), "{names:?}");

    // A property refused half-way through an update leaves the namespace
    // as it was.
    let created = api
        .call(
            &ADMIN,
            Method::POST,
            "/v2/metadefs/namespaces",
            Some(json!({"namespace": "kept", "tags": [{"name": "a"}]})),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let dup = api
        .call(
            &ADMIN,
            Method::POST,
            "/v2/metadefs/namespaces/kept/tags",
            Some(json!({"tags": [{"name": "b"}, {"name": "b"}]})),
            &[],
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let tags = api
        .call(
            &ADMIN,
            Method::GET,
            "/v2/metadefs/namespaces/kept/tags",
            None,
            &[],
        )
        .await;
    assert_eq!(tags.json["tags"][0]["name"], "a", "{:?}", tags.json);
    assert_eq!(tags.json["tags"].as_array().map(Vec::len), Some(1));
}
