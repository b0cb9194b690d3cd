//! Download validation against a server that lies about its bytes.

use futures::StreamExt;
use glance_client::{DownloadOptions, Error, Verification};
use sha2::{Digest, Sha512};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{ID, client, image_json};

/// A record promising `os_hash_value` (sha512) and `checksum`.
fn lying(os_hash_value: &str, checksum: Option<&str>) -> serde_json::Value {
    image_json(serde_json::json!({
        "name": "lying", "checksum": checksum,
        "os_hash_algo": "sha512", "os_hash_value": os_hash_value,
    }))
}

async fn server(image: serde_json::Value, data: &'static [u8]) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/images/{ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(image))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/images/{ID}/file")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/octet-stream")
                .set_body_bytes(data),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn bytes_not_matching_os_hash_value_end_in_a_checksum_error() {
    let promised = hex::encode(Sha512::digest(b"good data"));
    let server = server(lying(&promised, None), b"bad data").await;
    let download = client(&server)
        .images()
        .download(ID)
        .await
        .expect("headers arrive")
        .expect("image has data");
    assert_eq!(
        download.verification,
        Verification::Digest {
            algorithm: "sha512".into(),
            expected: promised.clone()
        }
    );
    let items: Vec<_> = download.collect().await;
    let last = items.last().expect("stream yields something");
    match last {
        Err(Error::ChecksumMismatch {
            algorithm,
            expected,
            actual,
        }) => {
            assert_eq!(algorithm, "sha512");
            assert_eq!(expected, &promised);
            assert_eq!(actual, &hex::encode(Sha512::digest(b"bad data")));
        }
        other => panic!("expected a checksum mismatch, got {other:?}"),
    }
    let delivered: usize = items
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .map(|b| b.len())
        .sum();
    assert!(
        delivered < b"bad data".len(),
        "the consumer must never receive the whole corrupt image"
    );
}

#[tokio::test]
async fn matching_bytes_pass_and_md5_is_not_consulted_when_a_multihash_exists() {
    // A wrong md5 checksum must not matter: the multihash wins.
    let promised = hex::encode(Sha512::digest(b"good data"));
    let server = server(
        lying(&promised, Some("00000000000000000000000000000000")),
        b"good data",
    )
    .await;
    let data = client(&server)
        .images()
        .download(ID)
        .await
        .expect("request works")
        .expect("has data")
        .bytes()
        .await
        .expect("verified");
    assert_eq!(&data[..], b"good data");
}

#[tokio::test]
async fn unverified_download_skips_the_record_and_the_check() {
    let server = server(lying("ffff", None), b"whatever").await;
    let data = client(&server)
        .images()
        .download_with(ID, &DownloadOptions::unverified())
        .await
        .expect("request works")
        .expect("has data")
        .bytes()
        .await
        .expect("not checked");
    assert_eq!(&data[..], b"whatever");
}

#[tokio::test]
async fn download_to_path_leaves_nothing_on_mismatch() {
    let promised = hex::encode(Sha512::digest(b"good data"));
    let server = server(lying(&promised, None), b"bad data").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("image.raw");
    let err = client(&server)
        .images()
        .download_to_path(ID, &target)
        .await
        .expect_err("corrupt data is refused");
    assert!(err.is_checksum_mismatch(), "{err}");
    assert!(!target.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("list").count(),
        0,
        "no temporary file left behind"
    );
}

#[tokio::test]
async fn server_errors_carry_message_and_request_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/images/{ID}")))
        .respond_with(
            ResponseTemplate::new(404)
                .insert_header("content-type", "text/plain; charset=UTF-8")
                .insert_header("x-openstack-request-id", "req-123")
                .set_body_string(format!(
                    "404 Not Found\n\nNo image found with ID {ID}\n\n   "
                )),
        )
        .mount(&server)
        .await;
    let err = client(&server).images().get(ID).await.expect_err("404");
    assert!(err.is_not_found());
    assert_eq!(err.request_id(), Some("req-123"));
    assert!(
        err.to_string()
            .contains(&format!("No image found with ID {ID}")),
        "{err}"
    );
}
