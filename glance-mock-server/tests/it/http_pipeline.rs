//! The request pipeline around the handlers, over HTTP: version
//! negotiation, identity and request ids, Glance's router rules, error
//! bodies by `Accept`, and the published schemas. Expected answers are
//! those of Glance 33.

use reqwest::{Method, RequestBuilder, Response, StatusCode};

use crate::harness::http::{Api, OWNER};

/// A request with no identity (methods by name: some are not standard).
fn anon(api: &Api, method: &str, path: &str) -> RequestBuilder {
    api.anon(Method::from_bytes(method.as_bytes()).expect("method"), path)
}

/// A request as a member of project `p`, with no `Accept`.
fn member(api: &Api, method: &str, path: &str) -> RequestBuilder {
    api.identified(
        OWNER,
        Method::from_bytes(method.as_bytes()).expect("method"),
        path,
    )
}

/// An empty `Accept`, which webob reads as none (reqwest would otherwise
/// send `*/*`, which asks for HTML).
fn no_accept(req: RequestBuilder) -> RequestBuilder {
    req.header("Accept", "")
}

async fn send(req: RequestBuilder) -> Response {
    req.send().await.expect("request sent")
}

fn header<'a>(resp: &'a Response, name: &str) -> Option<&'a str> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii header"))
}

#[tokio::test]
async fn version_documents_precede_identity_and_request_ids() {
    let api = Api::start().await.without_redirects();
    for (path, status) in [
        ("/", StatusCode::MULTIPLE_CHOICES),
        ("/v3/images", StatusCode::MULTIPLE_CHOICES),
        ("/v2.14/images", StatusCode::MULTIPLE_CHOICES),
        ("/versions", StatusCode::OK),
        ("/versions/anything", StatusCode::OK),
    ] {
        let resp = send(anon(&api, "GET", path).header("Host", "glance.example:9292")).await;
        assert_eq!(resp.status(), status, "{path}");
        assert_eq!(header(&resp, "x-openstack-request-id"), None, "{path}");
        let doc: serde_json::Value = resp.json().await.expect("JSON");
        let versions = doc["versions"].as_array().expect("a list");
        assert_eq!(versions.len(), 16);
        assert_eq!(versions[7]["id"], "v2.17");
        assert_eq!(versions[7]["status"], "CURRENT");
        assert_eq!(
            versions[0]["links"][0]["href"],
            "http://glance.example:9292/v2/"
        );
    }
}

