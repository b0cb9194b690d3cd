//! What hangs off images and the service: members, locations, tasks,
//! usage, `explain` and the cache commands.

use glance_mock_server::MockServer;

use crate::harness::{fails, glance, glance_bin, json, new_image, ok, path, stderr, value_of};

#[tokio::test]
async fn members_create_list_get_update_delete() {
    let server = MockServer::start().await.expect("mock starts");
    let id = new_image(&server, "shared").await;
    let table = ok(&glance(&server, &["member-create", &id, "project-b"]).await);
    assert!(table.contains("| Image ID "), "{table}");
    assert!(table.contains("| project-b | pending |"), "{table}");
    let list = json(&glance(&server, &["-f", "json", "member-list", "--image-id", &id]).await);
    assert_eq!(list[0]["member_id"], "project-b");
    let got = ok(&glance(&server, &["member-get", &id, "project-b"]).await);
    assert_eq!(value_of(&got, "member_id"), "project-b", "{got}");
    let table = ok(&glance(&server, &["member-update", &id, "project-b", "accepted"]).await);
    assert!(table.contains("accepted"), "{table}");
    let out = glance(&server, &["member-update", &id, "project-b", "maybe"]).await;
    assert_eq!(out.status.code(), Some(2), "clap refuses the status");
    ok(&glance(&server, &["member-delete", &id, "project-b"]).await);
    let list = json(&glance(&server, &["-f", "json", "member-list", "--image-id", &id]).await);
    assert_eq!(list, serde_json::json!([]));
}

#[tokio::test]
async fn locations_through_both_apis() {
    let server = MockServer::start().await.expect("mock starts");
    let id = new_image(&server, "located").await;
    // The v2.17 API: a queued image gets its location and data.
    let url = format!("{}/anything", server.url());
    let sha = "a".repeat(128);
    let bad = fails(
        &glance(
            &server,
            &[
                "add-location",
                &id,
                "--url",
                &url,
                "--validation-data",
                r#"{"checksum": "x"}"#,
            ],
        )
        .await,
    );
    assert!(
        bad.contains("should contain only os_hash_algo and os_hash_value"),
        "{bad}"
    );
    let bad = fails(
        &glance(
            &server,
            &[
                "add-location",
                &id,
                "--url",
                &url,
                "--validation-data",
                r#"{"os_hash_algo": "crc32", "os_hash_value": "00"}"#,
            ],
        )
        .await,
    );
    assert!(bad.contains("allowed hashing algorithms"), "{bad}");
    let _ = sha;
    let out = glance(&server, &["add-location", &id, "--url", &url]).await;
    let err = stderr(&out);
    assert!(
        out.status.success() || err.starts_with("HTTP "),
        "a server answer, not a client failure: {err}"
    );

    // The PATCH-based API needs show_multiple_locations, off in Glance 33
    // as in the mock: the server's refusal, as one line.
    let err = fails(&glance(&server, &["location-add", &id, "--url", &url]).await);
    assert!(err.starts_with("HTTP 403 Forbidden: "), "{err}");
    assert!(err.contains("Request-ID: req-"), "{err}");
    let err = fails(
        &glance(
            &server,
            &["location-update", &id, "--url", &url, "--metadata", "[1]"],
        )
        .await,
    );
    assert_eq!(err.trim(), "Metadata is not a valid JSON object.");
    let err = fails(&glance(&server, &["location-delete", &id, "--url", &url]).await);
    assert!(err.contains("does not show image locations"), "{err}");
}

