//! The tasks API on the wire.

use crate::common::{client, glance_error, requests};
use futures::TryStreamExt;
use glance_client::images::SortDir;
use glance_client::{ListTasks, TaskStatus};
use serde_json::json;
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn task(id: &str, status: &str) -> serde_json::Value {
    json!({
        "id": id, "type": "import", "status": status, "owner": "p",
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "self": format!("/v2/tasks/{id}"), "schema": "/v2/schemas/task"
    })
}

#[tokio::test]
async fn list_follows_next_links_and_honours_the_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tasks"))
        .and(query_param("marker", "t2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "tasks": [task("t3", "success"), task("t4", "success")],
            "first": "/v2/tasks?limit=2",
            "next": "/v2/tasks?limit=2&marker=t4",
            "schema": "/v2/schemas/tasks"
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/tasks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "tasks": [task("t1", "pending"), task("t2", "failure")],
            "first": "/v2/tasks?limit=2",
            "next": "/v2/tasks?status=success&limit=2&sort_key=id&sort_dir=asc&marker=t2",
            "schema": "/v2/schemas/tasks"
        })))
        .mount(&server)
        .await;
    let tasks: Vec<_> = client(&server)
        .tasks()
        .list(
            ListTasks::new()
                .status(TaskStatus::Success)
                .sort("id", SortDir::Asc)
                .page_size(2)
                .limit(3),
        )
        .try_collect()
        .await
        .expect("listed");
    let ids: Vec<_> = tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["t1", "t2", "t3"]);
    assert_eq!(tasks[1].status, TaskStatus::Failure);
    let reqs = requests(&server).await;
    assert_eq!(
        reqs.iter().map(|(_, p)| p.as_str()).collect::<Vec<_>>(),
        [
            "/v2/tasks?status=success&limit=2&sort_key=id&sort_dir=asc",
            "/v2/tasks?status=success&limit=1&sort_key=id&sort_dir=asc&marker=t2",
        ]
    );
}

#[tokio::test]
async fn get_and_create() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tasks/t1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(task("t1", "processing")))
        .mount(&server)
        .await;
    let input = json!({"import_from": "https://example.org/x.img", "import_from_format": "raw",
                       "image_properties": {"name": "x"}});
    Mock::given(method("POST"))
        .and(path("/v2/tasks"))
        .and(body_json(json!({"type": "import", "input": input.clone()})))
        .respond_with(ResponseTemplate::new(201).set_body_json(task("t2", "pending")))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    assert_eq!(
        c.tasks().get("t1").await.expect("shown").status,
        TaskStatus::Processing
    );
    let created = c
        .tasks()
        .create(&glance_client::CreateTask::import(
            "https://example.org/x.img",
            glance_client::DiskFormat::Raw,
            &glance_client::CreateImage::new("x"),
        ))
        .await
        .expect("created");
    assert_eq!(created.id, "t2");
    assert_eq!(created.task_type, "import");
}

#[tokio::test]
async fn non_admins_are_refused_and_bad_queries_unsent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(glance_error(
            403,
            "You are not authorized to complete tasks_api_access action.",
        ))
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c.tasks().get("t1").await.expect_err("403");
    assert!(err.is_forbidden());
    let err = c
        .tasks()
        .list(ListTasks::new().sort("name", SortDir::Asc))
        .try_collect::<Vec<_>>()
        .await
        .expect_err("bad sort key");
    assert!(err.is_invalid_input());
    assert_eq!(requests(&server).await.len(), 1);
}
