//! Issue 21 through the library: stalls end in errors that say so within
//! a bound, bodies never overrun the image, error bodies are capped, every
//! hash Glance can write is verified, and what cannot be verified is said.
//! Each case is set up with the mock's fault rules (`stall`,
//! `stall_upload`, `endless`, `respond`, `flip_byte`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use glance_client::images::DownloadOptions;
use glance_client::{Client, CreateImage, Error, Transfer, Verification};
use glance_e2e_tests::fixture::{client_with, data, file_rule, image_with, quick_retries, raw};
use glance_mock_server::config::HashAlgorithm;
use glance_mock_server::control::{FaultAction, FaultRule};
use glance_mock_server::{Config, MockServer};

/// The journal's `METHOD path` lines under `/v2/images/{id}`, with the
/// `Range` asked for left out (the journal has no headers).
fn requests_for(server: &MockServer, id: &str) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|e| e.path.contains(id))
        .map(|e| format!("{} {}", e.method, e.path))
        .collect()
}

#[tokio::test]
async fn a_download_that_stalls_once_is_resumed_and_verified() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_millis(400));
    let payload = data(1000, 3);
    let image = image_with(&client, "never-hang", &payload).await;
    server
        .add_fault(file_rule(FaultAction::Stall { bytes: 100 }).count(1))
        .expect("valid rule");
    let got = client
        .images()
        .download(&image.id)
        .await
        .expect("answered")
        .expect("has data")
        .bytes()
        .await
        .expect("resumed after the stall");
    assert_eq!(got, payload);
    let file_gets = requests_for(&server, &image.id)
        .into_iter()
        .filter(|r| r.starts_with("GET") && r.ends_with("/file"))
        .count();
    assert_eq!(file_gets, 2, "the stalled GET, then the ranged one");
}

#[tokio::test]
async fn a_download_that_stalls_on_every_attempt_ends_in_a_stall_error() {
    let server = MockServer::start().await.expect("mock starts");
    let idle = Duration::from_millis(300);
    let client = client_with(&server, idle);
    let payload = data(1000, 4);
    let image = image_with(&client, "never-hang", &payload).await;
    server
        .add_fault(file_rule(FaultAction::Stall { bytes: 100 }))
        .expect("valid rule");
    let started = Instant::now();
    let options = DownloadOptions::default().resume_attempts(3);
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("out.raw");
    let err = client
        .images()
        .download_to_path_with(&image.id, &target, &options)
        .await
        .expect_err("stalled");
    let took = started.elapsed();
    match &err {
        Error::Stalled {
            transfer: Transfer::Download,
            offset,
            idle: waited,
            attempts,
        } => {
            assert_eq!(*attempts, 4, "the first attempt and 3 resumes");
            assert_eq!(*offset, 400, "100 bytes per attempt");
            assert_eq!(*waited, idle);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("stalled"), "{err}");
    assert!(took < Duration::from_secs(30), "bounded: {took:?}");
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("listed").count(),
        0,
        "nothing left beside the target"
    );
}

type Counter = std::sync::Arc<std::sync::atomic::AtomicUsize>;

/// A server that accepts connections and never says a word; how many it
/// accepted.
async fn silent_server() -> (std::net::SocketAddr, Counter, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("address");
    let accepted = Counter::default();
    let counter = accepted.clone();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(socket);
        }
    });
    (addr, accepted, silent)
}

#[tokio::test]
async fn a_silent_keystone_costs_at_most_two_timeouts() {
    let (addr, accepted, silent) = silent_server().await;
    use glance_client::auth::{Domain, User};
    let client = Client::builder()
        .auth_url(format!("http://{addr}/v3"))
        .password_auth(User::name("demo", Domain::name("Default")), "x")
        .retry(quick_retries().with_max_retries(5))
        .timeout(Duration::from_millis(500))
        .build()
        .expect("builds");
    let err = client.authenticate().await.expect_err("no answer");
    assert!(
        matches!(&err, Error::Transport(e) if e.is_timeout()),
        "{err:?}"
    );
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 2);
    silent.abort();
}

