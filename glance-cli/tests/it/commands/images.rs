//! Image records and image data through the CLI: create, update, list,
//! show, tags, (de)activation, upload, stage, import, download, delete.

use glance_mock_server::MockServer;
use serde_json::Value;

use crate::harness::{
    fails, glance, glance_at, glance_bin, json, new_image, ok, path, until_status, value_of,
};

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
