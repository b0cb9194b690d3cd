//! What the client-against-mock tests start from: an in-process mock with a
//! client pointed at it, a raw image to create, and test data.

use glance_client::{Client, ContainerFormat, CreateImage, DiskFormat};
use glance_mock_server::MockServer;
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

/// A `raw`/`bare` image named `name`.
pub fn raw(name: &str) -> CreateImage {
    CreateImage::new(name)
        .disk_format(DiskFormat::Raw)
        .container_format(ContainerFormat::Bare)
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
