//! A store or a staging area with no room left answers as Glance 33 does:
//! 413 "Image storage media is full: There is not enough disk space on the
//! image storage media.", the image back to `queued`, nothing of the
//! upload kept, and room for a smaller one afterwards. Once with in-memory
//! stores given a capacity, once with filesystem stores on a small tmpfs
//! (needs root to mount it: without root the tmpfs test says so and
//! passes, unless `GLANCE_REQUIRE_ROOT` is set, as in CI).

use std::path::{Path, PathBuf};
use std::process::Command;

use glance_mock_server::Config;
use glance_mock_server::config::StoreConfig;
use reqwest::StatusCode;

use crate::harness::http::Api;
use crate::harness::skip::skip;

const FULL: &str =
    "Image storage media is full: There is not enough disk space on the image storage media.";

/// An upload (or stage) too large for the room left: Glance's 413,
/// the image queued without data; then a small one fits.
async fn refused_then_room(api: &Api, what: &str, too_much: usize, fits: usize) {
    let id = api.create_format("raw").await;
    let a = api.put(&id, what, vec![0x5a; too_much]).await;
    let (status, body) = (a.status, a.json());
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{what}: {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.starts_with(FULL), "{what}: {body}");
    let img = api.show(&id).await;
    assert_eq!(img["status"], "queued", "{what}: {img}");
    assert!(img["size"].is_null(), "{what}: {img}");
    let state = api.server().state();
    assert!(!state.store.holds("fast", &id).await, "{what}: half-stored");
    assert!(
        state.staging.get_size(&id).await.is_err(),
        "{what}: half-staged"
    );
    let a = api.put(&id, what, vec![0x5a; fits]).await;
    let (status, body) = (a.status, a.json());
    assert_eq!(status, StatusCode::NO_CONTENT, "{what} after: {body}");
    let img = api.show(&id).await;
    let want = if what == "file" {
        "active"
    } else {
        "uploading"
    };
    assert_eq!(img["status"], want, "{what}: {img}");
}

#[tokio::test]
async fn a_store_or_staging_over_its_capacity_answers_413_and_keeps_nothing() {
    let mut config = Config::default();
    config.stores[0].capacity = Some(64 * 1024);
    config.tasks.staging_capacity = Some(64 * 1024);
    let api = Api::with(config).await;
    // The failed upload's bytes are given back: the smaller one fits.
    refused_then_room(&api, "file", 100 * 1024, 60 * 1024).await;
    refused_then_room(&api, "stage", 100 * 1024, 60 * 1024).await;
}

#[test]
fn a_capacity_on_a_filesystem_store_is_refused_in_the_configuration() {
    let file = "[[stores]]\nid = \"fast\"\ndata_dir = \"/tmp/x\"\ncapacity = 10\n";
    let err = Config::from_toml(file).expect_err("refused");
    assert!(err.to_string().contains("capacity"), "{err}");
    let file = "[tasks]\nstaging_dir = \"/tmp/x\"\nstaging_capacity = 10\n";
    let err = Config::from_toml(file).expect_err("refused");
    assert!(err.to_string().contains("staging_capacity"), "{err}");
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` if it cannot be mounted (not root) and `GLANCE_REQUIRE_ROOT`
    /// is not set.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
                    Err(e) => e.to_string(),
                };
                skip(
                    "GLANCE_REQUIRE_ROOT",
                    &format!("mounting a tmpfs needs root ({why})"),
                );
                None
            }
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_owned()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Files in `dir` other than the ownership record.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !glance_mock_server::store::filesystem::is_bookkeeping(n))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_full_filesystem_answers_413_and_keeps_nothing() {
    let Some(disk) = Tmpfs::mount("1m") else {
        return;
    };
    let (store_dir, staging_dir) = (disk.path().join("fast"), disk.path().join("staging"));
    let mut config = Config {
        stores: vec![StoreConfig::filesystem("fast", "", &store_dir)],
        default_store: "fast".into(),
        ..Config::default()
    };
    config.tasks.staging_dir = Some(staging_dir.clone());
    let api = Api::with(config).await;
    refused_then_room(&api, "file", 3 << 20, 200 * 1024).await;
    assert_eq!(leftovers(&store_dir).len(), 1, "only the image that fits");
    refused_then_room(&api, "stage", 3 << 20, 200 * 1024).await;
    assert_eq!(leftovers(&staging_dir).len(), 1, "only the stage that fits");
}
