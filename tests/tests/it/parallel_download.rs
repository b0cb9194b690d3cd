//! Issue 24: a download over several connections at once, in ranges, under
//! the mock's `throttle` and fault rules (a range cut, a byte flipped in
//! one range, a range that stalls, the image replaced mid-way). It
//! delivers the verified bytes or a typed error, never a corrupt file, and
//! leaves nothing at the path on error; `glance image-download --parallel`.

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use glance_client::images::DownloadOptions;
use glance_client::{Client, Error};
use glance_e2e_tests::fixture::{
    client_with, data, entries, file_gets, file_rule, image_from, image_with, pass_first, raw,
};
use glance_mock_server::MockServer;
use glance_mock_server::control::{DataMode, FaultAction};
use sha2::{Digest, Sha512};

/// 5 ranges of 8 MiB, the last one 5 bytes.
const SIZE: usize = (32 << 20) + 5;

fn four() -> DownloadOptions {
    DownloadOptions::default().connections(4)
}

async fn collect(client: &Client, id: &str, options: &DownloadOptions) -> Result<Vec<u8>, Error> {
    let download = client
        .images()
        .download_with(id, options)
        .await?
        .expect("the image has data");
    Ok(download.bytes().await?.to_vec())
}

#[tokio::test]
async fn four_connections_beat_one_under_a_per_response_cap_with_the_same_bytes() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_secs(30));
    let payload = data(SIZE, 1);
    let image = image_with(&client, "parallel", &payload).await;
    server
        .add_fault(file_rule(FaultAction::Throttle {
            bytes_per_second: 16 << 20,
        }))
        .expect("valid rule");
    server.clear_requests();

    let started = Instant::now();
    let one = collect(&client, &image.id, &DownloadOptions::default())
        .await
        .expect("one connection");
    let single = started.elapsed();
    assert_eq!(file_gets(&server, &image.id), 1);
    server.clear_requests();

    let started = Instant::now();
    let download = client
        .images()
        .download_with(&image.id, &four())
        .await
        .expect("opened")
        .expect("data");
    assert_eq!(download.content_length, Some(SIZE as u64));
    assert!(download.verification.is_verified());
    let many = download.bytes().await.expect("four connections").to_vec();
    let parallel = started.elapsed();
    assert!(Sha512::digest(&one) == Sha512::digest(&payload));
    assert!(Sha512::digest(&many) == Sha512::digest(&payload));
    // One request per 8 MiB range, the first being the probe.
    assert_eq!(file_gets(&server, &image.id), 5);
    let speedup = single.as_secs_f64() / parallel.as_secs_f64();
    println!(
        "32 MiB at 16 MiB/s per response: one connection {:.2} s, four {:.2} s ({speedup:.2}×)",
        single.as_secs_f64(),
        parallel.as_secs_f64()
    );
    // 5 ranges over 4 connections: 2 rounds of 0.5 s against 2 s; a
    // loose bound for a shared debug host.
    assert!(speedup > 1.5, "{speedup:.2}×");
}

#[tokio::test]
async fn a_small_image_or_a_single_connection_is_one_request() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_secs(30));
    let payload = data(1 << 20, 2);
    let image = image_with(&client, "parallel", &payload).await;
    server.clear_requests();
    assert_eq!(
        collect(&client, &image.id, &four()).await.expect("whole"),
        payload
    );
    assert_eq!(file_gets(&server, &image.id), 1);
    // Unverified, no record is read: the probe's range is the whole image.
    server.clear_requests();
    let unverified = DownloadOptions::unverified().connections(4);
    assert_eq!(
        collect(&client, &image.id, &unverified)
            .await
            .expect("whole"),
        payload
    );
    assert_eq!(file_gets(&server, &image.id), 1);
}

#[tokio::test]
async fn ranges_cut_mid_way_are_resumed_on_their_own_and_verified() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_secs(30));
    let payload = data(SIZE, 3);
    let image = image_with(&client, "parallel", &payload).await;
    pass_first(&server, 1);
    // The next two range requests are cut after 1 MB.
    server
        .add_fault(file_rule(FaultAction::DropAfter { bytes: 1_000_000 }).count(2))
        .expect("valid rule");
    server.clear_requests();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("image.raw");
    let saved = client
        .images()
        .download_to_path_with(&image.id, &out, &four())
        .await
        .expect("resumed")
        .expect("data");
    assert!(saved.is_verified());
    assert_eq!(saved.bytes, SIZE as u64);
    assert!(Sha512::digest(std::fs::read(&out).expect("saved")) == Sha512::digest(&payload));
    // 5 ranges and 2 resumes.
    assert_eq!(file_gets(&server, &image.id), 7);
    assert_eq!(entries(dir.path()), vec!["image.raw".to_owned()]);
}

#[tokio::test]
async fn a_range_cut_more_often_than_allowed_is_a_typed_error_and_no_file() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_secs(30));
    let image = image_with(&client, "parallel", &data(SIZE, 4)).await;
    pass_first(&server, 2);
    server
        .add_fault(file_rule(FaultAction::DropAfter { bytes: 1000 }))
        .expect("valid rule");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("image.raw");
    let err = client
        .images()
        .download_to_path_with(&image.id, &out, &four().resume_attempts(2))
        .await
        .expect_err("gives up");
    assert!(matches!(err, Error::ResumeFailed { .. }), "{err}");
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[tokio::test]
async fn a_byte_flipped_in_one_range_is_a_checksum_mismatch_and_no_file() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_secs(30));
    let image = image_with(&client, "parallel", &data(SIZE, 5)).await;
    // The third range (bytes 16 MiB..24 MiB), at its 12345th byte.
    pass_first(&server, 2);
    server
        .add_fault(file_rule(FaultAction::FlipByte { offset: 12_345 }).count(1))
        .expect("valid rule");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("image.raw");
    let err = client
        .images()
        .download_to_path_with(&image.id, &out, &four())
        .await
        .expect_err("corrupt");
    assert!(err.is_checksum_mismatch(), "{err}");
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
    assert_eq!(server.faults()[1].fired, 1);
}

