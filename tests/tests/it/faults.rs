//! glance-client against a misbehaving mock: fault rules from the mock's
//! control plane, and what the client makes of them (retries of idempotent
//! requests only, typed errors for corrupt or short data, never wrong
//! bytes as success); then reset, seeding and the request journal as a
//! test harness sees them.

use glance_e2e_tests::fixture::{data, image_with, raw, setup};
use std::collections::BTreeMap;

use futures::TryStreamExt;
use glance_client::auth::{Domain, Project, User};
use glance_client::{Client, Error, Image, ListImages, RetryConfig};
use glance_mock_server::MockServer;
use glance_mock_server::control::{DataMode, FaultAction, FaultRule};

fn respond(status: u16, headers: &[(&str, &str)]) -> FaultAction {
    FaultAction::Respond {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        body: None,
    }
}

/// The journal's `METHOD path -> status` lines for paths starting with `prefix`.
fn seen(server: &MockServer, prefix: &str) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|e| e.path.starts_with(prefix))
        .map(|e| format!("{} {} -> {}", e.method, e.path, e.status))
        .collect()
}

#[tokio::test]
async fn a_503_with_retry_after_on_get_is_retried_until_it_succeeds() {
    let (server, client) = setup().await;
    let image = client
        .images()
        .create(&raw("retried"))
        .await
        .expect("created");
    let path = format!("/v2/images/{}", image.id);
    let rule = server
        .add_fault(
            FaultRule::new(respond(503, &[("Retry-After", "0")]))
                .method("GET")
                .path(path.clone())
                .count(2),
        )
        .expect("valid rule");
    server.clear_requests();

    let shown = client
        .images()
        .get(&image.id)
        .await
        .expect("third time lucky");
    assert_eq!(shown.id, image.id);
    assert_eq!(
        seen(&server, &path),
        vec![
            format!("GET {path} -> 503"),
            format!("GET {path} -> 503"),
            format!("GET {path} -> 200"),
        ]
    );
    let faulted: Vec<Option<String>> = server.requests().into_iter().map(|e| e.fault).collect();
    assert_eq!(faulted, vec![Some(rule.id.clone()), Some(rule.id), None]);
}

#[tokio::test]
async fn a_failed_post_is_not_sent_again() {
    let (server, client) = setup().await;
    server
        .add_fault(
            FaultRule::new(respond(503, &[("Retry-After", "0")]))
                .method("POST")
                .path("/v2/images")
                .count(1),
        )
        .expect("valid rule");

    let err = client
        .images()
        .create(&raw("once"))
        .await
        .expect_err("the 503 is the answer");
    match err {
        Error::Http { status, .. } => assert_eq!(status.as_u16(), 503),
        other => panic!("expected the 503, got {other:?}"),
    }
    assert_eq!(seen(&server, "/v2/images"), vec!["POST /v2/images -> 503"]);
    let images: Vec<Image> = client
        .images()
        .list(ListImages::new())
        .try_collect()
        .await
        .expect("listed");
    assert!(images.is_empty());
}

/// A download with `action` on its data response, collected.
async fn faulted_download(action: FaultAction) -> (Vec<u8>, Result<bytes::Bytes, Error>) {
    let (server, client) = setup().await;
    let payload = data(300_000, 7);
    let image = image_with(&client, "faulted", &payload).await;
    server
        .add_fault(
            FaultRule::new(action)
                .method("GET")
                .path("/v2/images/*/file")
                .count(1),
        )
        .expect("valid rule");
    let outcome = match client.images().download(&image.id).await {
        Ok(Some(download)) => download.bytes().await,
        Ok(None) => panic!("the image has data"),
        Err(e) => Err(e),
    };
    (payload, outcome)
}

