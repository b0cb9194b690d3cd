//! List pages are rendered once per state of the image table: every change
//! (create, patch, membership, upload, deactivation, delete) shows in the
//! next listing, and each caller gets its own page.

use crate::harness::inproc::{ADMIN, ALICE, App, BOB, Who};
use axum::http::Method;
use glance_mock_server::Config;
use serde_json::{Value, json};

const PAGE: &str = "/v2/images?limit=25";

/// `(name, status, stores)` of each image `who` lists, by the same query.
async fn listed(app: &App, who: Who) -> Vec<(Value, Value, Value)> {
    let a = app.call(who, Method::GET, PAGE, None).await;
    assert_eq!(a.status, 200, "{}", a.text());
    a.json()["images"]
        .as_array()
        .expect("images")
        .iter()
        .map(|i| (i["name"].clone(), i["status"].clone(), i["stores"].clone()))
        .collect()
}

fn row(name: &str, status: &str, stores: Value) -> (Value, Value, Value) {
    (json!(name), json!(status), stores)
}

#[tokio::test]
async fn every_change_shows_in_the_next_page() {
    let app = App::new(Config::default());
    assert!(listed(&app, ALICE).await.is_empty());

    let id = app
        .create(
            ALICE,
            json!({"name": "a", "disk_format": "raw", "container_format": "bare"}),
        )
        .await;
    assert_eq!(listed(&app, ALICE).await, [row("a", "queued", Value::Null)]);
    // Shared, not yet with bob: his page stays empty while alice's and
    // the admin's show it.
    assert!(listed(&app, BOB).await.is_empty());
    assert_eq!(listed(&app, ADMIN).await.len(), 1);

    let rename = json!([{"op": "replace", "path": "/name", "value": "b"}]);
    let patched = app
        .call(
            ALICE,
            Method::PATCH,
            &format!("/v2/images/{id}"),
            Some(rename),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text());
    assert_eq!(listed(&app, ALICE).await, [row("b", "queued", Value::Null)]);

    let members = format!("/v2/images/{id}/members");
    let added = app
        .call(
            ALICE,
            Method::POST,
            &members,
            Some(json!({"member": "bob"})),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.text());
    // Pending: still not in bob's default listing; accepted: it is.
    assert!(listed(&app, BOB).await.is_empty());
    let accept = app
        .call(
            BOB,
            Method::PUT,
            &format!("{members}/bob"),
            Some(json!({"status": "accepted"})),
        )
        .await;
    assert_eq!(accept.status, 200, "{}", accept.text());
    assert_eq!(listed(&app, BOB).await, [row("b", "queued", Value::Null)]);

    assert_eq!(app.upload(ALICE, &id, &b"data"[..]).await.status, 204);
    let after_upload = listed(&app, ALICE).await;
    let first_store = after_upload[0].2.clone();
    assert_eq!(after_upload[0].1, "active");
    assert!(first_store.is_string(), "{first_store}");

    // Deactivated: the admin still sees its stores, a member does not.
    let deactivate = format!("/v2/images/{id}/actions/deactivate");
    assert_eq!(
        app.call(ADMIN, Method::POST, &deactivate, None)
            .await
            .status,
        204
    );
    assert_eq!(
        listed(&app, ADMIN).await,
        [row("b", "deactivated", first_store.clone())]
    );
    assert_eq!(
        listed(&app, BOB).await,
        [row("b", "deactivated", Value::Null)]
    );

    let reactivate = format!("/v2/images/{id}/actions/reactivate");
    assert_eq!(
        app.call(ADMIN, Method::POST, &reactivate, None)
            .await
            .status,
        204
    );
    let deleted = app
        .call(ALICE, Method::DELETE, &format!("/v2/images/{id}"), None)
        .await;
    assert_eq!(deleted.status, 204);
    assert!(listed(&app, ALICE).await.is_empty());
    assert!(listed(&app, BOB).await.is_empty());
}