#[tokio::test]
async fn a_server_that_never_answers_costs_at_most_two_timeouts() {
    let (addr, accepted, silent) = silent_server().await;
    let timeout = Duration::from_millis(500);
    for client in [
        // --timeout as the CLI sets it.
        Client::builder()
            .endpoint(format!("http://{addr}"))
            .token("t")
            .retry(quick_retries().with_max_retries(5))
            .timeout(timeout)
            .read_timeout(timeout)
            .build()
            .expect("builds"),
        // Only the library's read timeout.
        Client::builder()
            .endpoint(format!("http://{addr}"))
            .token("t")
            .retry(quick_retries().with_max_retries(5))
            .read_timeout(timeout)
            .build()
            .expect("builds"),
    ] {
        accepted.store(0, std::sync::atomic::Ordering::SeqCst);
        let started = Instant::now();
        let err = client.images().get("x").await.expect_err("no answer");
        let took = started.elapsed();
        assert!(
            matches!(&err, Error::Transport(e) if e.is_timeout()),
            "{err:?}"
        );
        assert_eq!(
            accepted.load(std::sync::atomic::Ordering::SeqCst),
            2,
            "a timed-out request is retried once, not max_retries times"
        );
        assert!(took < timeout * 4, "{took:?}");
        // A download's answer (here without the record read first) is
        // bounded by the read timeout, retried once too.
        accepted.store(0, std::sync::atomic::Ordering::SeqCst);
        let err = client
            .images()
            .download_with("x", &DownloadOptions::unverified())
            .await
            .expect_err("no answer");
        assert!(err.is_stalled(), "{err:?}");
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
    silent.abort();
}

#[tokio::test]
async fn an_upload_the_server_stops_reading_ends_in_a_stall_error() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_millis(500));
    let image = client
        .images()
        .create(&raw("stalled-upload"))
        .await
        .expect("created");
    server
        .add_fault(
            FaultRule::new(FaultAction::StallUpload { bytes: 1000 })
                .method("PUT")
                .path("/v2/images/*/file"),
        )
        .expect("valid rule");
    let payload = data(32 << 20, 5);
    let started = Instant::now();
    let err = client
        .images()
        .upload(&image.id, payload.clone())
        .await
        .expect_err("stalled");
    match &err {
        Error::Stalled {
            transfer: Transfer::Upload,
            offset,
            ..
        } => assert!(*offset < payload.len() as u64, "{offset}"),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("upload stalled"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
    let puts = requests_for(&server, &image.id)
        .into_iter()
        .filter(|r| r.starts_with("PUT"))
        .count();
    assert!(puts <= 1, "never re-sent");
}

#[tokio::test]
async fn an_endless_body_is_stopped_at_the_image_size() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_secs(10));
    let payload = data(1000, 6);
    let image = image_with(&client, "never-hang", &payload).await;
    assert_eq!(image.size, Some(1000));
    server
        .add_fault(file_rule(FaultAction::Endless))
        .expect("valid rule");

    // As a stream: not one byte past the size is delivered.
    let mut download = client
        .images()
        .download(&image.id)
        .await
        .expect("answered")
        .expect("has data");
    let mut delivered = 0usize;
    let err = loop {
        match futures::TryStreamExt::try_next(&mut download).await {
            Ok(Some(chunk)) => delivered += chunk.len(),
            Ok(None) => panic!("an endless body cannot end well"),
            Err(e) => break e,
        }
    };
    assert!(delivered <= 1000, "{delivered}");
    assert!(matches!(err, Error::BodyTooLong { size: 1000 }), "{err:?}");
    assert!(err.to_string().contains("longer than the image"), "{err}");

    // To a file: stopped, and nothing left at the path or beside it.
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("out.raw");
    let err = client
        .images()
        .download_to_path(&image.id, &target)
        .await
        .expect_err("too long");
    assert!(matches!(err, Error::BodyTooLong { .. }), "{err:?}");
    assert_eq!(std::fs::read_dir(dir.path()).expect("listed").count(), 0);
}

