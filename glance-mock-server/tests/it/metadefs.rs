//! Metadata definitions, the cache API and the location API over HTTP, as
//! Glance 33 answers them: routing, headers, status codes and the messages
//! the domain unit tests cannot see end to end.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::http::{Api, Who};

/// The callers: roles and project.
const ADMIN: Who = Who::new("admin,member,reader", "admin-project");
const ALICE: Who = Who::new("member,reader", "alice");
const ALICE_MEMBER_ONLY: Who = Who::new("member", "alice");
const BOB: Who = Who::new("member,reader", "bob");
const SERVICE: Who = Who::new("service", "alice");

const NS: &str = "/v2/metadefs/namespaces";

#[tokio::test]
async fn namespace_lifecycle_and_visibility() {
    let api = Api::start().await;
    let a = api
        .call(
            ADMIN,
            Method::POST,
            NS,
            Some(json!({"namespace": "OS::Test::Pub", "visibility": "public", "display_name": "Pub"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.json()["owner"], "admin-project");
    assert_eq!(
        a.headers["location"],
        format!("{}{NS}/OS::Test::Pub", api.base).as_str()
    );

    let a = api
        .call(
            ADMIN,
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
        .call(
            ADMIN,
            Method::POST,
            NS,
            Some(json!({"namespace": "Priv", "owner": "alice"})),
        )
        .await;
    assert_eq!(a.json()["visibility"], "private");

    // readers see public namespaces and their own project's
    let a = api.call(BOB, Method::GET, NS, None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["namespaces"].as_array().map(Vec::len), Some(1));
    assert_eq!(a.json()["first"], "/v2/metadefs/namespaces");
    let a = api
        .call(ALICE, Method::GET, &format!("{NS}/Priv"), None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = api
        .call(BOB, Method::GET, &format!("{NS}/Priv"), None)
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.message(), "The resource could not be found.");
    // without the reader role nothing at all is visible
    let a = api.call(ALICE_MEMBER_ONLY, Method::GET, NS, None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);

    // only admins change anything
    let a = api
        .call(ALICE, Method::DELETE, &format!("{NS}/OS::Test::Pub"), None)
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(
        a.message(),
        "You are not authorized to complete delete_metadef_namespace action."
    );
    let a = api
        .call(ADMIN, Method::DELETE, &format!("{NS}/OS::Test::Pub"), None)
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = api
        .call(ALICE, Method::GET, &format!("{NS}/OS::Test::Pub"), None)
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
        .call(
            ADMIN,
            Method::POST,
            NS,
            Some(json!({"namespace": "N", "visibility": "public"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let a = api
        .call(
            ADMIN,
            Method::POST,
            &format!("{NS}/N/properties"),
            Some(json!({"name": "speed", "title": "Speed", "type": "integer", "minimum": 1.5})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.json()["minimum"], 1);
    let a = api
        .call(
            ADMIN,
            Method::POST,
            &format!("{NS}/N/objects"),
            Some(json!({"name": "Obj", "required": ["speed"]})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.json()["self"], "/v2/metadefs/namespaces/N/objects/Obj");
    let a = api
        .call(
            ADMIN,
            Method::POST,
            &format!("{NS}/N/resource_types"),
            Some(json!({"name": "OS::Glance::Image", "prefix": "img_"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let a = api
        .call(ALICE, Method::GET, "/v2/metadefs/resource_types", None)
        .await;
    assert_eq!(a.json()["resource_types"][0]["name"], "OS::Glance::Image");

    let a = api
        .call(
            ALICE,
            Method::GET,
            &format!("{NS}/N?resource_type=OS::Glance::Image"),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.json()["properties"].get("img_speed").is_some());
    assert_eq!(a.json()["objects"][0]["required"], json!(["img_speed"]));
    let a = api
        .call(
            ALICE,
            Method::GET,
            &format!("{NS}/N/properties/img_speed?resource_type=OS::Glance::Image"),
            None,
        )
        .await;
    assert_eq!(a.json()["name"], "speed");

    // a body Glance's schema refuses, and a read-only attribute
    let a = api
        .call(
            ADMIN,
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
        .call(
            ADMIN,
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
    api.call(
        ADMIN,
        Method::POST,
        NS,
        Some(json!({"namespace": "N", "visibility": "public"})),
    )
    .await;
    let tags = format!("{NS}/N/tags");
    let a = api
        .call(ADMIN, Method::POST, &format!("{tags}/old"), None)
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.json()["name"], "old");

    let a = api
        .call(
            ADMIN,
            Method::POST,
            &tags,
            Some(json!({"tags": [{"name": "a"}, {"name": "b"}]})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.json(), json!({"tags": [{"name": "a"}, {"name": "b"}]}));
    let a = api
        .send(
            api.req(ADMIN, Method::POST, &tags)
                .header("X-Openstack-Append", "True")
                .json(&json!({"tags": [{"name": "c"}]})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let a = api
        .send(
            api.req(ADMIN, Method::POST, &tags)
                .header("X-Openstack-Append", "yes")
                .json(&json!({"tags": [{"name": "a"}]})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(
        a.message(),
        "A metadata tag with name=a already exists in namespace=N. (Please note that metadata tag names are case insensitive)."
    );
    let a = api
        .call(
            ALICE,
            Method::GET,
            &format!("{tags}?sort_key=name&sort_dir=asc"),
            None,
        )
        .await;
    assert_eq!(
        a.json(),
        json!({"tags": [{"name": "a"}, {"name": "b"}, {"name": "c"}]})
    );
    // a tag's route refuses a body; a wrong method gets Glance's Allow list
    let a = api
        .call(ADMIN, Method::POST, &format!("{tags}/d"), Some(json!({})))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = api.call(ADMIN, Method::PATCH, &tags, None).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.headers["allow"], "GET, POST, DELETE");
}

#[tokio::test]
async fn cache_is_off_and_locations_are_for_services() {
    let api = Api::start().await;
    let a = api.call(ALICE, Method::GET, "/v2/cache", None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(
        a.message(),
        "You are not authorized to complete cache_list action."
    );
    let a = api.call(ADMIN, Method::GET, "/v2/cache", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(
        a.message(),
        "Caching via API is not supported at this site."
    );

    let img = api
        .call(
            ALICE,
            Method::POST,
            "/v2/images",
            Some(json!({"name": "x"})),
        )
        .await;
    let id = img.json()["id"].as_str().expect("id").to_owned();
    let a = api
        .call(ALICE, Method::PUT, &format!("/v2/cache/{id}"), None)
        .await;
    assert_eq!(
        a.message(),
        "You are not authorized to complete cache_image action."
    );
    let a = api
        .call(BOB, Method::PUT, &format!("/v2/cache/{id}"), None)
        .await;
    assert_eq!(a.message(), format!("Image {id} not found."));

    let locations = format!("/v2/images/{id}/locations");
    let a = api.call(ALICE, Method::GET, &locations, None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = api.call(SERVICE, Method::GET, &locations, None).await;
    assert_eq!(a.json(), json!([]));
    let a = api
        .call(
            ALICE,
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
        .call(
            SERVICE,
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
            ADMIN,
            Method::POST,
            "/v2/metadefs/namespaces",
            Some(json!({
                "namespace": "probe1",
                "resource_type_associations": [{"name": "ProbeRT"}],
                "objects": [{"name": "o"}, {"name": "o"}]
            })),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(
        refused.message(),
        "A metadata definition object with name=o already exists in namespace=probe1."
    );
    let gone = api
        .call(ADMIN, Method::GET, "/v2/metadefs/namespaces/probe1", None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let types = api
        .call(ADMIN, Method::GET, "/v2/metadefs/resource_types", None)
        .await;
    let types = types.json();
    let names: Vec<&str> = types["resource_types"]
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
            ADMIN,
            Method::POST,
            "/v2/metadefs/namespaces",
            Some(json!({"namespace": "kept", "tags": [{"name": "a"}]})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let dup = api
        .call(
            ADMIN,
            Method::POST,
            "/v2/metadefs/namespaces/kept/tags",
            Some(json!({"tags": [{"name": "b"}, {"name": "b"}]})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let tags = api
        .call(
            ADMIN,
            Method::GET,
            "/v2/metadefs/namespaces/kept/tags",
            None,
        )
        .await;
    assert_eq!(tags.json()["tags"][0]["name"], "a", "{:?}", tags.json());
    assert_eq!(tags.json()["tags"].as_array().map(Vec::len), Some(1));
}
