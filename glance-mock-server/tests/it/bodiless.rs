//! Answers without a body carry the content type Glance 33's do: its
//! serializers set the status of webob's default `Response()` (whose type
//! is `text/html; charset=UTF-8`), so its 204s and 202s keep that type;
//! the two handlers that build `webob.Response(status=204)` themselves
//! (member delete, the download of an image without data) send none.
//! Observed on the reference deployment (`shared/real-glance/start`, and
//! `scripts/real-glance-variant` with a cache for `/v2/cache`).

use crate::harness::inproc::{ADMIN, ALICE, Answer, App};
use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use glance_mock_server::Config;
use glance_mock_server::config::CacheConfig;
use serde_json::{Value, json};

const WEBOB: &str = "text/html; charset=UTF-8";

fn ctype(a: &Answer) -> Option<&str> {
    a.headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().expect("ascii"))
}

#[track_caller]
fn typed(a: &Answer, status: StatusCode, what: &str) {
    assert_eq!(a.status, status, "{what}: {}", a.text());
    assert_eq!(ctype(a), Some(WEBOB), "{what}");
    assert!(a.body.is_empty(), "{what}");
}

#[track_caller]
fn untyped(a: &Answer, what: &str) {
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{what}: {}", a.text());
    assert_eq!(ctype(a), None, "{what}");
}

fn raw(extra: Value) -> Value {
    let mut v = json!({"disk_format": "raw", "container_format": "bare"});
    if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
        v.extend(extra.clone());
    }
    v
}

async fn put_bytes(app: &App, uri: &str, data: &'static [u8]) -> Answer {
    let req = app
        .request(ALICE, Method::PUT, uri)
        .header("Content-Type", "application/octet-stream")
        .header("Content-Length", data.len())
        .body(Body::from(data))
        .expect("request");
    app.send(req).await
}

#[tokio::test]
async fn image_answers_without_a_body_are_typed_as_glance_types_them() {
    let app = App::new(Config::default());
    let id = app
        .create(ALICE, raw(json!({"visibility": "shared"})))
        .await;
    let img = format!("/v2/images/{id}");

    // The download of an image without data: `webob.Response(status=204)`.
    let a = app
        .call(ALICE, Method::GET, &format!("{img}/file"), None)
        .await;
    untyped(&a, "GET file without data");

    typed(
        &app.upload(ALICE, &id, &b"hello"[..]).await,
        StatusCode::NO_CONTENT,
        "PUT file",
    );
    for (method, path) in [(Method::PUT, "/tags/blue"), (Method::DELETE, "/tags/blue")] {
        let a = app.call(ALICE, method, &format!("{img}{path}"), None).await;
        typed(&a, StatusCode::NO_CONTENT, path);
    }
    for action in ["deactivate", "reactivate"] {
        let a = app
            .call(
                ADMIN,
                Method::POST,
                &format!("{img}/actions/{action}"),
                None,
            )
            .await;
        typed(&a, StatusCode::NO_CONTENT, action);
    }

    let a = app
        .call(
            ALICE,
            Method::POST,
            &format!("{img}/members"),
            Some(json!({"member": "bob"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let a = app
        .call(ALICE, Method::DELETE, &format!("{img}/members/bob"), None)
        .await;
    untyped(&a, "DELETE member");

    // Stage, then import: 204, then 202 (with an empty body).
    let staged = app.create(ALICE, raw(json!({}))).await;
    let a = put_bytes(&app, &format!("/v2/images/{staged}/stage"), b"staged").await;
    typed(&a, StatusCode::NO_CONTENT, "PUT stage");
    let a = app
        .call(
            ALICE,
            Method::POST,
            &format!("/v2/images/{staged}/import"),
            Some(json!({"method": {"name": "glance-direct"}})),
        )
        .await;
    typed(&a, StatusCode::ACCEPTED, "POST import");

    let a = app.call(ALICE, Method::DELETE, &img, None).await;
    typed(&a, StatusCode::NO_CONTENT, "DELETE image");
}

#[tokio::test]
async fn metadefs_deletes_are_typed() {
    let app = App::new(Config::default());
    let ns = "/v2/metadefs/namespaces";
    let made = [
        (ns.to_owned(), json!({"namespace": "OS::Typed"})),
        (format!("{ns}/OS::Typed/objects"), json!({"name": "o"})),
        (
            format!("{ns}/OS::Typed/properties"),
            json!({"name": "p", "title": "p", "type": "string"}),
        ),
        (
            format!("{ns}/OS::Typed/resource_types"),
            json!({"name": "OS::Nova::Server"}),
        ),
    ];
    for (uri, body) in made {
        let a = app.call(ADMIN, Method::POST, &uri, Some(body)).await;
        assert_eq!(a.status, StatusCode::CREATED, "{uri}: {}", a.text());
    }
    let a = app
        .call(ADMIN, Method::POST, &format!("{ns}/OS::Typed/tags/t"), None)
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    for path in [
        "/objects/o",
        "/properties/p",
        "/tags/t",
        "/resource_types/OS::Nova::Server",
        "/objects",
        "/properties",
        "/tags",
        "",
    ] {
        let uri = format!("{ns}/OS::Typed{path}");
        let a = app.call(ADMIN, Method::DELETE, &uri, None).await;
        typed(&a, StatusCode::NO_CONTENT, &uri);
    }
}

#[tokio::test]
async fn cache_answers_are_typed() {
    let app = App::new(Config {
        cache: CacheConfig { enabled: true },
        ..Config::default()
    });
    let id = app.create(ALICE, raw(json!({}))).await;
    assert_eq!(
        app.upload(ALICE, &id, &b"cached"[..]).await.status,
        StatusCode::NO_CONTENT
    );
    let entry = format!("/v2/cache/{id}");
    let a = app.call(ADMIN, Method::PUT, &entry, None).await;
    typed(&a, StatusCode::ACCEPTED, "PUT cache entry");
    let a = app.call(ADMIN, Method::DELETE, &entry, None).await;
    typed(&a, StatusCode::NO_CONTENT, "DELETE cache entry");
    let a = app.call(ADMIN, Method::DELETE, "/v2/cache", None).await;
    typed(&a, StatusCode::NO_CONTENT, "DELETE cache");
}

#[tokio::test]
async fn answers_with_a_body_keep_their_own_type() {
    let app = App::new(Config::default());
    let id = app.create(ALICE, raw(json!({}))).await;
    let a = app
        .call(ALICE, Method::GET, &format!("/v2/images/{id}"), None)
        .await;
    assert_eq!(ctype(&a), Some("application/json"));
    // CORS preflights: an empty 200 with no type, as Glance's CORS filter.
    let req = app
        .request(ALICE, Method::OPTIONS, "/v2/images")
        .body(Body::empty())
        .expect("request");
    let a = app.send(req).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(ctype(&a), None);
}
