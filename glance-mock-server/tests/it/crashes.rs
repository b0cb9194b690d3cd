//! Where Glance 33 itself crashes (500) on input it does not check, the mock
//! answers a 4xx by default and Glance's 500 with
//! `Config::glance_server_errors`. One test per case, both modes; the list
//! is also in RELIABILITY.md.

use crate::harness::inproc::{ADMIN, ALICE, App};
use axum::body::Body;
use axum::http::{Method, StatusCode};
use glance_mock_server::Config;
use serde_json::json;

fn apps() -> [(App, bool); 2] {
    let faithful = Config {
        glance_server_errors: true,
        ..Config::default()
    };
    [
        (App::new(Config::default()), false),
        (App::new(faithful), true),
    ]
}

/// The status expected: 500 when reproducing Glance, `soft` otherwise.
fn expect(faithful: bool, soft: StatusCode) -> StatusCode {
    if faithful {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        soft
    }
}

#[tokio::test]
async fn unparsable_ranges_are_416() {
    for (app, faithful) in apps() {
        let id = app
            .create(
                ALICE,
                json!({"disk_format": "raw", "container_format": "bare"}),
            )
            .await;
        assert_eq!(
            app.upload(ALICE, &id, "hello world").await.status,
            StatusCode::NO_CONTENT
        );
        for (name, value) in [("Range", "bytes=-"), ("Content-Range", "bytes */11")] {
            let req = app
                .request(ALICE, Method::GET, &format!("/v2/images/{id}/file"))
                .header(name, value)
                .body(Body::empty())
                .expect("request");
            let a = app.send(req).await;
            assert_eq!(
                a.status,
                expect(faithful, StatusCode::RANGE_NOT_SATISFIABLE),
                "{name}: {value}"
            );
            if !faithful {
                assert!(a.text().contains("Invalid Range header."), "{}", a.text());
            }
        }
    }
}

#[tokio::test]
async fn paths_that_are_not_utf8_are_400() {
    for (app, faithful) in apps() {
        let a = app.call(ALICE, Method::GET, "/v2/images/%FF", None).await;
        assert_eq!(a.status, expect(faithful, StatusCode::BAD_REQUEST));
    }
}

#[tokio::test]
async fn an_unparsable_service_catalog_is_400() {
    for (app, faithful) in apps() {
        let req = app
            .request(ALICE, Method::GET, "/v2/images")
            .header("X-Service-Catalog", "{not json")
            .body(Body::empty())
            .expect("request");
        let a = app.send(req).await;
        assert_eq!(a.status, expect(faithful, StatusCode::BAD_REQUEST));
        assert!(
            a.text().contains("Invalid service catalog json."),
            "{}",
            a.text()
        );
    }
}

#[tokio::test]
async fn a_body_for_an_action_without_one_is_400() {
    for (app, faithful) in apps() {
        let a = app
            .call(ALICE, Method::GET, "/v2/schemas/task", Some(json!({})))
            .await;
        assert_eq!(a.status, expect(faithful, StatusCode::BAD_REQUEST));
    }
}

#[tokio::test]
async fn domain_crashes_are_400() {
    for (app, faithful) in apps() {
        let id = app.create(ALICE, json!({"visibility": "shared"})).await;
        let uri = format!("/v2/images/{id}");
        // A JSON pointer that is not a string.
        let a = app
            .call(
                ALICE,
                Method::PATCH,
                &uri,
                Some(json!([{"op": "add", "path": 5, "value": "x"}])),
            )
            .await;
        assert_eq!(
            a.status,
            expect(faithful, StatusCode::BAD_REQUEST),
            "{}",
            a.text()
        );
        // A member id that is a list.
        let a = app
            .call(
                ALICE,
                Method::POST,
                &format!("{uri}/members"),
                Some(json!({"member": ["x"]})),
            )
            .await;
        assert_eq!(
            a.status,
            expect(faithful, StatusCode::BAD_REQUEST),
            "{}",
            a.text()
        );
        // A legacy import task whose source is a number.
        let a = app
            .call(
                ADMIN,
                Method::POST,
                "/v2/tasks",
                Some(json!({"type": "import", "input": {"import_from": 5, "import_from_format": "raw", "image_properties": {}}})),
            )
            .await;
        assert_eq!(
            a.status,
            expect(faithful, StatusCode::BAD_REQUEST),
            "{}",
            a.text()
        );
        // Nothing was changed by any of them.
        let img = app.call(ALICE, Method::GET, &uri, None).await.json();
        assert_eq!(img["status"], "queued");
        let members = app
            .call(ALICE, Method::GET, &format!("{uri}/members"), None)
            .await
            .json();
        assert_eq!(members["members"], json!([]));
    }
}

