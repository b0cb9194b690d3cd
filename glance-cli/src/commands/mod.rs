//! One module per resource: its arguments (clap) and its handlers, each a
//! thin shell over a glance-client call and an `output` function. The
//! commands never see `cli.rs`: it names them, and `cli::run` dispatches.

pub mod cache;
pub mod data;
pub mod images;
pub mod import;
pub mod info;
pub mod locations;
pub mod members;
pub mod metadefs;
pub mod tasks;

use anyhow::Result;
use glance_client::Client;

use crate::output::Format;

/// What every handler gets besides its own arguments.
pub struct Ctx<'a> {
    /// The Image service.
    pub client: &'a Client,
    /// `-f/--format`.
    pub format: Format,
    /// `-v/--verbose`.
    pub verbose: bool,
    /// Whether `--os-image-url` (or `OS_IMAGE_URL`) named the endpoint:
    /// the cache commands need one server, not a load balancer.
    pub endpoint_given: bool,
}

/// A JSON argument (`--metadata`, `--input`, `--schema`…) that must be an
/// object, or `message` as the error.
pub fn json_object(
    text: &str,
    message: &str,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => anyhow::bail!("{message}"),
    }
}