#[tokio::test]
async fn versioned_paths_and_media_types_reach_v2() {
    let api = Api::start().await.without_redirects();
    for req in [
        member(&api, "GET", "/v2.17/images"),
        member(&api, "GET", "/v2.8/images"),
        member(&api, "GET", "//v2//images"),
        member(&api, "GET", "/images").header("Accept", "application/vnd.openstack.images-v2"),
    ] {
        let resp = send(req).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let body: serde_json::Value = resp.json().await.expect("JSON");
        assert_eq!(body["images"], serde_json::json!([]));
    }
    let resp = send(member(&api, "GET", "/v2/versions")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = send(member(&api, "POST", "/v2")).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = header(&resp, "location").expect("a location");
    assert!(location.ends_with("/v2/"), "{location}");
}

#[tokio::test]
async fn identity_comes_first_and_request_ids_follow_it() {
    let api = Api::start().await.without_redirects();
    // 401 before routing, without a request id, in the accepted format.
    for (method, path) in [
        ("GET", "/v2/images"),
        ("PUT", "/v2/images"),
        ("GET", "/v2/nothing"),
    ] {
        let resp = send(anon(&api, method, path).header("Accept", "application/json")).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(header(&resp, "x-openstack-request-id"), None);
        let body: serde_json::Value = resp.json().await.expect("JSON");
        assert_eq!(body["code"], "401 Unauthorized");
    }
    let resp =
        send(member(&api, "GET", "/v2/images").header("X-Openstack-Request-ID", "abc")).await;
    assert_eq!(header(&resp, "x-openstack-request-id"), Some("req-abc"));
    let resp = send(member(&api, "GET", "/v2/nothing")).await;
    let id = header(&resp, "x-openstack-request-id").expect("errors carry one too");
    assert!(id.starts_with("req-") && id.len() == 40, "{id}");
}

#[tokio::test]
async fn router_rules_answer_before_handlers() {
    let api = Api::start().await.without_redirects();
    // A known path with another method: 405 with Glance's Allow, HEAD included.
    for (method, path, allow) in [
        ("DELETE", "/v2/images", "GET, POST"),
        ("HEAD", "/v2/images", "GET, POST"),
        ("PROPFIND", "/v2/images", "GET, POST"),
        ("HEAD", "/v2/schemas/image", "GET"),
        ("POST", "/v2/images/x", "GET, PATCH, DELETE"),
        ("PUT", "/v2/images/x/locations", "POST"),
    ] {
        let resp = send(member(&api, method, path)).await;
        assert_eq!(
            resp.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(header(&resp, "allow"), Some(allow), "{method} {path}");
    }
    // No route: 404, or 501 for methods Glance does not route at all.
    let resp = send(member(&api, "DELETE", "/v2/images/x/tasks")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // (Glance: 501; the mock's default 404/405, see tests/crashes.rs.)
    let resp = send(no_accept(member(&api, "PROPFIND", "/v2/nothing"))).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // Bodies: refused on body_reject routes, read as JSON on reject routes.
    let resp = send(no_accept(member(&api, "GET", "/v2/images/x")).body("x")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        resp.text().await.expect("text"),
        "400 Bad Request\n\nA body is not expected with this request.\n\n   "
    );
    let resp = send(member(&api, "PUT", "/v2/images").body("x")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = send(member(&api, "PUT", "/v2/images").body("{}")).await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    // A body Glance's default deserializer hands to an action that takes
    // none: Glance crashes (500, see tests/crashes.rs), the mock refuses it.
    let resp = send(member(&api, "GET", "/v2/schemas/task").body("{}")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // CORS answers OPTIONS itself.
    let resp = send(anon(&api, "OPTIONS", "/v2/anything")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "content-type"), None);
    assert_eq!(resp.text().await.expect("text"), "");
}

#[tokio::test]
async fn error_bodies_follow_accept() {
    let api = Api::start().await.without_redirects();
    let path = "/v2/images/00000000-0000-4000-8000-000000000404";
    let resp = send(no_accept(member(&api, "GET", path))).await;
    assert_eq!(
        header(&resp, "content-type"),
        Some("text/plain; charset=UTF-8")
    );
    assert_eq!(
        resp.text().await.expect("text"),
        "404 Not Found\n\nNo image found with ID 00000000-0000-4000-8000-000000000404\n\n   "
    );
    let resp = send(member(&api, "GET", path).header("Accept", "*/*")).await;
    assert_eq!(
        header(&resp, "content-type"),
        Some("text/html; charset=UTF-8")
    );
    assert!(
        resp.text()
            .await
            .expect("text")
            .contains("<h1>404 Not Found</h1>")
    );
    let resp =
        send(member(&api, "GET", path).header("Accept", "text/html;q=0.5, application/json")).await;
    assert_eq!(header(&resp, "content-type"), Some("application/json"));
    assert_eq!(
        resp.text().await.expect("text"),
        r#"{"message": "No image found with ID 00000000-0000-4000-8000-000000000404<br /><br />\n\n\n", "code": "404 Not Found", "title": "Not Found"}"#
    );
}

#[tokio::test]
async fn schemas_are_served_as_recorded() {
    let api = Api::start().await.without_redirects();
    for (name, doc) in glance_mock_server::api::schemas::DOCUMENTS {
        let resp = send(member(&api, "GET", &format!("/v2/schemas/{name}"))).await;
        assert_eq!(resp.status(), StatusCode::OK, "{name}");
        assert_eq!(header(&resp, "content-type"), Some("application/json"));
        assert_eq!(resp.text().await.expect("text"), *doc, "{name}");
    }
    let resp = send(member(&api, "GET", "/v2/schemas/nope")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}
