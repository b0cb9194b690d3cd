//! Every v2 command of the `glance` binary against the in-process
//! glance-mock-server: output, exit status and the effect on the server.
//! (`cli.rs` holds the first create → upload → download → delete walk.)

use std::path::Path;
use std::process::Output;

use glance_e2e_tests::bin::glance_bin;
use glance_mock_server::MockServer;
use serde_json::Value;

/// The 66 v2 commands of python-glanceclient (reference §9.2), less the
/// cache commands it has beyond the issue's list, plus `completion`.
const COMMANDS: &[&str] = &[
    "image-create",
    "image-create-via-import",
    "image-update",
    "image-list",
    "image-show",
    "image-upload",
    "image-stage",
    "image-import",
    "image-download",
    "image-delete",
    "image-deactivate",
    "image-reactivate",
    "image-tag-update",
    "image-tag-delete",
    "image-tasks",
    "location-add",
    "location-delete",
    "location-update",
    "add-location",
    "member-list",
    "member-get",
    "member-create",
    "member-update",
    "member-delete",
    "stores-info",
    "stores-delete",
    "import-info",
    "usage",
    "explain",
    "task-list",
    "task-show",
    "task-create",
    "cache-list",
    "cache-queue",
    "cache-delete",
    "cache-clear",
    "md-namespace-create",
    "md-namespace-import",
    "md-namespace-update",
    "md-namespace-show",
    "md-namespace-list",
    "md-namespace-delete",
    "md-resource-type-associate",
    "md-resource-type-deassociate",
    "md-resource-type-list",
    "md-namespace-resource-type-list",
    "md-property-create",
    "md-property-update",
    "md-property-show",
    "md-property-delete",
    "md-namespace-properties-delete",
    "md-property-list",
    "md-object-create",
    "md-object-update",
    "md-object-show",
    "md-object-property-show",
    "md-object-delete",
    "md-namespace-objects-delete",
    "md-object-list",
    "md-tag-create",
    "md-tag-create-multiple",
    "md-tag-update",
    "md-tag-show",
    "md-tag-delete",
    "md-namespace-tags-delete",
    "md-tag-list",
    "help",
    "completion",
];

/// Run `glance` against `url` (token auth, no stdin).
async fn glance_at(url: &str, args: &[&str]) -> Output {
    tokio::process::Command::new(glance_bin())
        .args(args)
        .env("OS_IMAGE_URL", url)
        .env("OS_AUTH_TOKEN", "cli-secret-token")
        .env_remove("OS_CLOUD")
        .env_remove("OS_IMAGE_STORE")
        .env_remove("OS_IMAGE_STORES")
        .env_remove("OS_IMAGE_IMPORT_METHOD")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("glance runs")
}

async fn glance(server: &MockServer, args: &[&str]) -> Output {
    glance_at(&server.url(), args).await
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// stdout of a command that must succeed.
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "glance failed ({:?}): {}",
        out.status.code(),
        stderr(out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The one-line error of a command that must fail with status 1.
fn fails(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected failure, stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = stderr(out);
    assert!(
        !err.to_lowercase().contains("not implemented"),
        "unimplemented: {err}"
    );
    err
}

/// The value of `property` in a Property/Value table (first line only).
fn value_of(table: &str, property: &str) -> String {
    table
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells.len() == 4 && cells[1] == property).then(|| cells[2].to_owned())
        })
        .next()
        .unwrap_or_else(|| panic!("no {property} row in {table}"))
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).expect("JSON output")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Create a raw/bare image, returning its id.
async fn new_image(server: &MockServer, name: &str) -> String {
    let v = json(
        &glance(
            server,
            &[
                "-f",
                "json",
                "image-create",
                "--name",
                name,
                "--disk-format",
                "raw",
                "--container-format",
                "bare",
            ],
        )
        .await,
    );
    v["id"].as_str().expect("id").to_owned()
}

