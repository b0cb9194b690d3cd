//! Running the `glance` binary cargo built for this test run
//! (`CARGO_BIN_EXE_glance`) against a server, and reading what it printed.
//! Fixtures shared with the end-to-end tests come from glance-e2e-tests.

use std::path::Path;
use std::process::{Output, Stdio};

use glance_mock_server::MockServer;
use serde_json::Value;

pub use glance_e2e_tests::output::{ok, stderr, table_value};

/// The token the CLI tests send (never to be printed, even with `--debug`).
pub const TOKEN: &str = "cli-secret-token";

/// The binary under test.
pub fn glance_bin() -> &'static str {
    env!("CARGO_BIN_EXE_glance")
}

/// `glance args` with only the `OS_*` variables in `vars`, no stdin, its
/// output piped, killed if the test drops it.
pub fn glance_with_cmd(vars: &[(&str, String)], args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(glance_bin());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("OS_")) {
        cmd.env_remove(k);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

/// [`glance_with_cmd`], run to its end.
pub async fn glance_with(vars: &[(&str, String)], args: &[&str]) -> Output {
    glance_with_cmd(vars, args)
        .output()
        .await
        .expect("glance runs")
}

/// `glance args` against the image API at `url` with [`TOKEN`].
pub fn glance_cmd_at(url: &str, args: &[&str]) -> tokio::process::Command {
    glance_with_cmd(
        &[
            ("OS_IMAGE_URL", url.to_owned()),
            ("OS_AUTH_TOKEN", TOKEN.to_owned()),
        ],
        args,
    )
}

/// [`glance_cmd_at`], run to its end.
pub async fn glance_at(url: &str, args: &[&str]) -> Output {
    glance_cmd_at(url, args)
        .output()
        .await
        .expect("glance runs")
}

/// `glance args` against the mock `server`.
pub fn glance_cmd(server: &MockServer, args: &[&str]) -> tokio::process::Command {
    glance_cmd_at(&server.url(), args)
}

/// [`glance_cmd`], run to its end.
pub async fn glance(server: &MockServer, args: &[&str]) -> Output {
    glance_at(&server.url(), args).await
}

/// The one-line error of a command that must fail with status 1.
pub fn fails(out: &Output) -> String {
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

/// The value of `property` in a Property/Value table (its first row).
pub fn value_of(table: &str, property: &str) -> String {
    table_value(table, property).unwrap_or_else(|| panic!("no {property} row in {table}"))
}

/// stdout of a command that must succeed, as JSON.
pub fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).expect("JSON output")
}

/// `p` as an argument.
pub fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Create a raw/bare image through the CLI, returning its id.
pub async fn new_image(server: &MockServer, name: &str) -> String {
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

/// An active image holding `payload`, made through the library; its id.
pub async fn image_of(server: &MockServer, payload: &[u8]) -> String {
    let client = glance_client::Client::builder()
        .endpoint(server.url())
        .token(TOKEN)
        .build()
        .expect("client");
    glance_e2e_tests::fixture::image_with(&client, "cli", payload)
        .await
        .id
}

/// Wait (bounded by attempts, not by time) until the image has `status`.
pub async fn until_status(server: &MockServer, id: &str, status: &str) -> Value {
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