#[tokio::test]
async fn error_bodies_are_read_up_to_64_kib() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_secs(10));
    server
        .add_fault(
            FaultRule::new(FaultAction::Respond {
                status: 409,
                headers: BTreeMap::from([("Content-Type".into(), "text/plain".into())]),
                body: Some("x".repeat(4 << 20)),
            })
            .path("/v2/images/*"),
        )
        .expect("valid rule");
    let err = client.images().get("any").await.expect_err("409");
    match &err {
        Error::Http {
            status, message, ..
        } => {
            assert_eq!(status.as_u16(), 409);
            assert!(message.len() <= 64 * 1024, "{} bytes kept", message.len());
            assert!(message.len() >= 60 * 1024, "{} bytes kept", message.len());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_undecodable_body_names_status_request_type_and_first_bytes() {
    let server = MockServer::start().await.expect("mock starts");
    let client = Client::builder()
        .endpoint(server.url())
        .token("a-secret-token")
        .build()
        .expect("builds");
    server
        .add_fault(
            FaultRule::new(FaultAction::Respond {
                status: 200,
                headers: BTreeMap::from([("Content-Type".into(), "text/html".into())]),
                body: Some("<html><body>proxy login</body></html>".into()),
            })
            .path("/v2/images/*"),
        )
        .expect("valid rule");
    let err = client.images().get("abc").await.expect_err("not JSON");
    let line = err.to_string();
    for part in [
        "200 OK",
        "GET",
        "/v2/images/abc",
        "text/html",
        "<html><body>proxy login",
    ] {
        assert!(line.contains(part), "{part:?} missing from {line}");
    }
    assert!(!line.contains("a-secret-token"), "{line}");
}

#[tokio::test]
async fn every_hash_glance_can_write_round_trips_and_catches_a_flipped_byte() {
    let payload = data(300_001, 7);
    for algo in HashAlgorithm::ALL {
        let server = MockServer::builder()
            .config(Config {
                hashing_algorithm: algo,
                ..Config::default()
            })
            .start()
            .await
            .expect("mock starts");
        let client = client_with(&server, Duration::from_secs(10));
        let image = image_with(&client, "never-hang", &payload).await;
        assert_eq!(image.os_hash_algo.as_deref(), Some(algo.name()));
        let download = client
            .images()
            .download(&image.id)
            .await
            .expect("answered")
            .expect("has data");
        assert!(
            matches!(&download.verification, Verification::Digest { algorithm, .. } if algorithm == algo.name()),
            "{algo}: {:?}",
            download.verification
        );
        let got = download
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{algo}: {e}"));
        assert_eq!(got, payload);
        server
            .add_fault(file_rule(FaultAction::FlipByte { offset: 150_000 }).count(1))
            .expect("valid rule");
        let err = client
            .images()
            .download(&image.id)
            .await
            .expect("answered")
            .expect("has data")
            .bytes()
            .await
            .expect_err("flipped");
        assert!(
            matches!(&err, Error::ChecksumMismatch { algorithm, .. } if algorithm == algo.name()),
            "{algo}: {err:?}"
        );
    }
}

#[tokio::test]
async fn an_active_image_without_any_hash_is_reported_unverified() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_secs(10));
    let id = "c0ffee00-0000-4000-8000-000000000001";
    let record = serde_json::json!({
        "id": id, "status": "active", "name": "legacy", "size": 5,
        "visibility": "private", "disk_format": "raw", "container_format": "bare",
        "checksum": null, "os_hash_algo": null, "os_hash_value": null
    });
    let json = BTreeMap::from([("Content-Type".into(), "application/json".into())]);
    server
        .add_fault(
            FaultRule::new(FaultAction::Respond {
                status: 200,
                headers: json,
                body: Some(record.to_string()),
            })
            .method("GET")
            .path(format!("/v2/images/{id}")),
        )
        .expect("valid rule");
    server
        .add_fault(
            FaultRule::new(FaultAction::Respond {
                status: 200,
                headers: BTreeMap::from([(
                    "Content-Type".into(),
                    "application/octet-stream".into(),
                )]),
                body: Some("hello".into()),
            })
            .method("GET")
            .path(format!("/v2/images/{id}/file")),
        )
        .expect("valid rule");
    let download = client
        .images()
        .download(id)
        .await
        .expect("answered")
        .expect("has data");
    assert_eq!(download.verification, Verification::Unavailable);
    assert!(!download.verification.is_verified());
    assert_eq!(download.bytes().await.expect("length checked"), "hello");
    // Saved to a file: the result says so as well.
    let dir = tempfile::tempdir().expect("temp dir");
    let saved = client
        .images()
        .download_to_path(id, dir.path().join("legacy"))
        .await
        .expect("saved")
        .expect("has data");
    assert_eq!(saved.bytes, 5);
    assert_eq!(saved.verification, Verification::Unavailable);
    assert!(!saved.is_verified());
}

#[tokio::test]
async fn a_413_is_not_answered_by_sending_the_data_again() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_secs(10));
    let image = client
        .images()
        .create(&CreateImage::new("full"))
        .await
        .expect("created");
    server
        .add_fault(
            FaultRule::new(FaultAction::Respond {
                status: 413,
                headers: BTreeMap::new(),
                body: None,
            })
            .method("PUT")
            .path("/v2/images/*/file")
            .count(1),
        )
        .expect("valid rule");
    let err = client
        .images()
        .upload(&image.id, data(100_000, 8))
        .await
        .expect_err("413");
    assert!(err.is_over_limit(), "{err:?}");
    let puts = requests_for(&server, &image.id)
        .into_iter()
        .filter(|r| r.starts_with("PUT"))
        .count();
    assert_eq!(puts, 1, "sent once");
}