/// Wait (bounded by attempts, not by time) until the image has `status`.
async fn until_status(server: &MockServer, id: &str, status: &str) -> Value {
    for _ in 0..200 {
        server.finish_tasks().await;
        let v = json(&glance(server, &["-f", "json", "image-show", id]).await);
        if v["status"] == status {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("image {id} never reached {status}");
}

#[tokio::test]
async fn help_lists_every_command_and_documents_exit_codes() {
    let out = tokio::process::Command::new(glance_bin())
        .arg("--help")
        .output()
        .await
        .expect("runs");
    let text = ok(&out);
    for cmd in COMMANDS {
        assert!(text.contains(cmd), "{cmd} missing from --help");
    }
    assert!(text.contains("Exit status:"), "{text}");
    assert!(text.contains("130"), "{text}");
    // Every command parses its own --help (no server needed).
    for cmd in COMMANDS.iter().filter(|c| **c != "help") {
        let out = tokio::process::Command::new(glance_bin())
            .args([cmd, "--help"])
            .output()
            .await
            .expect("runs");
        ok(&out);
    }
    let out = tokio::process::Command::new(glance_bin())
        .args(["help", "image-list"])
        .output()
        .await
        .expect("runs");
    assert!(ok(&out).contains("--sort-key"));
}

#[tokio::test]
async fn completion_scripts_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F _glance"),
        ("zsh", "#compdef glance"),
        ("fish", "complete -c glance"),
    ] {
        let out = tokio::process::Command::new(glance_bin())
            .args(["completion", shell])
            .output()
            .await
            .expect("runs");
        let script = ok(&out);
        assert!(script.contains(marker), "{shell}: {}", &script[..200]);
        assert!(script.contains("md-tag-create-multiple"), "{shell}");
    }
}

