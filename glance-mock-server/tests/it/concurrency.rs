//! Requests racing on one image, in-process on a multi-threaded runtime:
//! uploads (one wins, the others 409, the winner's bytes stored), patches of
//! different fields (none lost), member changes (consistent), deletes.

use std::time::Duration;

use crate::harness::inproc::{ADMIN, ALICE, App, Who};
use axum::body::{Body, Bytes};
use axum::http::{Method, StatusCode};
use futures::stream;
use glance_mock_server::Config;
use serde_json::json;
use sha2::{Digest, Sha256};

const RACERS: usize = 16;

/// Upload bodies arrive in pieces with pauses between them, so that the
/// uploads overlap.
fn trickle(data: Vec<u8>) -> Body {
    let pieces: Vec<Bytes> = data.chunks(4096).map(Bytes::copy_from_slice).collect();
    Body::from_stream(stream::unfold(pieces.into_iter(), |mut it| async move {
        let piece = it.next()?;
        tokio::time::sleep(Duration::from_millis(1)).await;
        Some((Ok::<_, std::io::Error>(piece), it))
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_uploads_one_wins_and_its_bytes_are_stored() {
    for round in 0..5 {
        let app = App::new(Config::default());
        let id = app
            .create(
                ALICE,
                json!({"disk_format": "raw", "container_format": "bare"}),
            )
            .await;
        let mut tasks = Vec::new();
        for i in 0..RACERS {
            let app = app.clone();
            let id = id.clone();
            // Different bytes and sizes per racer.
            let data: Vec<u8> = (0..(40_000 + i * 977))
                .map(|n| (n * (i + 3) % 251) as u8)
                .collect();
            tasks.push(tokio::spawn(async move {
                let req = app
                    .request(ALICE, Method::PUT, &format!("/v2/images/{id}/file"))
                    .header("Content-Type", "application/octet-stream")
                    .body(trickle(data.clone()))
                    .expect("request");
                (app.send(req).await, data)
            }));
        }
        let mut winners = Vec::new();
        for t in tasks {
            let (answer, data) = t.await.expect("no panic");
            match answer.status {
                StatusCode::NO_CONTENT => winners.push(data),
                StatusCode::CONFLICT => {}
                other => panic!("round {round}: upload answered {other}: {}", answer.text()),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: exactly one upload wins");
        let stored = app
            .call(ALICE, Method::GET, &format!("/v2/images/{id}/file"), None)
            .await;
        assert_eq!(stored.status, StatusCode::OK);
        assert_eq!(
            Sha256::digest(&stored.body),
            Sha256::digest(&winners[0]),
            "round {round}: the winner's bytes are stored"
        );
        let img = app
            .call(ALICE, Method::GET, &format!("/v2/images/{id}"), None)
            .await
            .json();
        assert_eq!(img["status"], "active");
        assert_eq!(img["size"], winners[0].len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_of_different_fields_lose_nothing() {
    let app = App::new(Config::default());
    let id = app.create(ALICE, json!({"name": "start"})).await;
    let mut tasks = Vec::new();
    for i in 0..RACERS {
        let app = app.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            // Each racer adds its own property; every fourth one also a tag,
            // through the tags resource, at the same time.
            let uri = format!("/v2/images/{id}");
            let ops =
                json!([{"op": "add", "path": format!("/prop_{i}"), "value": format!("v{i}")}]);
            let tag = async {
                if i % 4 == 0 {
                    let tag = app
                        .call(ALICE, Method::PUT, &format!("{uri}/tags/tag{i}"), None)
                        .await;
                    assert_eq!(tag.status, StatusCode::NO_CONTENT, "{}", tag.text());
                }
            };
            let (patched, ()) = tokio::join!(app.call(ALICE, Method::PATCH, &uri, Some(ops)), tag);
            patched
        }));
    }
    for t in tasks {
        let a = t.await.expect("no panic");
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    }
    let img = app
        .call(ALICE, Method::GET, &format!("/v2/images/{id}"), None)
        .await
        .json();
    for i in 0..RACERS {
        assert_eq!(img[format!("prop_{i}")], format!("v{i}"), "prop_{i} kept");
    }
    let mut tags: Vec<String> = serde_json::from_value(img["tags"].clone()).expect("tags");
    tags.sort();
    let mut want: Vec<String> = (0..RACERS)
        .filter(|i| i % 4 == 0)
        .map(|i| format!("tag{i}"))
        .collect();
    want.sort();
    assert_eq!(tags, want);
    assert_eq!(img["name"], "start");
}

const PROJECTS: [&str; 8] = ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_member_changes_stay_consistent() {
    let app = App::new(Config::default());
    let id = app.create(ALICE, json!({"visibility": "shared"})).await;
    let members = format!("/v2/images/{id}/members");
    // Every project added twice at once: one 200 and one 409 each.
    let mut tasks = Vec::new();
    for p in PROJECTS.iter().chain(PROJECTS.iter()) {
        let app = app.clone();
        let members = members.clone();
        tasks.push(tokio::spawn(async move {
            let a = app
                .call(ALICE, Method::POST, &members, Some(json!({"member": p})))
                .await;
            (p, a.status)
        }));
    }
    let mut added = std::collections::BTreeMap::<&str, Vec<StatusCode>>::new();
    for t in tasks {
        let (p, status) = t.await.expect("no panic");
        added.entry(p).or_default().push(status);
    }
    for (p, mut statuses) in added {
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{p}");
    }
    // Each member sets its own status while the owner removes the last two.
    let mut tasks = Vec::new();
    for (i, p) in PROJECTS.iter().enumerate() {
        let app = app.clone();
        let uri = format!("{members}/{p}");
        tasks.push(tokio::spawn(async move {
            let who = Who {
                roles: "member,reader",
                project: p,
            };
            let status = if i % 2 == 0 { "accepted" } else { "rejected" };
            let set = app
                .call(who, Method::PUT, &uri, Some(json!({"status": status})))
                .await;
            let removed = if i >= 6 {
                Some(app.call(ALICE, Method::DELETE, &uri, None).await.status)
            } else {
                None
            };
            (set.status, removed)
        }));
    }
    for t in tasks {
        let (set, removed) = t.await.expect("no panic");
        assert_eq!(set, StatusCode::OK);
        assert!(removed.is_none_or(|s| s == StatusCode::NO_CONTENT));
    }
    let listed = app.call(ALICE, Method::GET, &members, None).await.json();
    let mut seen: Vec<(String, String)> = listed["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["member_id"].as_str().expect("id").to_owned(),
                m["status"].as_str().expect("status").to_owned(),
            )
        })
        .collect();
    seen.sort();
    let want: Vec<(String, String)> = PROJECTS[..6]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let s = if i % 2 == 0 { "accepted" } else { "rejected" };
            ((*p).to_owned(), s.to_owned())
        })
        .collect();
    assert_eq!(seen, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deletes_one_204_the_rest_404() {
    let app = App::new(Config::default());
    let id = app
        .create(
            ALICE,
            json!({"disk_format": "raw", "container_format": "bare"}),
        )
        .await;
    assert_eq!(
        app.upload(ALICE, &id, vec![7u8; 100_000]).await.status,
        StatusCode::NO_CONTENT
    );
    let mut tasks = Vec::new();
    for _ in 0..RACERS {
        let app = app.clone();
        let uri = format!("/v2/images/{id}");
        tasks.push(tokio::spawn(async move {
            app.call(ALICE, Method::DELETE, &uri, None).await.status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("no panic"));
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::NO_CONTENT)
            .count(),
        1
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::NO_CONTENT || *s == StatusCode::NOT_FOUND)
    );
    let gone = app
        .call(ADMIN, Method::GET, &format!("/v2/images/{id}"), None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}
