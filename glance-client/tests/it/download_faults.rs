//! Downloads from a server that corrupts, cuts and replaces image bytes:
//! every validation branch, corruption at the edges, resumed transfers,
//! and `download_to_path` leaving nothing behind. The server is the mock
//! with fault rules on its data responses, or, for what the mock cannot
//! do, the raw server of `common::flaky`.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use glance_client::{Client, DownloadOptions, Error, Verification};
use glance_mock_server::MockServer;
use glance_mock_server::control::DataMode;
use md5::Md5;
use serde_json::{Value, json};
use sha2::{Digest, Sha512};

use crate::common::flaky::{self, Flaky};
use crate::common::{ID, client};

/// 1 MiB + 7: more than one chunk, not a multiple of any chunk size.
const LEN: usize = (1 << 20) + 7;

fn data(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d ^ len as u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn sha512(d: &[u8]) -> String {
    hex::encode(Sha512::digest(d))
}

fn md5(d: &[u8]) -> String {
    hex::encode(Md5::digest(d))
}

/// A record with the digests of `good` chosen by `hash` / `checksum`.
fn record(good: &[u8], algo: Option<&str>, checksum: bool) -> Value {
    json!({
        "id": ID, "name": "faulty", "status": "active", "visibility": "shared",
        "size": good.len(), "container_format": "bare", "disk_format": "raw",
        "os_hash_algo": algo,
        "os_hash_value": algo.map(|a| if a == "sha512" { sha512(good) } else { "ab".repeat(32) }),
        "checksum": checksum.then(|| md5(good)),
    })
}

/// Everything a download delivered, and how it ended.
async fn drain(client: &Client, options: DownloadOptions) -> (Vec<u8>, Result<(), Error>) {
    let mut download = match client.images().download_with(ID, &options).await {
        Ok(Some(d)) => d,
        Ok(None) => return (Vec::new(), Ok(())),
        Err(e) => return (Vec::new(), Err(e)),
    };
    let mut got = Vec::new();
    while let Some(item) = download.next().await {
        match item {
            Ok(chunk) => got.extend_from_slice(&chunk),
            Err(e) => return (got, Err(e)),
        }
    }
    (got, Ok(()))
}

/// The raw server serving `f`.
async fn start(f: Flaky) -> (Client, Arc<Flaky>) {
    let f = Arc::new(f);
    let url = flaky::serve(f.clone()).await;
    (client(&url), f)
}

/// A fault action that fires on the next data response only.
fn once(action: Value) -> Value {
    json!({"match": {"method": "GET", "path": "/v2/images/*/file", "count": 1}, "action": action})
}

/// A fault action on every data response (after the `once` ones).
fn always(action: Value) -> Value {
    json!({"match": {"method": "GET", "path": "/v2/images/*/file"}, "action": action})
}

fn drop_after(bytes: u64) -> Value {
    json!({"type": "drop_after", "bytes": bytes})
}

/// The mock holding `served` as image `ID`, whose record carries the size
/// and digests of `record` (those of the good bytes: `served` may be
/// corrupt); `faults` are its fault rules, tried in order ([`once`],
/// [`always`]). Its `Content-MD5` is the record's checksum, as Glance's.
async fn mock(served: &[u8], record: &Value, faults: &[Value]) -> (Client, MockServer) {
    let server = MockServer::start().await.expect("mock starts");
    let client = client(&server);
    let create = glance_client::CreateImage::new("faulty")
        .id(ID)
        .disk_format(glance_client::DiskFormat::Raw)
        .container_format(glance_client::ContainerFormat::Bare);
    let images = client.images();
    images.create(&create).await.expect("created");
    images.upload(ID, served.to_vec()).await.expect("uploaded");
    // The record as the test wants it, the bytes as stored.
    let dump = server
        .dump_state(DataMode::Reference)
        .await
        .expect("dumped");
    let mut dump = serde_json::to_value(dump).expect("json");
    for field in ["size", "checksum", "os_hash_algo", "os_hash_value"] {
        dump["images"][0][field] = record[field].clone();
    }
    server
        .load_state(serde_json::from_value(dump).expect("a dump"))
        .await
        .expect("seeded");
    for rule in faults {
        server
            .add_fault(serde_json::from_value(rule.clone()).expect("a rule"))
            .expect("rule added");
    }
    (client, server)
}

/// The statuses of the data requests the mock answered, in order.
fn data_statuses(server: &MockServer) -> Vec<u16> {
    server
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/file"))
        .map(|r| r.status)
        .collect()
}

fn corrupt(good: &[u8], at: usize) -> Vec<u8> {
    let mut bad = good.to_vec();
    bad[at] ^= 0x40;
    bad
}

#[tokio::test]
async fn each_validation_branch_checks_what_glanceclient_checks() {
    let good = data(LEN);
    // (record, Content-MD5 header, options, expected verification)
    let cases: Vec<(Value, Option<String>, DownloadOptions, Verification)> = vec![
        (
            record(&good, Some("sha512"), true),
            Some(md5(&good)),
            DownloadOptions::default(),
            Verification::Digest {
                algorithm: "sha512".into(),
                expected: sha512(&good),
            },
        ),
        (
            record(&good, None, true),
            None,
            DownloadOptions::default(),
            Verification::Digest {
                algorithm: "md5".into(),
                expected: md5(&good),
            },
        ),
        (
            record(&good, None, false),
            Some(md5(&good)),
            DownloadOptions::default(),
            Verification::Digest {
                algorithm: "md5".into(),
                expected: md5(&good),
            },
        ),
        (
            record(&good, Some("blake3000"), true),
            None,
            DownloadOptions::default().allow_md5_fallback(true),
            Verification::Digest {
                algorithm: "md5".into(),
                expected: md5(&good),
            },
        ),
    ];
    for (image, content_md5, options, expected) in cases {
        for served in [good.clone(), corrupt(&good, LEN / 2)] {
            // The mock sends the record's checksum as `Content-MD5`, as
            // Glance does; a `Content-MD5` without a checksum in the
            // record (which glanceclient checks too) needs the raw server.
            let (client, _mock, _raw) = if image["checksum"].is_null() && content_md5.is_some() {
                let (client, f) = start(Flaky {
                    data: served.clone(),
                    image: image.clone(),
                    content_md5: content_md5.clone(),
                    ..Flaky::default()
                })
                .await;
                (client, None, Some(f))
            } else {
                let (client, server) = mock(&served, &image, &[]).await;
                (client, Some(server), None)
            };
            let download = client
                .images()
                .download_with(ID, &options)
                .await
                .expect("download starts")
                .expect("has data");
            assert_eq!(download.verification, expected);
            let (got, end) = drain(&client, options).await;
            if served == good {
                end.expect("good data verifies");
                assert_eq!(got, good);
            } else {
                let err = end.expect_err("corruption detected");
                assert!(err.is_checksum_mismatch(), "{expected:?}: {err}");
                assert!(got.len() < LEN, "the corrupt image was never all delivered");
            }
        }
    }
}

#[tokio::test]
async fn nothing_to_check_against_means_no_check_and_says_so() {
    let good = data(4096);
    let (client, _server) = mock(&corrupt(&good, 0), &record(&good, None, false), &[]).await;
    let d = client
        .images()
        .download(ID)
        .await
        .expect("starts")
        .expect("data");
    assert_eq!(
        d.verification,
        Verification::Unavailable,
        "not a silent pass"
    );
    let (got, end) = drain(&client, DownloadOptions::default()).await;
    end.expect("unchecked");
    assert_eq!(got.len(), 4096);
}

#[tokio::test]
async fn an_unknown_algorithm_without_fallback_is_refused() {
    let good = data(100);
    let (client, _server) = mock(&good, &record(&good, Some("blake3000"), true), &[]).await;
    let err = client.images().download(ID).await.expect_err("refused");
    assert!(
        matches!(&err, Error::UnsupportedHashAlgorithm(a) if a == "blake3000"),
        "{err}"
    );
}

#[tokio::test]
async fn corruption_is_detected_wherever_it_is() {
    let good = data(LEN);
    // First byte, a 64 KiB write boundary, the start of the final chunk
    // (1 MiB), the final byte.
    for at in [0, 64 * 1024, 1 << 20, LEN - 1] {
        for (algo, checksum) in [(Some("sha512"), true), (None, true)] {
            let (client, _server) =
                mock(&corrupt(&good, at), &record(&good, algo, checksum), &[]).await;
            let (got, end) = drain(&client, DownloadOptions::default()).await;
            let err = end.expect_err("corruption detected");
            assert!(err.is_checksum_mismatch(), "byte {at}, {algo:?}: {err}");
            assert!(got.len() < LEN, "byte {at}: all bytes were delivered");
        }
    }
}

#[tokio::test]
async fn a_dropped_connection_is_resumed_and_verified() {
    let good = data(LEN);
    // Cut at 1, 300000, 1 MiB and the last byte: each response is cut
    // that far past where it starts.
    let cuts = [1, 300_000, 1 << 20, LEN as u64 - 1];
    let faults: Vec<Value> = cuts
        .iter()
        .scan(0, |from, cut| {
            let rule = once(drop_after(cut - *from));
            *from = *cut;
            Some(rule)
        })
        .collect();
    let (client, server) = mock(&good, &record(&good, Some("sha512"), true), &faults).await;
    let options = DownloadOptions::default().resume_attempts(4);
    let (got, end) = drain(&client, options).await;
    end.expect("resumed and verified");
    assert_eq!(got, good);
    // The whole image, then four ranges: the bytes are right, so each
    // range started where the cut was.
    assert_eq!(data_statuses(&server), [200, 206, 206, 206, 206]);
}

#[tokio::test]
async fn a_resumed_transfer_still_catches_corruption() {
    let good = data(LEN);
    let (client, _server) = mock(
        &corrupt(&good, LEN - 1),
        &record(&good, Some("sha512"), true),
        &[once(drop_after(500_000))],
    )
    .await;
    let (got, end) = drain(&client, DownloadOptions::default()).await;
    assert!(end.expect_err("detected").is_checksum_mismatch());
    assert!(got.len() < LEN);
}

#[tokio::test]
async fn resuming_gives_up_after_its_attempts() {
    let good = data(LEN);
    let (client, server) = mock(
        &good,
        &record(&good, Some("sha512"), true),
        &[always(drop_after(200_000))],
    )
    .await;
    let (got, end) = drain(&client, DownloadOptions::default().resume_attempts(2)).await;
    let err = end.expect_err("gives up");
    assert!(
        matches!(
            err,
            Error::ResumeFailed {
                offset: 600_000,
                ..
            }
        ),
        "{err}"
    );
    assert!(got.len() < LEN);
    assert_eq!(data_statuses(&server), [200, 206, 206], "two resumptions");

    let (_, end) = drain(&client, DownloadOptions::default().resume_attempts(0)).await;
    assert!(matches!(
        end,
        Err(Error::ResumeFailed {
            offset: 200_000,
            ..
        })
    ));
}

/// The raw server: the mock keeps one image's bytes and serves the same
/// bytes and `Content-MD5` to every request.
#[tokio::test]
async fn a_replaced_image_is_not_spliced() {
    let good = data(LEN);
    let other = data(LEN + 1)[..LEN].to_vec();
    let (client, _f) = start(Flaky {
        data: good.clone(),
        image: record(&good, Some("sha512"), true),
        content_md5: Some(md5(&good)),
        ranged_md5: Some(md5(&other)),
        ranged_data: Some(other),
        drops: Mutex::new(vec![400_000]),
        ..Flaky::default()
    })
    .await;
    let (got, end) = drain(&client, DownloadOptions::default()).await;
    let err = end.expect_err("refused");
    match &err {
        Error::ResumeFailed { offset, reason, .. } => {
            assert_eq!(*offset, 400_000);
            assert!(reason.contains("Content-MD5"), "{reason}");
        }
        other => panic!("expected ResumeFailed, got {other}"),
    }
    assert!(got.len() < LEN);
}

fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test]
async fn download_to_path_leaves_nothing_behind_on_failure() {
    let good = data(LEN);
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("image.raw");
    for (served, faults) in [
        (corrupt(&good, LEN - 1), vec![]),
        (good.clone(), vec![always(drop_after(100_000))]),
    ] {
        let (client, _server) = mock(&served, &record(&good, Some("sha512"), true), &faults).await;
        let err = client
            .images()
            .download_to_path(ID, &target)
            .await
            .expect_err("fails");
        assert!(
            err.is_checksum_mismatch() || matches!(err, Error::ResumeFailed { .. }),
            "{err}"
        );
        assert!(
            leftovers(dir.path()).is_empty(),
            "{:?}",
            leftovers(dir.path())
        );
    }
    // And a good one, resumed, lands whole.
    let (client, _server) = mock(
        &good,
        &record(&good, Some("sha512"), true),
        &[once(drop_after(777_777))],
    )
    .await;
    let n = client
        .images()
        .download_to_path(ID, &target)
        .await
        .expect("written");
    assert_eq!(n.map(|s| s.bytes), Some(LEN as u64));
    assert_eq!(std::fs::read(&target).expect("read"), good);
    assert_eq!(leftovers(dir.path()), ["image.raw"]);
}

