//! Tags, members and policies over HTTP, as Glance 33 answers them: the
//! parts the domain unit tests cannot see (routing, path decoding, body
//! rules, status codes and headers).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::http::{Api, Who, message};

/// The callers: roles and project.
const ALICE: Who = Who::new("member,reader", "alice");
const ALICE_READER: Who = Who::new("reader", "alice");
const BOB: Who = Who::new("member,reader", "bob");
const BOB_MEMBER_ONLY: Who = Who::new("member", "bob");
const CAROL: Who = Who::new("member,reader", "carol");

/// A new image of ALICE's with `visibility`.
async fn image(api: &Api, visibility: &str) -> String {
    api.create_as(ALICE, json!({"visibility": visibility}))
        .await
}

#[tokio::test]
async fn sharing_an_image_with_a_project() {
    let api = Api::start().await;
    let img = image(&api, "shared").await;
    let members = format!("/v2/images/{img}/members");

    let (status, m) = api
        .call_json(
            ALICE,
            Method::POST,
            &members,
            Some(json!({"member": "bob"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(m["status"], "pending");
    assert_eq!(m["schema"], "/v2/schemas/member");

    let (status, v) = api
        .call_json(
            ALICE,
            Method::POST,
            &members,
            Some(json!({"member": "bob"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        message(&v),
        format!("Member bob is duplicated for image {img}")
    );

    // a pending member sees the image, but lists it only when asked
    let (status, _) = api
        .call_json(BOB, Method::GET, &format!("/v2/images/{img}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = api.call_json(BOB, Method::GET, "/v2/images", None).await;
    assert_eq!(list["images"], json!([]));
    let (_, list) = api
        .call_json(BOB, Method::GET, "/v2/images?member_status=pending", None)
        .await;
    assert_eq!(list["images"][0]["id"], img.as_str());

    // only bob sets bob's status
    let bob_row = format!("{members}/bob");
    let (status, v) = api
        .call_json(
            ALICE,
            Method::PUT,
            &bob_row,
            Some(json!({"status": "accepted"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        message(&v),
        "You are not authorized to complete modify_member action."
    );
    let (status, m) = api
        .call_json(
            BOB,
            Method::PUT,
            &bob_row,
            Some(json!({"status": "accepted"})),
        )
        .await;
    assert_eq!(
        (status, m["status"].as_str()),
        (StatusCode::OK, Some("accepted"))
    );

    // carol neither sees it nor its members
    let (status, v) = api.call_json(CAROL, Method::GET, &members, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(message(&v), format!("Image {img} not found."));

    let status = api.call(ALICE, Method::DELETE, &bob_row, None).await.status;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api
        .call_json(BOB, Method::GET, &format!("/v2/images/{img}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_shared_images_have_members() {
    let api = Api::start().await;
    let img = image(&api, "private").await;
    let (status, v) = api
        .call_json(
            ALICE,
            Method::POST,
            &format!("/v2/images/{img}/members"),
            Some(json!({"member": "bob"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        message(&v),
        format!("Not allowed to create members for image {img}.")
    );
    let (status, v) = api
        .call_json(
            ALICE,
            Method::GET,
            &format!("/v2/images/{img}/members/bob"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(message(&v), "Only shared images have members.");
}

#[tokio::test]
async fn tags_are_added_once_and_removed_once() {
    let api = Api::start().await;
    let img = image(&api, "shared").await;
    for _ in 0..2 {
        let (status, _, body) = api
            .call(
                ALICE,
                Method::PUT,
                &format!("/v2/images/{img}/tags/blue"),
                None,
            )
            .await
            .parts();
        assert_eq!((status, body.as_str()), (StatusCode::NO_CONTENT, ""));
    }
    // the path arrives as WSGI hands it over: UTF-8 bytes read as Latin-1
    let status = api
        .call(
            ALICE,
            Method::PUT,
            &format!("/v2/images/{img}/tags/%C3%A9"),
            None,
        )
        .await
        .status;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, v) = api
        .call_json(ALICE, Method::GET, &format!("/v2/images/{img}"), None)
        .await;
    assert_eq!(v["tags"], json!(["blue", "\u{c3}\u{a9}"]));

    let blue = format!("/v2/images/{img}/tags/blue");
    let status = api.call(ALICE, Method::DELETE, &blue, None).await.status;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, v) = api.call_json(ALICE, Method::DELETE, &blue, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(message(&v), "The resource could not be found.");

    let (status, v) = api
        .call_json(
            ALICE,
            Method::PUT,
            &format!("/v2/images/{img}/tags/x"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(message(&v), "A body is not expected with this request.");
}

#[tokio::test]
async fn refusals_are_403_for_readers_and_404_for_others() {
    let api = Api::start().await;
    let img = image(&api, "community").await;
    let tag = format!("/v2/images/{img}/tags/x");
    let (status, v) = api.call_json(BOB, Method::PUT, &tag, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        message(&v),
        "You are not authorized to complete modify_image action."
    );
    let (status, v) = api
        .call_json(BOB_MEMBER_ONLY, Method::PUT, &tag, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(message(&v), "The resource could not be found.");
    let (status, v) = api
        .call_json(
            ALICE_READER,
            Method::DELETE,
            &format!("/v2/images/{img}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        message(&v),
        "You are not authorized to complete delete_image action."
    );
}

#[tokio::test]
async fn other_methods_get_glance_405_with_allow() {
    let api = Api::start().await;
    let img = image(&api, "shared").await;
    for (method, path, allow) in [
        (
            Method::POST,
            format!("/v2/images/{img}/tags/x"),
            "PUT, DELETE",
        ),
        (
            Method::PATCH,
            format!("/v2/images/{img}/members"),
            "GET, POST",
        ),
        (
            Method::HEAD,
            format!("/v2/images/{img}/members"),
            "GET, POST",
        ),
        (
            Method::POST,
            format!("/v2/images/{img}/members/bob"),
            "GET, PUT, DELETE",
        ),
    ] {
        let (status, headers, _) = api.call(ALICE, method.clone(), &path, None).await.parts();
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(
            headers.get("allow").and_then(|v| v.to_str().ok()),
            Some(allow)
        );
    }
}

#[tokio::test]
async fn paths_that_are_not_utf8_fail_before_glance() {
    // Glance's WSGI server answers its bare 500 page here (reproduced with
    // `glance_server_errors`, see tests/crashes.rs); the mock a 400.
    let api = Api::start().await;
    let (status, _, body) = api
        .call(ALICE, Method::GET, "/v2/images/%FF", None)
        .await
        .parts();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("not valid UTF-8"), "{body}");
}