#[tokio::test]
async fn a_range_that_stalls_once_is_resumed_and_one_that_always_stalls_ends_stalled() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_millis(500));
    let payload = data(SIZE, 6);
    let image = image_with(&client, "parallel", &payload).await;
    pass_first(&server, 1);
    server
        .add_fault(file_rule(FaultAction::Stall { bytes: 100_000 }).count(1))
        .expect("valid rule");
    let got = tokio::time::timeout(
        Duration::from_secs(60),
        collect(&client, &image.id, &four()),
    )
    .await
    .expect("within the bound")
    .expect("resumed");
    assert!(Sha512::digest(&got) == Sha512::digest(&payload));

    server.clear_faults();
    pass_first(&server, 1);
    server
        .add_fault(file_rule(FaultAction::Stall { bytes: 1000 }))
        .expect("valid rule");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("image.raw");
    let started = Instant::now();
    let err = tokio::time::timeout(
        Duration::from_secs(60),
        client
            .images()
            .download_to_path_with(&image.id, &out, &four().resume_attempts(2)),
    )
    .await
    .expect("within the bound")
    .expect_err("stalled");
    match &err {
        Error::Stalled { attempts, .. } => assert_eq!(*attempts, 3, "{err}"),
        other => panic!("expected Stalled, got {other}"),
    }
    println!(
        "a range stalling every time: {err} after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[tokio::test]
async fn an_image_replaced_mid_way_is_refused_never_spliced() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_secs(30));
    let payload = data(SIZE, 7);
    let image = image_with(&client, "parallel", &payload).await;
    // The same id on another mock, holding other bytes of the same size:
    // its state replaces this mock's while the download runs.
    let other = MockServer::start().await.expect("mock starts");
    let other_client = client_with(&other, Duration::from_secs(30));
    let replaced = image_from(
        &other_client,
        &raw("parallel").id(&image.id),
        &data(SIZE, 8),
    )
    .await;
    assert_ne!(replaced.checksum, image.checksum);
    let replacement = other.dump_state(DataMode::Inline).await.expect("dumped");
    server
        .add_fault(file_rule(FaultAction::Throttle {
            bytes_per_second: 16 << 20,
        }))
        .expect("valid rule");

    let mut download = client
        .images()
        .download_with(&image.id, &four())
        .await
        .expect("opened")
        .expect("data");
    let mut got = download
        .try_next()
        .await
        .expect("a first chunk")
        .expect("not the end")
        .to_vec();
    server.load_state(replacement).await.expect("replaced");
    let end = loop {
        match download.try_next().await {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    let err = end.expect_err("a replaced image never passes");
    assert!(
        matches!(err, Error::ResumeFailed { .. }) || err.is_checksum_mismatch(),
        "{err}"
    );
    println!("replaced mid-way: {err}");
    // The last chunk is held back until the digest matched: never the
    // whole image.
    assert!(got.len() < SIZE, "{}", got.len());

    // To a path: nothing is left.
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("image.raw");
    let third = data(SIZE, 9);
    let fresh = image_with(&client, "parallel", &payload).await;
    let replacement = {
        let donor = MockServer::start().await.expect("mock starts");
        let donor_client = client_with(&donor, Duration::from_secs(30));
        image_from(&donor_client, &raw("parallel").id(&fresh.id), &third).await;
        donor.dump_state(DataMode::Inline).await.expect("dumped")
    };
    let swap = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        server.load_state(replacement).await.expect("replaced");
    };
    let images = client.images();
    let options = four();
    let (saved, ()) = tokio::join!(
        images.download_to_path_with(&fresh.id, &out, &options),
        swap
    );
    let err = saved.expect_err("a replaced image never passes");
    // Loading a state is not one atomic step for the requests it races
    // with: a range asked for in between finds no image (404), as with an
    // image deleted mid-way. Any of these, and nothing at the path.
    assert!(
        matches!(err, Error::ResumeFailed { .. })
            || err.is_checksum_mismatch()
            || err.is_not_found(),
        "{err}"
    );
    println!("replaced mid-way, to a path: {err}");
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[tokio::test]
async fn a_later_range_failing_ends_the_download_at_once() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_secs(30));
    let image = image_with(&client, "parallel", &data(SIZE, 11)).await;
    // The probe and the next two ranges crawl (8 MiB at 2 MiB/s: 4 s);
    // the fourth request is refused (403, not retried).
    server
        .add_fault(
            file_rule(FaultAction::Throttle {
                bytes_per_second: 2 << 20,
            })
            .count(3),
        )
        .expect("valid rule");
    server
        .add_fault(file_rule(FaultAction::Respond {
            status: 403,
            headers: Default::default(),
            body: None,
        }))
        .expect("valid rule");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("image.raw");
    let started = Instant::now();
    let err = client
        .images()
        .download_to_path_with(&image.id, &out, &four())
        .await
        .expect_err("refused");
    let took = started.elapsed();
    assert!(err.is_forbidden(), "{err}");
    // Not after the ranges before it, which would take 4 s.
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}