#[tokio::test]
async fn a_writer_gets_the_whole_image_only_when_it_verifies() {
    let good = data(LEN);
    for (served, ok) in [(good.clone(), true), (corrupt(&good, 3), false)] {
        let (client, _server) = mock(
            &served,
            &record(&good, Some("sha512"), true),
            &[once(drop_after(123_456))],
        )
        .await;
        let mut out: Vec<u8> = Vec::new();
        let result = client.images().download_to_writer(ID, &mut out).await;
        if ok {
            let saved = result.expect("written").expect("has data");
            assert_eq!(saved.bytes, LEN as u64);
            assert!(out == good);
        } else {
            assert!(result.expect_err("corrupt").is_checksum_mismatch());
            assert!(out.len() < LEN);
        }
    }
}

#[tokio::test]
async fn a_truncated_body_is_never_a_success() {
    let good = data(LEN);
    // Complete by its own Content-Length, but short of the image: caught by
    // the digest, and by the record's size when there is no digest.
    for (algo, checksum) in [(Some("sha512"), true), (None, false)] {
        let truncate = json!({"type": "truncate", "bytes": LEN - 1});
        let (client, _server) =
            mock(&good, &record(&good, algo, checksum), &[always(truncate)]).await;
        let (got, end) = drain(&client, DownloadOptions::default()).await;
        let err = end.expect_err("short");
        assert!(
            err.is_checksum_mismatch()
                || matches!(
                    err,
                    Error::Incomplete {
                        expected,
                        received
                    } if expected == LEN as u64 && received == LEN as u64 - 1
                ),
            "{algo:?}: {err}"
        );
        assert!(got.len() < LEN - 1);
    }
}

#[tokio::test]
async fn a_server_ignoring_ranges_gets_one_connection_silently() {
    // The raw server: the mock honours every range, as Glance does. This
    // server answers `bytes=N-` only: the first range asked for by a
    // parallel download (`bytes=0-8388607`) gets the whole image, a 200.
    let good = data(20 << 20);
    let (client, f) = start(Flaky {
        data: good.clone(),
        image: record(&good, Some("sha512"), true),
        content_md5: Some(md5(&good)),
        ..Flaky::default()
    })
    .await;
    let (got, end) = drain(&client, DownloadOptions::default().connections(4)).await;
    end.expect("verified");
    assert!(got == good);
    let data_requests: Vec<_> = f
        .seen
        .lock()
        .expect("lock")
        .iter()
        .filter(|(path, _)| path.ends_with("/file"))
        .cloned()
        .collect();
    assert_eq!(
        data_requests,
        vec![(
            format!("/v2/images/{ID}/file"),
            Some("bytes=0-8388607".to_owned())
        )]
    );
}
