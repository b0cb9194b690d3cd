//! Argument handling of the `glance` binary that needs no server.

use std::process::Command;

use crate::harness::glance_bin;

#[test]
fn help_lists_the_image_commands() {
    let out = Command::new(glance_bin())
        .arg("--help")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "image-create",
        "image-list",
        "image-show",
        "image-upload",
        "image-download",
        "image-delete",
    ] {
        assert!(text.contains(cmd), "{cmd} missing from help:\n{text}");
    }
}

#[test]
fn bad_boolean_is_refused_before_any_request() {
    let out = Command::new(glance_bin())
        .args(["image-create", "--protected", "maybe"])
        .env("OS_IMAGE_URL", "http://127.0.0.1:9")
        .env("OS_AUTH_TOKEN", "t")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Unrecognized value 'maybe'"));
}

#[test]
fn size_at_creation_is_refused_like_glanceclient() {
    let out = Command::new(glance_bin())
        .args(["image-create", "--size", "5"])
        .env("OS_IMAGE_URL", "http://127.0.0.1:9")
        .env("OS_AUTH_TOKEN", "t")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("Setting 'size' during image creation is not supported")
    );
}