#[tokio::test]
async fn a_flipped_byte_ends_in_a_checksum_mismatch() {
    let (_, outcome) = faulted_download(FaultAction::FlipByte { offset: 123_456 }).await;
    match outcome {
        Err(Error::ChecksumMismatch { algorithm, .. }) => assert_eq!(algorithm, "sha512"),
        other => panic!("expected a checksum mismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn a_truncated_body_ends_in_a_typed_error() {
    let (_, outcome) = faulted_download(FaultAction::Truncate { bytes: 100_000 }).await;
    match outcome {
        Err(Error::Incomplete { .. } | Error::ChecksumMismatch { .. }) => {}
        other => panic!("expected a short-data error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_dropped_connection_is_resumed_and_verified() {
    let (payload, outcome) = faulted_download(FaultAction::DropAfter { bytes: 70_000 }).await;
    // The rule fires once: the client asks for the rest with Range and
    // checks the whole image's digest across both responses.
    match outcome {
        Ok(bytes) => assert!(bytes.to_vec() == payload, "wrong bytes returned as success"),
        Err(other) => panic!("the drop was not resumed: {other:?}"),
    }
}

/// Offsets that matter for a 1 MiB + 7 image: the first byte, a chunk
/// boundary, inside the final chunk, and the final byte.
const SIZE: usize = (1 << 20) + 7;
const OFFSETS: [u64; 4] = [0, 65_536, SIZE as u64 - 4_000, SIZE as u64 - 1];

/// Download a fresh 1 MiB + 7 image once with `action` applied to the
/// first GET of its data.
async fn faulted_large(action: FaultAction) -> (Vec<u8>, Result<Vec<u8>, Error>) {
    let (server, client) = setup().await;
    let payload = data(SIZE, 11);
    let image = image_with(&client, "faulted-large", &payload).await;
    server
        .add_fault(
            FaultRule::new(action)
                .method("GET")
                .path("/v2/images/*/file")
                .count(1),
        )
        .expect("valid rule");
    let outcome = match client.images().download(&image.id).await {
        Ok(Some(download)) => download.bytes().await.map(|b| b.to_vec()),
        Ok(None) => panic!("the image has data"),
        Err(e) => Err(e),
    };
    (payload, outcome)
}

#[tokio::test]
async fn corruption_at_any_offset_is_always_detected() {
    for offset in OFFSETS {
        let (_, outcome) = faulted_large(FaultAction::FlipByte { offset }).await;
        assert!(
            matches!(outcome, Err(Error::ChecksumMismatch { .. })),
            "flip at {offset}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn drops_at_any_offset_are_resumed_and_verified() {
    for offset in OFFSETS {
        let (payload, outcome) = faulted_large(FaultAction::DropAfter { bytes: offset }).await;
        match outcome {
            Ok(bytes) => assert!(bytes == payload, "drop at {offset}: wrong bytes"),
            Err(e) => panic!("drop at {offset} not resumed: {e:?}"),
        }
    }
}

#[tokio::test]
async fn truncation_at_any_offset_never_succeeds() {
    for offset in OFFSETS {
        let (_, outcome) = faulted_large(FaultAction::Truncate { bytes: offset }).await;
        assert!(
            matches!(
                outcome,
                Err(Error::Incomplete { .. } | Error::ChecksumMismatch { .. })
            ),
            "truncated at {offset}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn reset_and_seed_round_trip_for_the_client() {
    let (server, client) = setup().await;
    let payload = data(50_000, 3);
    let image = image_with(&client, "kept", &payload).await;
    client
        .images()
        .add_tag(&image.id, "golden")
        .await
        .expect("tagged");
    let seed = server.dump_state(DataMode::Inline).await.expect("dumped");

    server.reset().await.expect("reset");
    assert!(
        client
            .images()
            .get_opt(&image.id)
            .await
            .expect("asked")
            .is_none()
    );

    server.load_state(seed.clone()).await.expect("seeded");
    assert_eq!(
        server.dump_state(DataMode::Inline).await.expect("dumped"),
        seed
    );
    let back = client.images().get(&image.id).await.expect("back");
    assert_eq!(back.tags, vec!["golden".to_owned()]);
    let bytes = client
        .images()
        .download(&image.id)
        .await
        .expect("download starts")
        .expect("has data")
        .bytes()
        .await
        .expect("verified");
    assert_eq!(bytes.to_vec(), payload);

    // A fresh mock started from the seed serves the same.
    let other = MockServer::builder()
        .seed(seed.clone())
        .start()
        .await
        .expect("starts seeded");
    assert_eq!(
        other.dump_state(DataMode::Inline).await.expect("dumped"),
        seed
    );
}

#[tokio::test]
async fn the_journal_records_what_the_client_sent_and_as_whom() {
    let server = MockServer::start().await.expect("mock starts");
    let client = Client::builder()
        .auth_url(server.identity_url())
        .password_auth(User::name("demo", Domain::name("Default")), "demo-secret")
        .project(Project::name("demo", Domain::name("Default")))
        .retry(RetryConfig::disabled())
        .build()
        .expect("builds");
    let images: Vec<Image> = client
        .images()
        .list(ListImages::new().name("wanted").page_size(5))
        .try_collect()
        .await
        .expect("listed");
    assert!(images.is_empty());

    let journal = server.requests();
    let login = journal
        .iter()
        .find(|e| e.path == "/identity/v3/auth/tokens")
        .expect("the client logged in");
    assert_eq!((login.method.as_str(), login.status), ("POST", 201));
    let list = journal
        .iter()
        .find(|e| e.path == "/v2/images")
        .expect("the client listed");
    assert_eq!(list.method, "GET");
    assert_eq!(list.status, 200);
    assert_eq!(list.project_id.as_deref(), Some("demo"));
    assert_eq!(list.user_id.as_deref(), Some("demo"));
    let query = list.query.as_deref().unwrap_or_default();
    assert!(query.contains("name=wanted"), "{query}");
    assert!(query.contains("limit=5"), "{query}");
}
