//! The control plane with the binary: `--data-dir` and `--seed`, and
//! which files of a store's directory are ever the mock's to remove.

use glance_mock_server::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::http::{Api, data};
use crate::harness::process::{binary, spawn_binary};

#[tokio::test]
async fn a_data_dir_and_a_seed_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let data_arg = data_dir.to_str().expect("utf-8 path");
    let (first, url) = spawn_binary(["--data-dir", data_arg]);
    let api = Api::remote(url);
    let payload = data(300_000);
    let id = api.image_with(payload.clone()).await;
    let on_disk = std::fs::read(data_dir.join("fast").join(&id)).expect("the image's file");
    assert_eq!(on_disk, payload);
    let dump = api.dump("reference").await;
    assert!(dump["data"][0].get("content_base64").is_none());
    drop(first);

    let seed = dir.path().join("seed.json");
    std::fs::write(&seed, serde_json::to_vec(&dump).expect("json")).expect("seed written");
    let seed_arg = seed.to_str().expect("utf-8 path");
    let (_second, url) = spawn_binary(["--data-dir", data_arg, "--seed", seed_arg]);
    let api = Api::remote(url);
    assert_eq!(api.dump("reference").await, dump);
    let resp = api
        .owner(Method::GET, &format!("/v2/images/{id}/file"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.bytes().await.expect("body").to_vec(), payload);
}

#[test]
fn a_bad_seed_stops_the_binary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seed = dir.path().join("seed.json");
    std::fs::write(
        &seed,
        br#"{"data": [{"store": "fast", "image_id": "x", "size": 1}]}"#,
    )
    .expect("written");
    let out = binary()
        .args(["--bind", "127.0.0.1:0", "--seed"])
        .arg(&seed)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a UUID"));
}

/// Files someone else keeps in a store's directory: their paths and bytes.
struct Foreign(Vec<(std::path::PathBuf, Vec<u8>)>);

impl Foreign {
    /// `notes.txt`, a file named by a UUID the mock never wrote, and an
    /// empty `README`, in `dir`.
    fn put(dir: &std::path::Path, uuid_name: &str) -> Foreign {
        std::fs::create_dir_all(dir).expect("dir made");
        let files = [
            ("notes.txt", b"not the mock's\n".to_vec()),
            (uuid_name, data(777)),
            ("README", Vec::new()),
        ]
        .into_iter()
        .map(|(name, bytes)| {
            let path = dir.join(name);
            std::fs::write(&path, &bytes).expect("foreign file written");
            (path, bytes)
        })
        .collect();
        Foreign(files)
    }

    fn assert_intact(&self, when: &str) {
        for (path, bytes) in &self.0 {
            let now = std::fs::read(path)
                .unwrap_or_else(|e| panic!("{when}: {} is gone: {e}", path.display()));
            assert!(&now == bytes, "{when}: {} changed", path.display());
        }
    }
}

fn raw() -> Value {
    json!({"disk_format": "raw", "container_format": "bare"})
}

