//! The one harness of the client's tests: the client of a test server
//! ([`client`]), Glance-shaped records and errors for wiremock stubs, and
//! the raw HTTP server of the download faults the mock cannot produce
//! ([`flaky`]).

#![allow(dead_code)]

pub mod flaky;

use std::time::Duration;

use glance_client::{Client, ClientBuilder, RetryConfig};
use serde_json::{Value, json};
use wiremock::MockServer;

pub const ID: &str = "8a1f6a3e-4f0a-4b5e-9d6f-1c2b3a4d5e6f";

/// A server the tests talk to: its base URL.
pub trait Endpoint {
    fn endpoint(&self) -> String;
}

impl Endpoint for MockServer {
    fn endpoint(&self) -> String {
        self.uri()
    }
}

impl Endpoint for glance_mock_server::MockServer {
    fn endpoint(&self) -> String {
        self.url()
    }
}

impl Endpoint for str {
    fn endpoint(&self) -> String {
        self.to_owned()
    }
}

impl Endpoint for String {
    fn endpoint(&self) -> String {
        self.clone()
    }
}

/// Quick retries: 1 ms, then at most 5 ms between attempts.
pub fn quick_retries() -> RetryConfig {
    RetryConfig::default()
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

/// A builder for a client of `server` with token `t` and
/// [`quick_retries`].
pub fn builder(server: &(impl Endpoint + ?Sized)) -> ClientBuilder {
    Client::builder()
        .endpoint(server.endpoint())
        .token("t")
        .retry(quick_retries())
}

/// A client of `server` (token `t`) that retries quickly.
pub fn client(server: &(impl Endpoint + ?Sized)) -> Client {
    builder(server).build().expect("client builds")
}

/// A Glance image record with `extra` merged in.
pub fn image_json(extra: Value) -> Value {
    let mut base = json!({
        "id": ID, "name": "n", "status": "active", "visibility": "shared",
        "protected": false, "os_hidden": false, "checksum": null, "owner": "p",
        "size": null, "virtual_size": null, "container_format": "bare", "disk_format": "raw",
        "min_ram": 0, "min_disk": 0, "tags": [], "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z", "os_hash_algo": null, "os_hash_value": null,
        "self": format!("/v2/images/{ID}"), "file": format!("/v2/images/{ID}/file"),
        "schema": "/v2/schemas/image"
    });
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    base
}

/// A JSON error as Glance renders it for `Accept: application/json`.
pub fn glance_error(status: u16, text: &str) -> wiremock::ResponseTemplate {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    wiremock::ResponseTemplate::new(status)
        .insert_header("x-openstack-request-id", "req-err")
        .set_body_json(json!({
            "message": format!("{text}<br /><br />\n\n\n"),
            "code": format!("{status} {reason}"),
            "title": reason,
        }))
}

/// Method, path and query of every request the server received.
pub async fn requests(server: &MockServer) -> Vec<(String, String)> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let q = r.url.query().map(|q| format!("?{q}")).unwrap_or_default();
            (r.method.to_string(), format!("{}{q}", r.url.path()))
        })
        .collect()
}