/// List queries Glance 33 passes to code that fails on them (probed, see
/// tests/conformance/own/scenarios/list-query-*.json for the 4xx ones).
#[tokio::test]
async fn list_query_crashes_are_400() {
    for (app, faithful) in apps() {
        for uri in [
            // `normalize_time` of a text (an empty value escapes the 400)
            "/v2/images?changes-since=",
            // `getattr(models.Image, "foo")` for a range on no column
            "/v2/images?foo_min=1",
            // `.items()` of a text
            "/v2/images?properties=x",
            // a relationship compared with a text
            "/v2/images?locations=x",
            "/v2/images?members=x",
            "/v2/images?tags=a&tags=b",
            // `int()` of the limit, and `paginate_query` on an unknown key
            "/v2/metadefs/namespaces?limit=x",
            "/v2/metadefs/namespaces?limit=",
            "/v2/metadefs/namespaces?sort_key=bogus",
        ] {
            let a = app.call(ALICE, Method::GET, uri, None).await;
            assert_eq!(
                a.status,
                expect(faithful, StatusCode::BAD_REQUEST),
                "{uri}: {}",
                a.text()
            );
        }
    }
}

#[tokio::test]
async fn unknown_methods_are_405_or_404() {
    for (app, faithful) in apps() {
        let method = Method::from_bytes(b"TRACE").expect("method");
        let a = app
            .call(ALICE, method.clone(), "/v2/info/usage", None)
            .await;
        let allow = a.headers.get("allow").and_then(|v| v.to_str().ok());
        if faithful {
            assert_eq!(a.status, StatusCode::NOT_IMPLEMENTED);
            assert_eq!(allow, None);
        } else {
            assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{}", a.text());
            assert_eq!(allow, Some("GET"));
        }
        let a = app.call(ALICE, method, "/v2/nothing", None).await;
        assert_eq!(
            a.status,
            if faithful {
                StatusCode::NOT_IMPLEMENTED
            } else {
                StatusCode::NOT_FOUND
            }
        );
    }
}

/// A JSON body that cannot be read (here a stream that fails, as a
/// malformed chunked encoding does): Glance 33's read error escapes its
/// handler, webob's 500.
#[tokio::test]
async fn unreadable_json_bodies_are_400() {
    for (app, faithful) in apps() {
        let failing = futures::stream::iter([
            Ok(axum::body::Bytes::from_static(b"{\"name\"")),
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "invalid chunk size",
            )),
        ]);
        let req = app
            .request(ALICE, Method::POST, "/v2/images")
            .header("Content-Type", "application/json")
            .header("Transfer-Encoding", "chunked")
            .body(Body::from_stream(failing))
            .expect("request");
        let a = app.send(req).await;
        assert_eq!(a.status, expect(faithful, StatusCode::BAD_REQUEST));
        let (code, message) = if faithful {
            (
                "500 Internal Server Error",
                "The server has either erred or is incapable of performing the requested operation.<br /><br />\n\n\n",
            )
        } else {
            (
                "400 Bad Request",
                "The server could not comply with the request since it is either malformed or otherwise incorrect.<br /><br />\n\n\n",
            )
        };
        assert_eq!(a.json()["code"], code, "{}", a.text());
        assert_eq!(a.json()["message"], message);
    }
}