#[tokio::test]
async fn only_the_mocks_own_files_are_ever_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (fast, staging) = (dir.path().join("fast"), dir.path().join("staging"));
    let (fast_foreign, staging_foreign) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    let foreign = [
        Foreign::put(&fast, &fast_foreign),
        Foreign::put(&staging, &staging_foreign),
    ];
    let check = |when: &str| foreign.iter().for_each(|f| f.assert_intact(when));
    let mut config = Config {
        stores: vec![
            glance_mock_server::StoreConfig::filesystem("fast", "files", &fast),
            glance_mock_server::StoreConfig::memory("cheap", "memory"),
        ],
        ..Config::default()
    };
    config.tasks.staging_dir = Some(staging.clone());
    let api = Api::with(config).await;
    let reset = || async {
        let resp = api
            .control(Method::POST, "/reset")
            .send()
            .await
            .expect("sent");
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    };

    // Nothing of the directories' is taken for the mock's.
    assert_eq!(api.dump("reference").await["data"], json!([]));
    reset().await;
    check("after a reset of an empty mock");

    // Uploads and staged data, then a reset.
    let a = api.image_with(data(1000)).await;
    let b = api.image_with(data(2000)).await;
    let c = api.create(raw()).await;
    api.put_data(&c, "stage", data(300)).await;
    for path in [fast.join(&a), fast.join(&b), staging.join(&c)] {
        assert!(path.is_file(), "{} written", path.display());
    }
    assert_eq!(
        api.dump("reference").await["data"].as_array().map(Vec::len),
        Some(3)
    );
    reset().await;
    check("after a reset");
    for path in [fast.join(&a), fast.join(&b), staging.join(&c)] {
        assert!(!path.exists(), "{} removed by the reset", path.display());
    }

    // A seed keeps what it names, removes the mock's other data only.
    let d = api.image_with(data(1500)).await;
    let e = api.create(raw()).await;
    api.put_data(&e, "stage", data(40)).await;
    let seed = api.dump("reference").await;
    let f = api.image_with(data(900)).await;
    let g = api.create(raw()).await;
    api.put_data(&g, "stage", data(50)).await;
    let (status, body) = api.load(&seed).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    check("after loading a seed");
    assert!(fast.join(&d).is_file() && staging.join(&e).is_file());
    assert!(!fast.join(&f).exists() && !staging.join(&g).exists());
    assert_eq!(api.dump("reference").await, seed);

    // A seed cannot claim a foreign file by reference, UUID name or not.
    for (store, id) in [
        ("fast", &fast_foreign),
        ("os_glance_staging_store", &staging_foreign),
    ] {
        let mut claim = seed.clone();
        claim["data"]
            .as_array_mut()
            .expect("data")
            .push(json!({"store": store, "image_id": id, "size": 777}));
        let (status, body) = api.load(&claim).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    check("after refused seeds");

    // Deleting images: the mock's file goes, foreign ones stay, even for
    // images whose ids are the foreign files' names.
    let resp = api
        .owner(Method::DELETE, &format!("/v2/images/{d}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(!fast.join(&d).exists());
    for id in [&fast_foreign, &staging_foreign] {
        let made = api
            .create(json!({"id": id, "disk_format": "raw", "container_format": "bare"}))
            .await;
        assert_eq!(&made, id);
        let resp = api
            .owner(Method::DELETE, &format!("/v2/images/{id}"))
            .send()
            .await
            .expect("sent");
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
    check("after deleting images");
    reset().await;
    check("after the last reset");
    assert!(!staging.join(&e).exists());
}

#[tokio::test]
async fn a_data_dir_of_an_earlier_version_is_adopted_by_its_seed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let data_arg = data_dir.to_str().expect("utf-8 path");
    let (first, url) = spawn_binary(["--data-dir", data_arg]);
    let api = Api::remote(url);
    let payload = data(5000);
    let id = api.image_with(payload.clone()).await;
    let dump = api.dump("reference").await;
    drop(first);
    // As an earlier version left it: image files named by id, no record.
    let manifest = data_dir
        .join("fast")
        .join(glance_mock_server::store::filesystem::MANIFEST);
    std::fs::remove_file(&manifest).expect("manifest removed");
    let foreign = Foreign::put(&data_dir.join("fast"), &uuid::Uuid::new_v4().to_string());

    // Without the seed, nothing there is the mock's.
    let (plain, url) = spawn_binary(["--data-dir", data_arg]);
    let api = Api::remote(url);
    assert_eq!(api.dump("reference").await["data"], json!([]));
    let resp = api
        .control(Method::POST, "/reset")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(data_dir.join("fast").join(&id).is_file());
    drop(plain);

    let seed = dir.path().join("seed.json");
    std::fs::write(&seed, serde_json::to_vec(&dump).expect("json")).expect("seed written");
    let seed_arg = seed.to_str().expect("utf-8 path");
    let (_second, url) = spawn_binary(["--data-dir", data_arg, "--seed", seed_arg]);
    let api = Api::remote(url);
    assert_eq!(api.dump("reference").await, dump);
    let resp = api
        .owner(Method::GET, &format!("/v2/images/{id}/file"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.bytes().await.expect("body").to_vec(), payload);
    // Adopted: the reset removes it, and nothing else.
    let resp = api
        .control(Method::POST, "/reset")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(!data_dir.join("fast").join(&id).exists());
    foreign.assert_intact("after the reset");
}