#[tokio::test]
async fn tasks_list_show_create() {
    let server = MockServer::start().await.expect("mock starts");
    let err = fails(&glance(&server, &["task-create", "--input", "{}"]).await);
    assert_eq!(
        err.trim(),
        "Unable to create task. Specify task type and input."
    );
    let err = fails(
        &glance(
            &server,
            &["task-create", "--type", "import", "--input", "nope"],
        )
        .await,
    );
    assert!(err.contains("Must be a valid JSON object"), "{err}");
    // A URL of the mock's own served files (other loopback URLs are
    // refused, as by Glance); no such file is served, so the task fails later.
    let input = format!(
        r#"{{"import_from": "{}", "import_from_format": "raw",
            "image_properties": {{"disk_format": "raw", "container_format": "bare"}}}}"#,
        server.file_url("nothing-here")
    );
    let task = json(
        &glance(
            &server,
            &[
                "-f",
                "json",
                "task-create",
                "--type",
                "import",
                "--input",
                &input,
            ],
        )
        .await,
    );
    let task_id = task["id"].as_str().expect("task id").to_owned();
    assert_eq!(task["type"], "import");
    let shown = ok(&glance(&server, &["task-show", &task_id]).await);
    assert!(
        shown.contains(&format!("| id         | {task_id}")),
        "{shown}"
    );
    assert!(!shown.contains("| schema"), "{shown}");
    let table = ok(&glance(&server, &["task-list", "--type", "import"]).await);
    assert!(
        table.contains("| ID ") && table.contains("| Owner"),
        "{table}"
    );
    assert!(table.contains(&task_id), "{table}");
    let err = fails(&glance(&server, &["task-list", "--status", "bogus"]).await);
    assert!(err.contains("unknown task status"), "{err}");
}

#[tokio::test]
async fn usage_explain_and_cache_answers() {
    let server = MockServer::start().await.expect("mock starts");
    let table = ok(&glance(&server, &["usage"]).await);
    assert!(table.contains("| Quota"), "{table}");
    let table = ok(&glance(&server, &["explain", "image"]).await);
    assert!(table.contains("| Attribute "), "{table}");
    assert!(table.contains("| disk_format "), "{table}");
    let err = fails(&glance(&server, &["explain", "nonsense"]).await);
    assert_eq!(err.trim(), "Unable to find requested model 'nonsense'");

    // The mock, like a Glance without image_cache_dir, has no cache API:
    // every cache command says so (and fails).
    let id = new_image(&server, "c").await;
    for args in [
        vec!["cache-list"],
        vec!["cache-queue", id.as_str()],
        vec!["cache-delete", id.as_str()],
        vec!["cache-clear", "--target", "queue"],
    ] {
        let err = fails(&glance(&server, &args).await);
        assert!(err.contains("does not offer API v2.14"), "{args:?}: {err}");
    }
    // Through a catalog endpoint (no --os-image-url) the cache is refused
    // before anything is sent.
    let out = tokio::process::Command::new(glance_bin())
        .args([
            "cache-list",
            "--os-auth-url",
            &server.identity_url(),
            "--os-username",
            "u",
            "--os-password",
            "p",
            "--os-project-name",
            "x",
        ])
        .env_remove("OS_IMAGE_URL")
        .env_remove("OS_AUTH_TOKEN")
        .env_remove("OS_CLOUD")
        .output()
        .await
        .expect("runs");
    let err = fails(&out);
    assert!(
        err.contains("Direct server endpoint needs to be provided"),
        "{err}"
    );
}

#[tokio::test]
async fn cache_commands_against_a_mock_with_an_image_cache() {
    let mut config = glance_mock_server::Config::default();
    config.cache.enabled = true;
    let server = MockServer::builder()
        .config(config)
        .start()
        .await
        .expect("mock starts");
    let id = new_image(&server, "cached").await;
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), b"cache me").expect("written");
    ok(&glance(&server, &["image-upload", "--file", path(file.path()), &id]).await);

    ok(&glance(&server, &["cache-queue", &id]).await);
    let listed = ok(&glance(&server, &["cache-list"]).await);
    assert!(listed.contains(&id), "queued image not listed: {listed}");

    ok(&glance(&server, &["cache-delete", &id]).await);
    ok(&glance(&server, &["cache-clear"]).await);
    let listed = ok(&glance(&server, &["cache-list"]).await);
    assert!(
        !listed.contains(&id),
        "deleted image still listed: {listed}"
    );

    // An image that is not active cannot be queued.
    let queued = new_image(&server, "queued").await;
    fails(&glance(&server, &["cache-queue", &queued]).await);
}