#[tokio::test]
async fn a_token_close_to_expiry_is_renewed_before_an_upload_starts() {
    let server = MockServer::builder()
        .config(Config {
            require_auth: true,
            identity: glance_mock_server::IdentityConfig {
                // Well within UPLOAD_TOKEN_MARGIN, beyond the usual
                // two-minute refresh margin.
                token_lifetime_secs: 240,
                ..glance_mock_server::IdentityConfig::default()
            },
            ..Config::default()
        })
        .start()
        .await
        .expect("mock starts");
    assert!(glance_client::UPLOAD_TOKEN_MARGIN > Duration::from_secs(240));
    use glance_client::auth::{Domain, Project, User};
    let client = Client::builder()
        .auth_url(server.identity_url())
        .password_auth(User::name("demo", Domain::name("Default")), "demo-secret")
        .project(Project::name("demo", Domain::name("Default")))
        .build()
        .expect("builds");
    let image = client
        .images()
        .create(&raw("renewed"))
        .await
        .expect("created");
    assert_eq!(server.state().keystone.tokens.len(), 1);
    client
        .images()
        .upload(&image.id, data(10_000, 9))
        .await
        .expect("uploaded");
    assert_eq!(
        server.state().keystone.tokens.len(),
        2,
        "a new token before the PUT"
    );
    let shown = client.images().get(&image.id).await.expect("shown");
    assert_eq!(shown.size, Some(10_000));
}

#[tokio::test]
async fn a_directory_target_is_refused_before_anything_is_fetched() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_secs(10));
    let image = image_with(&client, "never-hang", &data(1000, 10)).await;
    server.clear_requests();
    let dir = tempfile::tempdir().expect("temp dir");
    let err = client
        .images()
        .download_to_path(&image.id, dir.path())
        .await
        .expect_err("a directory");
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert!(err.to_string().contains("is a directory"), "{err}");
    assert!(server.requests().is_empty(), "nothing was asked for");
}

#[tokio::test]
async fn signature_properties_are_on_the_model() {
    let server = MockServer::start().await.expect("mock starts");
    let client = client_with(&server, Duration::from_secs(10));
    let image = client
        .images()
        .create(
            &CreateImage::new("signed")
                .property("img_signature", "c2lnbmF0dXJl")
                .property("img_signature_hash_method", "SHA-256")
                .property("img_signature_key_type", "RSA-PSS")
                .property(
                    "img_signature_certificate_uuid",
                    "5c0d0ae6-7d5e-4a4e-9f3b-2b0b1f5b9c11",
                ),
        )
        .await
        .expect("created");
    let sig = client
        .images()
        .get(&image.id)
        .await
        .expect("shown")
        .signature()
        .expect("signed");
    assert_eq!(sig.signature.as_deref(), Some("c2lnbmF0dXJl"));
    assert_eq!(sig.hash_method.as_deref(), Some("SHA-256"));
    assert_eq!(sig.key_type.as_deref(), Some("RSA-PSS"));
    assert_eq!(
        sig.certificate_uuid.as_deref(),
        Some("5c0d0ae6-7d5e-4a4e-9f3b-2b0b1f5b9c11")
    );
    let plain = client
        .images()
        .create(&CreateImage::new("plain"))
        .await
        .expect("created");
    assert!(plain.signature().is_none());
}

#[tokio::test]
async fn keystone_error_bodies_are_capped_too() {
    let server = MockServer::builder()
        .config(Config {
            allow_identity_faults: true,
            ..Config::default()
        })
        .start()
        .await
        .expect("mock starts");
    server
        .add_fault(
            FaultRule::new(FaultAction::Respond {
                status: 401,
                headers: BTreeMap::from([("Content-Type".into(), "text/plain".into())]),
                body: Some("k".repeat(4 << 20)),
            })
            .method("POST")
            .path("/identity/v3/auth/tokens"),
        )
        .expect("valid rule");
    use glance_client::auth::{Domain, Project, User};
    let client = Client::builder()
        .auth_url(server.identity_url())
        .password_auth(User::name("demo", Domain::name("Default")), "demo-secret")
        .project(Project::name("demo", Domain::name("Default")))
        .build()
        .expect("builds");
    match client.authenticate().await.expect_err("refused") {
        Error::Auth { message, .. } => {
            assert!(message.len() <= 64 * 1024, "{} bytes kept", message.len());
        }
        other => panic!("{other:?}"),
    }
}
