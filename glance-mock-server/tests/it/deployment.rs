//! Behaviour that depends on the deployment's configuration: the hashing
//! algorithm, the image cache, unified limits and `/v2/info/usage`, and
//! the location switches. Expected answers are those of Glance 33 run with
//! the same options (`scripts/real-glance-variant`).

use glance_mock_server::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::http::Api;

#[tokio::test]
async fn the_hashing_algorithm_names_os_hash_value() {
    let api = Api::from_toml("hashing_algorithm = \"sha256\"").await;
    let id = api.image_with(b"abc".to_vec()).await;
    let img = api.show(&id).await;
    assert_eq!(img["os_hash_algo"], "sha256");
    assert_eq!(
        img["os_hash_value"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(img["checksum"], "900150983cd24fb0d6963f7d28e17f72");
}

#[tokio::test]
async fn the_versions_document_lists_the_cache_versions_only_with_a_cache() {
    let ids = |body: Value| -> Vec<String> {
        body["versions"]
            .as_array()
            .expect("versions")
            .iter()
            .map(|v| {
                format!(
                    "{} {}",
                    v["id"].as_str().unwrap_or(""),
                    v["status"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    let plain = Api::with(Config::default()).await;
    let (_, body) = plain.json(plain.owner(Method::GET, "/versions")).await;
    let listed = ids(body);
    assert!(listed.contains(&"v2.17 CURRENT".to_owned()));
    assert!(
        !listed
            .iter()
            .any(|v| v.starts_with("v2.14") || v.starts_with("v2.16"))
    );
    let (status, _) = plain.json(plain.admin(Method::GET, "/v2.16/cache")).await;
    assert_eq!(status, StatusCode::MULTIPLE_CHOICES);

    let cached = Api::from_toml("[cache]\nenabled = true").await;
    let (_, body) = cached.json(cached.owner(Method::GET, "/versions")).await;
    let listed = ids(body);
    assert_eq!(
        listed[..5],
        [
            "v2.18 CURRENT",
            "v2.17 SUPPORTED",
            "v2.16 SUPPORTED",
            "v2.15 SUPPORTED",
            "v2.14 SUPPORTED"
        ]
    );
    let (status, body) = cached.json(cached.admin(Method::GET, "/v2.16/cache")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"cached_images": [], "queued_images": []}));
}

#[tokio::test]
async fn without_a_cache_the_api_is_not_supported() {
    let api = Api::with(Config::default()).await;
    let (status, body) = api.json(api.admin(Method::GET, "/v2/cache")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body.to_string()
            .contains("Caching via API is not supported at this site.")
    );
}

#[tokio::test]
async fn downloads_and_queueing_fill_the_cache() {
    let api = Api::from_toml("[cache]\nenabled = true").await;
    let a = api.image_with(b"hello cache".to_vec()).await;
    let b = api.image_with(b"hello cache".to_vec()).await;
    let queued = api.create_format("raw").await;

    // Only active images can be queued; unknown ones are not found.
    let resp = api
        .admin(Method::PUT, &format!("/v2/cache/{queued}"))
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(
        resp.text()
            .await
            .expect("body")
            .contains("Only images with status active can be targeted for queueing")
    );
    let missing = "00000000-0000-0000-0000-000000000000";
    let (status, _) = api
        .json(api.admin(Method::PUT, &format!("/v2/cache/{missing}")))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The policy is admin-only.
    let (status, _) = api
        .json(api.owner(Method::PUT, &format!("/v2/cache/{b}")))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Queued: prefetched into the cache.
    let resp = api
        .admin(Method::PUT, &format!("/v2/cache/{b}"))
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    // Downloaded twice: cached by the first, a hit on the second; a range
    // request passes the cache by.
    for _ in 0..2 {
        let bytes = api
            .owner(Method::GET, &format!("/v2/images/{a}/file"))
            .send()
            .await
            .expect("download")
            .bytes()
            .await
            .expect("bytes");
        assert_eq!(&bytes[..], b"hello cache");
    }
    let resp = api
        .owner(Method::GET, &format!("/v2/images/{a}/file"))
        .header("Range", "bytes=0-1")
        .send()
        .await
        .expect("range");
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);

    let (status, body) = api.json(api.admin(Method::GET, "/v2/cache")).await;
    assert_eq!(status, StatusCode::OK);
    let cached = body["cached_images"].as_array().expect("cached");
    assert_eq!(cached.len(), 2);
    assert_eq!(
        (
            cached[0]["image_id"].as_str(),
            cached[0]["hits"].as_u64(),
            cached[0]["id"].as_u64()
        ),
        (Some(b.as_str()), Some(0), Some(1))
    );
    assert_eq!(
        (
            cached[1]["image_id"].as_str(),
            cached[1]["hits"].as_u64(),
            cached[1]["size"].as_u64()
        ),
        (Some(a.as_str()), Some(1), Some(11))
    );
    assert!(cached[1]["checksum"].is_null() && cached[1]["last_accessed"].is_f64());
    assert_eq!(body["queued_images"], json!([]));

    let (_, nodes) = api
        .json(api.admin(Method::GET, &format!("/v2/cache/nodes/{a}")))
        .await;
    assert_eq!(nodes, json!([api.base]));
    let (_, nodes) = api
        .json(api.admin(Method::GET, &format!("/v2/cache/nodes/{queued}")))
        .await;
    assert_eq!(nodes, json!([]));

    // Delete one, then clear: a bad target is refused.
    let (status, _) = api
        .json(api.admin(Method::DELETE, &format!("/v2/cache/{a}")))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api
        .json(api.admin(Method::DELETE, &format!("/v2/cache/{missing}")))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api
        .json(
            api.admin(Method::DELETE, "/v2/cache")
                .header("x-image-cache-clear-target", "bogus"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api
        .json(
            api.admin(Method::DELETE, "/v2/cache")
                .header("x-image-cache-clear-target", "queue"),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = api.json(api.admin(Method::GET, "/v2/cache")).await;
    assert_eq!(body["cached_images"].as_array().map(Vec::len), Some(1));
    let (status, _) = api
        .json(
            api.admin(Method::DELETE, "/v2/cache")
                .header("x-image-cache-clear-target", "Cache"),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = api.json(api.admin(Method::GET, "/v2/cache")).await;
    assert_eq!(body, json!({"cached_images": [], "queued_images": []}));

    let (status, body) = api.json(api.admin(Method::POST, "/v2/cache/prune")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"total_files_pruned": 0, "total_bytes_pruned": 0})
    );
    let (status, _) = api.json(api.admin(Method::POST, "/v2/cache/clean")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn usage_is_reported_only_with_unified_limits() {
    let plain = Api::with(Config::default()).await;
    let (_, body) = plain.json(plain.owner(Method::GET, "/v2/info/usage")).await;
    assert_eq!(body, json!({"usage": {}}));

    let api = Api::from_toml("[limits]\nimage_count_total = 10\nimage_size_total = 1").await;
    api.image_with(b"abc".to_vec()).await;
    api.create_format("raw").await;
    let (status, body) = api.json(api.owner(Method::GET, "/v2/info/usage")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"usage": {
            "image_size_total": {"usage": 0, "limit": 1},
            "image_stage_total": {"usage": 0, "limit": -1},
            "image_count_total": {"usage": 2, "limit": 10},
            "image_count_uploading": {"usage": 0, "limit": -1},
        }})
    );
}

#[tokio::test]
async fn location_switches_show_locations_and_direct_url() {
    let plain = Api::with(Config::default()).await;
    let id = plain.image_with(b"hello loc".to_vec()).await;
    let img = plain.show(&id).await;
    assert!(img.get("locations").is_none() && img.get("direct_url").is_none());

    let api = Api::from_toml("show_multiple_locations = true\nshow_image_direct_url = true").await;
    let (_, queued) = api
        .json(
            api.owner(Method::POST, "/v2/images")
                .json(&json!({"name": "q"})),
        )
        .await;
    assert_eq!(queued["locations"], json!([]));
    assert!(queued.get("direct_url").is_none());
    let id = api.image_with(b"hello loc".to_vec()).await;
    let img = api.show(&id).await;
    let url = format!("file:///var/lib/glance-mock/fast/{id}");
    assert_eq!(
        img["locations"],
        json!([{"url": url, "metadata": {"store": "fast"}}])
    );
    assert_eq!(img["direct_url"], json!(url));
    let (_, list) = api.json(api.owner(Method::GET, "/v2/images")).await;
    assert!(
        list["images"]
            .as_array()
            .expect("images")
            .iter()
            .all(|i| i.get("locations").is_some())
    );
}
