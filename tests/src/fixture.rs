//! What the client-against-mock tests start from: an in-process mock with a
//! client pointed at it, a raw image to create (with data), fault rules on
//! the data path, and test data.

use std::path::Path;
use std::time::Duration;

use glance_client::{Client, ContainerFormat, CreateImage, DiskFormat, Image, RetryConfig};
use glance_mock_server::control::{FaultAction, FaultRule};
use glance_mock_server::{Config, IdentityConfig, MockServer};
use sha2::{Digest, Sha512};

/// A mock on `127.0.0.1:0` and a client using it with a static token.
pub async fn setup() -> (MockServer, Client) {
    let server = MockServer::start().await.expect("mock starts");
    let client = Client::builder()
        .endpoint(server.url())
        .token("e2e")
        .build()
        .expect("client builds");
    (server, client)
}

/// A mock that lets through on `/v2` only the tokens its identity shim
/// issued.
pub async fn strict_server(identity: IdentityConfig) -> MockServer {
    MockServer::builder()
        .config(Config {
            require_auth: true,
            identity,
            ..Config::default()
        })
        .start()
        .await
        .expect("mock starts")
}

/// Retries that back off for milliseconds, not seconds.
pub fn quick_retries() -> RetryConfig {
    RetryConfig::default()
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

/// A client of `server` with [`quick_retries`] and `read_timeout`.
pub fn client_with(server: &MockServer, read_timeout: Duration) -> Client {
    Client::builder()
        .endpoint(server.url())
        .token("e2e")
        .retry(quick_retries())
        .read_timeout(read_timeout)
        .build()
        .expect("client builds")
}

/// A `raw`/`bare` image named `name`.
pub fn raw(name: &str) -> CreateImage {
    CreateImage::new(name)
        .disk_format(DiskFormat::Raw)
        .container_format(ContainerFormat::Bare)
}

/// The image `create` makes, with `payload` uploaded, as shown after.
pub async fn image_from(client: &Client, create: &CreateImage, payload: &[u8]) -> Image {
    let images = client.images();
    let image = images.create(create).await.expect("created");
    images
        .upload(&image.id, payload.to_vec())
        .await
        .expect("uploaded");
    images.get(&image.id).await.expect("shown")
}

/// A [`raw`] image named `name` holding `payload`.
pub async fn image_with(client: &Client, name: &str, payload: &[u8]) -> Image {
    image_from(client, &raw(name), payload).await
}

/// A fault rule on every image data download.
pub fn file_rule(action: FaultAction) -> FaultRule {
    FaultRule::new(action)
        .method("GET")
        .path("/v2/images/*/file")
}

/// Let the first `n` data requests through untouched, so that the next
/// rule acts on a later range, not on the first.
pub fn pass_first(server: &MockServer, n: u64) {
    server
        .add_fault(file_rule(FaultAction::Delay { ms: 0 }).count(n))
        .expect("valid rule");
}

/// The data requests the journal saw for image `id`.
pub fn file_gets(server: &MockServer, id: &str) -> usize {
    server
        .requests()
        .into_iter()
        .filter(|e| e.method == "GET" && e.path == format!("/v2/images/{id}/file"))
        .count()
}

/// The names in `dir` (to show that nothing was left there).
pub fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("listed")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// Deterministic, non-repeating test data: SHA-512 blocks of `seed` and a
/// counter, so no two offsets (or seeds) hold the same bytes.
pub fn data(len: usize, seed: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut block = 0u64;
    while out.len() < len {
        out.extend_from_slice(&Sha512::digest(
            [&[seed][..], &block.to_le_bytes()].concat(),
        ));
        block += 1;
    }
    out.truncate(len);
    out
}
