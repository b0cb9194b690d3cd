//! The client under faults, in bulk: the figures of RELIABILITY.md's
//! "Client under faults". Random offsets come from a fixed seed, so a
//! failure names a run that can be replayed.
//!
//! ```text
//! GLANCE_FAULT_RUNS=1000 GLANCE_DROP_RUNS=20 \
//!   cargo test -p glance-e2e-tests --test it client_under_faults:: -- --nocapture
//! ```

use glance_e2e_tests::fixture::data;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use glance_client::images::DownloadOptions;
use glance_client::{Client, ContainerFormat, CreateImage, DiskFormat, Error, Image, RetryConfig};
use glance_mock_server::MockServer;
use glance_mock_server::control::{FaultAction, FaultRule};
use sha2::{Digest, Sha512};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn runs(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn client_of(server: &MockServer, retry: RetryConfig) -> Client {
    Client::builder()
        .endpoint(server.url())
        .token("e2e")
        .retry(retry)
        .build()
        .expect("client builds")
}

fn quick_retries() -> RetryConfig {
    RetryConfig::default()
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

async fn image_with(client: &Client, payload: &[u8]) -> Image {
    let images = client.images();
    let image = images
        .create(
            &CreateImage::new("under-faults")
                .disk_format(DiskFormat::Raw)
                .container_format(ContainerFormat::Bare),
        )
        .await
        .expect("created");
    images
        .upload(&image.id, payload.to_vec())
        .await
        .expect("uploaded");
    image
}

async fn download(client: &Client, id: &str) -> Result<Vec<u8>, Error> {
    match client.images().download(id).await? {
        Some(d) => d.bytes().await.map(|b| b.to_vec()),
        None => Ok(Vec::new()),
    }
}

fn file_rule(action: FaultAction, count: u64) -> FaultRule {
    FaultRule::new(action)
        .method("GET")
        .path("/v2/images/*/file")
        .count(count)
}

fn respond(status: u16, retry_after: &str) -> FaultAction {
    FaultAction::Respond {
        status,
        headers: BTreeMap::from([("Retry-After".to_owned(), retry_after.to_owned())]),
        body: None,
    }
}

#[tokio::test]
async fn a_corrupted_byte_at_a_random_offset_is_always_detected() {
    let n = runs("GLANCE_FAULT_RUNS", 1000);
    let server = MockServer::start().await.expect("mock starts");
    let client = client_of(&server, quick_retries());
    let payload = data((1 << 20) + 7, 1);
    let image = image_with(&client, &payload).await;
    let mut rng = fastrand::Rng::with_seed(0x61a9ce);
    let started = Instant::now();
    for run in 0..n {
        let offset = rng.u64(0..payload.len() as u64);
        server
            .add_fault(file_rule(FaultAction::FlipByte { offset }, 1))
            .expect("valid rule");
        match download(&client, &image.id).await {
            Err(Error::ChecksumMismatch { .. }) => {}
            other => panic!("run {run}, flip at {offset}: {:?}", other.map(|b| b.len())),
        }
        server.clear_faults();
    }
    // The image itself is intact: a clean download still verifies.
    assert!(download(&client, &image.id).await.expect("clean") == payload);
    println!(
        "flipped byte: {n} of {n} runs detected (1 MiB + 7 image) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test]
async fn dropped_connections_during_a_64_mib_download_are_resumed_and_verified() {
    let n = runs("GLANCE_DROP_RUNS", 6);
    let server = MockServer::start().await.expect("mock starts");
    let client = client_of(&server, quick_retries());
    let payload = data(64 << 20, 2);
    let expected = Sha512::digest(&payload);
    let image = image_with(&client, &payload).await;
    let mut rng = fastrand::Rng::with_seed(0xd209);
    let started = Instant::now();
    let mut drops = 0;
    for run in 0..n {
        // One to three breaks per download: the first response and then
        // the ranged ones (each cut at a random point of its own body).
        let breaks = 1 + run % 3;
        let offset = rng.u64(0..payload.len() as u64);
        server
            .add_fault(file_rule(FaultAction::DropAfter { bytes: offset }, breaks))
            .expect("valid rule");
        let got = download(&client, &image.id)
            .await
            .unwrap_or_else(|e| panic!("run {run}, drop at {offset} ×{breaks}: {e}"));
        assert!(
            Sha512::digest(&got) == expected,
            "run {run}: wrong bytes returned as success"
        );
        drops += breaks;
        server.clear_faults();
    }
    println!(
        "dropped connections: {n} of {n} 64 MiB downloads resumed and verified \
         ({drops} breaks) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test]
async fn storms_of_503_and_429_are_ridden_out_and_posts_are_never_replayed() {
    let server = MockServer::start().await.expect("mock starts");
    // Five transient answers in a row: a budget of six retries.
    let client = client_of(&server, quick_retries().with_max_retries(6));
    let image = image_with(&client, b"x").await;
    server.clear_requests();

    // 3 × 503 then 2 × 429, all with Retry-After: the GET succeeds.
    server
        .add_fault(
            FaultRule::new(respond(503, "0"))
                .method("GET")
                .path("/v2/images/*")
                .count(3),
        )
        .expect("valid rule");
    server
        .add_fault(
            FaultRule::new(respond(429, "0"))
                .method("GET")
                .path("/v2/images/*")
                .count(2),
        )
        .expect("valid rule");
    client.images().get(&image.id).await.expect("ridden out");
    let statuses: Vec<u16> = server
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [503, 503, 503, 429, 429, 200]);

    // A POST that meets a 503 is sent once, and the error says so.
    server.clear_faults();
    server.clear_requests();
    server
        .add_fault(
            FaultRule::new(respond(503, "0"))
                .method("POST")
                .path("/v2/images")
                .count(1),
        )
        .expect("valid rule");
    let err = client
        .images()
        .create(&CreateImage::new("once"))
        .await
        .expect_err("503");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    let posts = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 1, "a POST was replayed");

    // An endless storm: the retry budget runs out, and the final error
    // carries the last status and its request id.
    server.clear_faults();
    server
        .add_fault(
            FaultRule::new(respond(503, "0"))
                .method("GET")
                .path("/v2/images/*"),
        )
        .expect("valid rule");
    let limited = client_of(&server, quick_retries().with_max_retries(4));
    server.clear_requests();
    let err = limited.images().get(&image.id).await.expect_err("gives up");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert!(err.request_id().is_some(), "{err:?}");
    assert_eq!(server.requests().len(), 5, "1 try + 4 retries");
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let server = MockServer::start().await.expect("mock starts");
    let seed = client_of(&server, quick_retries());
    let image = image_with(&seed, b"x").await;
    server
        .add_fault(
            FaultRule::new(FaultAction::Delay { ms: 3_000 })
                .method("GET")
                .path("/v2/images/*"),
        )
        .expect("valid rule");
    let impatient = Client::builder()
        .endpoint(server.url())
        .token("e2e")
        .timeout(Duration::from_millis(300))
        .retry(RetryConfig::disabled())
        .build()
        .expect("client builds");
    let started = Instant::now();
    let err = impatient
        .images()
        .get(&image.id)
        .await
        .expect_err("times out");
    assert!(
        matches!(err, Error::Transport(ref e) if e.is_timeout()),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_millis(2_500));
}

/// A server whose `/file` answer trickles `chunks` pieces of 64 KiB, with
/// `pause` between them; its base URL.
async fn trickling_server(chunks: usize, pause: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let piece = vec![7u8; 64 * 1024];
                let header = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n\
                     content-length: {}\r\n\r\n",
                    piece.len() * chunks
                );
                if socket.write_all(header.as_bytes()).await.is_err() {
                    return;
                }
                for _ in 0..chunks {
                    tokio::time::sleep(pause).await;
                    if socket.write_all(&piece).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_slow_but_progressing_download_is_not_killed_and_a_stall_is() {
    // 8 pieces, 100 ms apart: 800 ms in all, beyond the 300 ms request
    // timeout, but never 300 ms without data.
    let url = trickling_server(8, Duration::from_millis(100)).await;
    let client = Client::builder()
        .endpoint(&url)
        .token("t")
        .timeout(Duration::from_millis(300))
        .read_timeout(Duration::from_millis(300))
        .retry(RetryConfig::disabled())
        .build()
        .expect("client builds");
    let got = client
        .images()
        .download_with("any", &DownloadOptions::unverified())
        .await
        .expect("answered")
        .expect("data")
        .bytes()
        .await
        .expect("not killed while progressing");
    assert_eq!(got.len(), 8 * 64 * 1024);

    // A stall longer than the read timeout is an error, not a hang.
    let url = trickling_server(2, Duration::from_millis(1_000)).await;
    let client = Client::builder()
        .endpoint(&url)
        .token("t")
        .read_timeout(Duration::from_millis(300))
        .retry(RetryConfig::disabled())
        .build()
        .expect("client builds");
    let outcome = match client
        .images()
        .download_with("any", &DownloadOptions::unverified().resume_attempts(0))
        .await
    {
        Ok(Some(d)) => d.bytes().await.map(|b| b.len()),
        Ok(None) => Ok(0),
        Err(e) => Err(e),
    };
    assert!(
        outcome.is_err(),
        "a stalled transfer succeeded: {outcome:?}"
    );
}