#[tokio::test]
async fn image_records_create_update_list_show_tags_deactivate_delete() {
    let server = MockServer::start().await.expect("mock starts");
    let created = json(
        &glance(
            &server,
            &[
                "-f",
                "json",
                "image-create",
                "--name",
                "alpha",
                "--disk-format",
                "qcow2",
                "--container-format",
                "bare",
                "--min-ram",
                "512",
                "--os-distro",
                "cirros",
                "--tags",
                "a",
                "b",
                "--property",
                "hw_disk_bus=scsi",
                "--protected",
                "false",
            ],
        )
        .await,
    );
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(created["min_ram"], 512);
    assert_eq!(created["os_distro"], "cirros");
    assert_eq!(created["hw_disk_bus"], "scsi");
    assert_eq!(created["tags"], serde_json::json!(["a", "b"]));
    let beta = new_image(&server, "beta").await;

    // image-update: fields, a property set, another removed.
    let table = ok(&glance(
        &server,
        &[
            "image-update",
            &id,
            "--name",
            "alpha2",
            "--property",
            "os_type=linux",
            "--remove-property",
            "hw_disk_bus",
        ],
    )
    .await);
    assert_eq!(value_of(&table, "name"), "alpha2", "{table}");
    let shown = json(&glance(&server, &["-f", "json", "image-show", &id]).await);
    assert_eq!(shown["os_type"], "linux");
    assert!(shown.get("hw_disk_bus").is_none(), "{shown}");

    // image-list: default sort by name, filters, --sort, limits, columns.
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|i| i["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let all = json(&glance(&server, &["-f", "json", "image-list"]).await);
    assert_eq!(names(&all), ["alpha2", "beta"]);
    let desc = json(
        &glance(
            &server,
            &["-f", "json", "image-list", "--sort", "name:desc"],
        )
        .await,
    );
    assert_eq!(names(&desc), ["beta", "alpha2"]);
    let desc = json(
        &glance(
            &server,
            &[
                "-f",
                "json",
                "image-list",
                "--sort-key",
                "name",
                "--sort-dir",
                "desc",
            ],
        )
        .await,
    );
    assert_eq!(names(&desc), ["beta", "alpha2"]);
    let one = json(
        &glance(
            &server,
            &[
                "-f",
                "json",
                "image-list",
                "--limit",
                "1",
                "--page-size",
                "1",
            ],
        )
        .await,
    );
    assert_eq!(names(&one), ["alpha2"]);
    let tagged = json(&glance(&server, &["-f", "json", "image-list", "--tag", "a"]).await);
    assert_eq!(names(&tagged), ["alpha2"]);
    let filtered = json(
        &glance(
            &server,
            &[
                "-f",
                "json",
                "image-list",
                "--property-filter",
                "os_distro=cirros",
            ],
        )
        .await,
    );
    assert_eq!(names(&filtered), ["alpha2"]);
    let bad = fails(&glance(&server, &["image-list", "--sort", "bogus:asc"]).await);
    assert!(bad.starts_with("Invalid sort key: bogus."), "{bad}");
    let table = ok(&glance(&server, &["image-list", "--verbose", "--include-stores"]).await);
    let header = table.lines().nth(1).expect("header");
    for col in [
        "ID",
        "Name",
        "Disk_format",
        "Container_format",
        "Size",
        "Status",
        "Owner",
        "Stores",
    ] {
        assert!(header.contains(col), "{header}");
    }

    // image-show --human-readable.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("img");
    std::fs::write(&file, vec![7u8; 1_048_576]).expect("written");
    ok(&glance(&server, &["image-upload", &beta, "--file", path(&file)]).await);
    let table = ok(&glance(&server, &["image-show", &beta, "--human-readable"]).await);
    assert_eq!(value_of(&table, "size"), "1MB", "{table}");

    // Tags.
    let table = ok(&glance(&server, &["image-tag-update", &id, "c"]).await);
    assert!(table.contains("['a', 'b', 'c']"), "{table}");
    ok(&glance(&server, &["image-tag-delete", &id, "a"]).await);
    let shown = json(&glance(&server, &["-f", "json", "image-show", &id]).await);
    assert_eq!(shown["tags"], serde_json::json!(["b", "c"]));

    // Deactivate / reactivate (an active image).
    ok(&glance(&server, &["image-deactivate", &beta]).await);
    let shown = json(&glance(&server, &["-f", "json", "image-show", &beta]).await);
    assert_eq!(shown["status"], "deactivated");
    ok(&glance(&server, &["image-reactivate", &beta]).await);
    let shown = json(&glance(&server, &["-f", "json", "image-show", &beta]).await);
    assert_eq!(shown["status"], "active");

    // Delete several: per-id messages, exit 1 when one failed.
    let out = glance(&server, &["image-delete", &id, "missing-id", &beta]).await;
    let err = fails(&out);
    assert_eq!(err.trim(), "No image with an ID of 'missing-id' exists.");
    let left = json(&glance(&server, &["-f", "json", "image-list"]).await);
    assert_eq!(left, serde_json::json!([]));
}

#[tokio::test]
async fn image_data_stage_import_tasks_and_stores() {
    let server = MockServer::start().await.expect("mock starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("data");
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&src, &payload).expect("written");

    // image-create-via-import with a file: glance-direct by default.
    let created = json(
        &glance(
            &server,
            &[
                "-f",
                "json",
                "image-create-via-import",
                "--name",
                "via-import",
                "--disk-format",
                "raw",
                "--container-format",
                "bare",
                "--file",
                path(&src),
            ],
        )
        .await,
    );
    let id = created["id"].as_str().expect("id").to_owned();
    let active = until_status(&server, &id, "active").await;
    assert_eq!(active["size"], payload.len() as u64);

    // image-tasks: the import task is listed.
    let table = ok(&glance(&server, &["image-tasks", &id]).await);
    assert!(table.contains("| Message"), "{table}");
    assert!(table.contains("success"), "{table}");
    let verbose = ok(&glance(&server, &["--verbose", "image-tasks", &id]).await);
    assert!(verbose.contains("Task Id"), "{verbose}");

    // image-stage + image-import into both stores.
    let staged = new_image(&server, "staged").await;
    let early = fails(&glance(&server, &["image-import", &staged]).await);
    assert!(
        early.contains("can only be applied to an image in status 'uploading'"),
        "{early}"
    );
    ok(&glance(&server, &["image-stage", &staged, "--file", path(&src)]).await);
    let shown = json(&glance(&server, &["-f", "json", "image-show", &staged]).await);
    assert_eq!(shown["status"], "uploading");
    ok(&glance(
        &server,
        &["image-import", &staged, "--stores", "fast,cheap"],
    )
    .await);
    let active = until_status(&server, &staged, "active").await;
    let mut stores: Vec<&str> = active["stores"]
        .as_str()
        .expect("stores")
        .split(',')
        .collect();
    stores.sort_unstable();
    assert_eq!(stores, ["cheap", "fast"]);
    let bad = fails(
        &glance(
            &server,
            &[
                "image-import",
                &staged,
                "--import-method",
                "copy-image",
                "--stores",
                "nowhere",
            ],
        )
        .await,
    );
    assert!(
        bad.contains("Store 'nowhere' is not valid for this cloud."),
        "{bad}"
    );

    // image-download --file writes the verified bytes.
    let dst = dir.path().join("out");
    ok(&glance(&server, &["image-download", &staged, "--file", path(&dst)]).await);
    assert_eq!(std::fs::read(&dst).expect("downloaded"), payload);

    // stores-info (--detail), stores-delete, import-info.
    let info = ok(&glance(&server, &["stores-info"]).await);
    assert!(
        info.contains("| stores   |") && info.contains("\"fast\""),
        "{info}"
    );
    let detail = json(&glance(&server, &["-f", "json", "stores-info", "--detail"]).await);
    assert_eq!(detail["stores"][0]["id"], "fast");
    ok(&glance(&server, &["stores-delete", &staged, "--store", "cheap"]).await);
    let shown = json(&glance(&server, &["-f", "json", "image-show", &staged]).await);
    assert_eq!(shown["stores"], "fast");
    let last = fails(&glance(&server, &["stores-delete", &staged, "--store", "fast"]).await);
    assert!(last.starts_with("Unable to delete image"), "{last}");
    assert!(last.contains("HTTP 403 Forbidden"), "{last}");
    let methods = json(&glance(&server, &["-f", "json", "import-info"]).await);
    assert_eq!(
        methods["import-methods"]["value"],
        serde_json::json!(["glance-direct", "web-download", "copy-image"])
    );
}

#[tokio::test]
async fn piped_data_is_the_image_data_as_in_glanceclient() {
    use tokio::io::AsyncWriteExt;
    let server = MockServer::start().await.expect("mock starts");
    let run = |args: &'static [&'static str], data: &'static [u8]| {
        let url = server.url();
        async move {
            let mut child = tokio::process::Command::new(glance_bin())
                .args(args)
                .env("OS_IMAGE_URL", url)
                .env("OS_AUTH_TOKEN", "t")
                .env_remove("OS_CLOUD")
                .env_remove("OS_IMAGE_STORE")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("glance starts");
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(data).await.expect("data written");
            drop(stdin);
            child.wait_with_output().await.expect("glance ends")
        }
    };
    let err = fails(&run(&["image-create", "--name", "p"], b"bytes").await);
    assert_eq!(
        err.trim(),
        "error: Must provide --disk-format, --container-format when using stdin."
    );
    let created = json(
        &run(
            &[
                "-f",
                "json",
                "image-create",
                "--disk-format",
                "raw",
                "--container-format",
                "bare",
            ],
            b"piped image",
        )
        .await,
    );
    assert_eq!(created["status"], "active");
    assert_eq!(created["size"], 11);
    // Without data (stdin from /dev/null) only the record is created.
    let record = json(&glance(&server, &["-f", "json", "image-create", "--name", "r"]).await);
    assert_eq!(record["status"], "queued");
}

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
async fn metadefs_namespaces_properties_objects_tags() {
    let server = MockServer::start().await.expect("mock starts");
    let ns = "OS::Cli::Test";
    let table = ok(&glance(
        &server,
        &[
            "md-namespace-create",
            ns,
            "--display-name",
            "CLI",
            "--visibility",
            "public",
        ],
    )
    .await);
    assert_eq!(value_of(&table, "display_name"), "CLI", "{table}");
    ok(&glance(
        &server,
        &[
            "md-namespace-update",
            ns,
            "--description",
            "made by the CLI",
        ],
    )
    .await);
    let list = ok(&glance(&server, &["md-namespace-list", "--visibility", "public"]).await);
    assert!(list.contains(ns), "{list}");

    // Resource types.
    ok(&glance(
        &server,
        &[
            "md-resource-type-associate",
            ns,
            "--name",
            "OS::Glance::Image",
            "--prefix",
            "cli_",
        ],
    )
    .await);
    let assoc = ok(&glance(&server, &["md-namespace-resource-type-list", ns]).await);
    assert!(assoc.contains("| OS::Glance::Image | cli_"), "{assoc}");
    let types = ok(&glance(&server, &["md-resource-type-list"]).await);
    assert!(types.contains("OS::Glance::Image"), "{types}");

    // Properties.
    let err = fails(
        &glance(
            &server,
            &[
                "md-property-create",
                ns,
                "--name",
                "p",
                "--title",
                "P",
                "--type",
                "string",
                "--schema",
                "nope",
            ],
        )
        .await,
    );
    assert_eq!(err.trim(), "Schema is not a valid JSON object.");
    ok(&glance(
        &server,
        &[
            "md-property-create",
            ns,
            "--name",
            "speed",
            "--title",
            "Speed",
            "--type",
            "integer",
            "--schema",
            r#"{"minimum": 1}"#,
        ],
    )
    .await);
    let prop = json(
        &glance(
            &server,
            &[
                "-f",
                "json",
                "md-property-update",
                ns,
                "speed",
                "--title",
                "Velocity",
            ],
        )
        .await,
    );
    assert_eq!(prop["title"], "Velocity");
    assert_eq!(prop["minimum"], 1);
    let shown = ok(&glance(&server, &["md-property-show", ns, "speed"]).await);
    assert_eq!(value_of(&shown, "title"), "Velocity", "{shown}");
    let props = ok(&glance(&server, &["md-property-list", ns]).await);
    assert!(props.contains("| speed | Velocity | integer |"), "{props}");
    // The namespace as seen by a resource type: prefixed property names.
    let seen = ok(&glance(
        &server,
        &[
            "md-namespace-show",
            ns,
            "--resource-type",
            "OS::Glance::Image",
        ],
    )
    .await);
    assert!(seen.contains("cli_speed"), "{seen}");

    // Objects.
    ok(&glance(&server, &[
        "md-object-create",
        ns,
        "--name",
        "flavor",
        "--schema",
        r#"{"description": "d", "properties": {"cores": {"type": "integer", "title": "Cores"}}}"#,
    ])
    .await);
    ok(&glance(
        &server,
        &["md-object-update", ns, "flavor", "--name", "flavour"],
    )
    .await);
    let obj = ok(&glance(&server, &["md-object-show", ns, "flavour"]).await);
    assert_eq!(value_of(&obj, "properties"), r#"["cores"]"#, "{obj}");
    let p = ok(&glance(
        &server,
        &["md-object-property-show", ns, "flavour", "cores"],
    )
    .await);
    assert_eq!(value_of(&p, "title"), "Cores", "{p}");
    let err = fails(&glance(&server, &["md-object-property-show", ns, "flavour", "nope"]).await);
    assert_eq!(err.trim(), "Property nope not found in object flavour.");
    let objs = ok(&glance(&server, &["md-object-list", ns]).await);
    assert!(objs.contains("| flavour | d "), "{objs}");

    // Tags.
    ok(&glance(&server, &["md-tag-create", ns, "--name", "one"]).await);
    let tags = ok(&glance(
        &server,
        &[
            "md-tag-create-multiple",
            ns,
            "--names",
            "two|three",
            "--delim",
            "|",
            "--append",
        ],
    )
    .await);
    assert!(
        tags.contains("| two ") && tags.contains("| three "),
        "{tags}"
    );
    ok(&glance(&server, &["md-tag-update", ns, "two", "--name", "deux"]).await);
    let tag = ok(&glance(&server, &["md-tag-show", ns, "deux"]).await);
    assert_eq!(value_of(&tag, "name"), "deux", "{tag}");
    ok(&glance(&server, &["md-tag-delete", ns, "one"]).await);
    let tags = json(&glance(&server, &["-f", "json", "md-tag-list", ns]).await);
    let mut names: Vec<&str> = tags
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["deux", "three"]);

    // The namespace shows its contents by name.
    let shown = ok(&glance(&server, &["md-namespace-show", ns]).await);
    for part in [
        r#"["flavour"]"#,
        r#"["speed"]"#,
        r#"["OS::Glance::Image"]"#,
        "made by the CLI",
    ] {
        assert!(shown.contains(part), "{part} in {shown}");
    }

    // Bulk deletes, deassociation, namespace deletion.
    ok(&glance(&server, &["md-namespace-tags-delete", ns]).await);
    ok(&glance(&server, &["md-namespace-objects-delete", ns]).await);
    ok(&glance(&server, &["md-namespace-properties-delete", ns]).await);
    ok(&glance(
        &server,
        &[
            "md-property-create",
            ns,
            "--name",
            "x",
            "--title",
            "X",
            "--type",
            "string",
            "--schema",
            "{}",
        ],
    )
    .await);
    ok(&glance(&server, &["md-property-delete", ns, "x"]).await);
    ok(&glance(
        &server,
        &["md-object-create", ns, "--name", "o", "--schema", "{}"],
    )
    .await);
    ok(&glance(&server, &["md-object-delete", ns, "o"]).await);
    ok(&glance(
        &server,
        &["md-resource-type-deassociate", ns, "OS::Glance::Image"],
    )
    .await);
    let ns_json = json(&glance(&server, &["-f", "json", "md-namespace-show", ns]).await);
    let empty =
        |v: &Value| v.is_null() || v == &serde_json::json!({}) || v == &serde_json::json!([]);
    for key in [
        "properties",
        "objects",
        "tags",
        "resource_type_associations",
    ] {
        assert!(empty(&ns_json[key]), "{key} left in {ns_json}");
    }
    ok(&glance(&server, &["md-namespace-delete", ns]).await);
    let err = fails(&glance(&server, &["md-namespace-show", ns]).await);
    assert!(err.starts_with("HTTP 404 Not Found"), "{err}");

    // Import from a file.
    let dir = tempfile::tempdir().expect("temp dir");
    let doc = dir.path().join("ns.json");
    std::fs::write(&doc, r#"{"namespace": "OS::Cli::Imported", "display_name": "Imported", "tags": [{"name": "t"}]}"#).expect("written");
    let table = ok(&glance(&server, &["md-namespace-import", "--file", path(&doc)]).await);
    assert_eq!(value_of(&table, "tags"), r#"["t"]"#, "{table}");
    std::fs::write(&doc, "not json").expect("written");
    let err = fails(&glance(&server, &["md-namespace-import", "--file", path(&doc)]).await);
    assert_eq!(err.trim(), "Schema is not a valid JSON object.");
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
async fn errors_are_one_line_and_debug_hides_the_token() {
    let server = MockServer::start().await.expect("mock starts");
    let out = glance(&server, &["image-show", "nope"]).await;
    let err = fails(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("HTTP 404 Not Found: "), "{err}");
    assert!(err.contains("(Request-ID: req-"), "{err}");

    let out = glance(&server, &["--debug", "image-list"]).await;
    ok(&out);
    let log = stderr(&out);
    assert!(log.contains("GET"), "{log}");
    assert!(log.contains("/v2/images"), "{log}");
    assert!(!log.contains("cli-secret-token"), "{log}");
    assert!(!log.contains('\u{1b}'), "no colours in a pipe: {log}");
}

/// Serve one image whose bytes do not match its sha512: every request
/// for `/v2/images/<id>` gets the record, `…/file` the wrong bytes.
async fn corrupt_image_server(id: &'static str) -> String {
    use sha2::{Digest, Sha512};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let good = b"the bytes the server promised".to_vec();
    let bad = b"the bytes the server actually sent".to_vec();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("addr");
    let record = serde_json::json!({
        "id": id, "name": "corrupt", "status": "active", "visibility": "public",
        "protected": false, "os_hidden": false, "size": bad.len(),
        "checksum": "0".repeat(32), "os_hash_algo": "sha512",
        "os_hash_value": hex::encode(Sha512::digest(&good)),
        "disk_format": "raw", "container_format": "bare", "min_ram": 0, "min_disk": 0,
        "tags": [], "owner": "p", "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z", "self": format!("/v2/images/{id}"),
        "file": format!("/v2/images/{id}/file"), "schema": "/v2/schemas/image"
    })
    .to_string();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let record = record.clone();
            let bad = bad.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (status, ctype, body) = if target.ends_with("/file") {
                    ("200 OK", "application/octet-stream", bad)
                } else if target.starts_with(&format!("/v2/images/{id}")) {
                    ("200 OK", "application/json", record.into_bytes())
                } else {
                    ("404 Not Found", "text/plain", b"no".to_vec())
                };
                let header = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(header.as_bytes()).await;
                let _ = sock.write_all(&body).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_corrupted_download_exits_non_zero_and_leaves_no_file() {
    let id = "0b8e5c39-7f3c-4f43-a6a7-5c2f3f4f0c11";
    let url = corrupt_image_server(id).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let dst = dir.path().join("image.raw");
    let out = glance_at(&url, &["image-download", id, "--file", path(&dst)]).await;
    let err = fails(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("sha512"), "{err}");
    assert!(
        err.contains("expected"),
        "the expected and actual digests: {err}"
    );
    assert!(!dst.exists(), "no file left behind");
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("listed").collect();
    assert!(left.is_empty(), "no temporary file left behind: {left:?}");
}

/// Ids and timestamps replaced by placeholders of the same width, so that
/// table borders stay as the CLI drew them.
fn normalise(text: &str) -> String {
    let uuid = regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
        .expect("regex");
    let date = regex::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?").expect("regex");
    let req = regex::Regex::new(r"req-[0-9a-f-]{36}").expect("regex");
    let text = uuid.replace_all(text, |c: &regex::Captures| "U".repeat(c[0].len()));
    let text = req.replace_all(&text, |c: &regex::Captures| "R".repeat(c[0].len()));
    date.replace_all(&text, |c: &regex::Captures| "D".repeat(c[0].len()))
        .into_owned()
}

/// Compare with `tests/golden/<name>`; `UPDATE_GOLDEN=1` rewrites it.
fn golden(name: &str, actual: &str) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(name);
    let actual = normalise(actual);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(file.parent().expect("dir")).expect("golden dir");
        std::fs::write(&file, &actual).expect("golden written");
        return;
    }
    let expected = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", file.display()));
    assert_eq!(actual, expected, "{name} differs from its golden file");
}

#[tokio::test]
async fn table_and_json_output_match_the_goldens() {
    let server = MockServer::start().await.expect("mock starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("data");
    std::fs::write(&src, b"golden image data\n").expect("written");
    let id = "7d3b2c1a-0000-4000-8000-00000000beef";
    ok(&glance(
        &server,
        &[
            "image-create",
            "--id",
            id,
            "--name",
            "golden",
            "--disk-format",
            "raw",
            "--container-format",
            "bare",
            "--visibility",
            "shared",
            "--tags",
            "gold",
            "--property",
            "os_distro=cirros",
            "--file",
            path(&src),
        ],
    )
    .await);
    new_image(&server, "second").await;
    golden(
        "image-show.txt",
        &ok(&glance(&server, &["image-show", id]).await),
    );
    golden(
        "image-show.json",
        &ok(&glance(&server, &["-f", "json", "image-show", id]).await),
    );
    golden(
        "image-list-verbose.txt",
        &ok(&glance(&server, &["image-list", "--verbose"]).await),
    );
    golden(
        "image-list.json",
        &ok(&glance(&server, &["--format", "json", "image-list"]).await),
    );
    ok(&glance(&server, &["member-create", id, "project-b"]).await);
    golden(
        "member-list.txt",
        &ok(&glance(&server, &["member-list", "--image-id", id]).await),
    );
    ok(&glance(&server, &["md-namespace-create", "OS::Golden", "--display-name", "Golden", "--description", "A namespace whose description is long enough to be wrapped at the table's eighty columns, like PrettyTable does."]).await);
    ok(&glance(
        &server,
        &["md-tag-create-multiple", "OS::Golden", "--names", "a"],
    )
    .await);
    golden(
        "md-namespace-show.txt",
        &ok(&glance(&server, &["md-namespace-show", "OS::Golden"]).await),
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

/// A store with no room left: Glance's 413, said once on one line, the
/// upload sent once (not retried as a server error would be).
#[tokio::test]
async fn a_full_store_fails_the_upload_once_with_glances_message() {
    let mut config = glance_mock_server::Config::default();
    config.stores[0].capacity = Some(1024);
    let server = MockServer::builder()
        .config(config)
        .start()
        .await
        .expect("mock starts");
    let id = new_image(&server, "too big").await;
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), vec![1u8; 4096]).expect("written");
    server.clear_requests();
    let err = fails(&glance(&server, &["image-upload", "--file", path(file.path()), &id]).await);
    assert!(
        err.contains("Image storage media is full"),
        "unexpected error: {err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    let puts = server
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with("/file"))
        .count();
    assert_eq!(puts, 1, "the upload was sent {puts} times");
    let shown = json(&glance(&server, &["-f", "json", "image-show", &id]).await);
    assert_eq!(shown["status"], "queued");
}
