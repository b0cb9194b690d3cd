//! Every v2 command of the `glance` binary against the in-process
//! glance-mock-server: output, exit status and the effect on the server.
//! (`basics` holds the first create → upload → download → delete walk.)

mod images;
mod metadefs;
mod services;

use glance_mock_server::MockServer;

use crate::harness::{fails, glance, glance_bin, ok, stderr};

/// The 66 v2 commands of python-glanceclient (reference §9.2), less the
/// cache commands it has beyond the list, plus `completion`.
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
