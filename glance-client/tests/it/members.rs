//! `members()` on the wire.

use crate::common::{ID, client, glance_error, requests};
use glance_client::MemberStatus;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn member(status: &str) -> serde_json::Value {
    json!({
        "member_id": "proj-b", "image_id": ID, "status": status,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "schema": "/v2/schemas/member"
    })
}

#[tokio::test]
async fn every_member_call() {
    let server = MockServer::start().await;
    let base = format!("/v2/images/{ID}/members");
    Mock::given(method("GET"))
        .and(path(base.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"members": [member("accepted")], "schema": "/v2/schemas/members"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(base.clone()))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"member": "proj-b"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(member("pending")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/proj-b")))
        .respond_with(ResponseTemplate::new(200).set_body_json(member("pending")))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{base}/proj-b")))
        .and(body_json(json!({"status": "rejected"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(member("rejected")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{base}/proj-b")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&server);
    let members = c.members();
    let created = members.create(ID, "proj-b").await.expect("created");
    assert_eq!(created.status, MemberStatus::Pending);
    assert_eq!(created.member_id, "proj-b");
    let listed = members.list(ID).await.expect("listed");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, MemberStatus::Accepted);
    assert_eq!(
        members.get(ID, "proj-b").await.expect("shown").status,
        MemberStatus::Pending
    );
    let updated = members
        .update(ID, "proj-b", MemberStatus::Rejected)
        .await
        .expect("answered");
    assert_eq!(updated.status, MemberStatus::Rejected);
    members.delete(ID, "proj-b").await.expect("removed");
    let methods: Vec<_> = requests(&server)
        .await
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    assert_eq!(methods, ["POST", "GET", "GET", "PUT", "DELETE"]);
}

#[tokio::test]
async fn member_errors_are_typed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(glance_error(
            409,
            &format!("Member proj-b is duplicated for image {ID}"),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(glance_error(
            403,
            &format!(
                "Not allowed to list members for image {ID}: Only shared images have members."
            ),
        ))
        .mount(&server)
        .await;
    let c = client(&server);
    assert!(
        c.members()
            .create(ID, "proj-b")
            .await
            .expect_err("409")
            .is_conflict()
    );
    let err = c.members().list(ID).await.expect_err("403");
    assert!(err.is_forbidden());
    assert!(err.to_string().contains("Only shared images"), "{err}");
    let err = c.members().create(ID, "").await.expect_err("empty");
    assert!(err.is_invalid_input());
    assert_eq!(requests(&server).await.len(), 2);
}
