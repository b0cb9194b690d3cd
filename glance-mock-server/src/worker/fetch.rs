//! Fetching external data (web-download, glance-download, the legacy
//! import task) as Glance's `open_external_uri` does: the URI, and every
//! redirect, must pass the import filter; anything but a 2xx answer fails.

use std::io;
use std::net::{IpAddr, ToSocketAddrs};
use std::time::Duration;

use futures::StreamExt;

use std::sync::Arc;

use crate::config::ImportFiltering;
use crate::control::files::ServedFiles;
use crate::domain::import::uri;
use crate::store::DataStream;

/// urllib's `HTTPRedirectHandler.max_redirections`.
const MAX_REDIRECTS: usize = 10;

/// `validate_uri`: whether `uri` passes the import filter (its host
/// resolved now). The use cases check URIs before a task exists, so the
/// check is theirs; the worker's fetches use the same one.
pub use crate::app::import::admitted;

/// The same check inside reqwest's (synchronous) redirect policy.
fn admitted_blocking(url: &str, filter: &ImportFiltering, files: &ServedFiles) -> bool {
    if let Some((host, port, path)) = crate::app::import::fetched_from(url) {
        let addrs: Vec<IpAddr> = match host {
            url::Host::Domain(name) => (name.as_str(), port)
                .to_socket_addrs()
                .map(|a| a.map(|s| s.ip()).collect())
                .unwrap_or_default(),
            url::Host::Ipv4(ip) => vec![IpAddr::V4(ip)],
            url::Host::Ipv6(ip) => vec![IpAddr::V6(ip)],
        };
        if files.is_own_file(&addrs, port, &path) {
            return true;
        }
    }
    let Some(target) = uri::screen(url, filter) else {
        return false;
    };
    let addrs: Vec<IpAddr> = match uri::literal_ip(&target.host) {
        Some(ip) => vec![ip],
        None => (target.host.as_str(), target.port)
            .to_socket_addrs()
            .map(|a| a.map(|s| s.ip()).collect())
            .unwrap_or_default(),
    };
    uri::admit(&target, &addrs, filter)
}

/// An HTTP client that follows only redirects the filter admits (or
/// that lead to one of the mock's own `files`).
pub fn client(filter: &ImportFiltering, files: Arc<ServedFiles>) -> reqwest::Client {
    let filter = filter.clone();
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if admitted_blocking(attempt.url().as_str(), &filter, &files) {
            attempt.follow()
        } else {
            let refused = format!("Redirect to disallowed URL: {}", attempt.url());
            attempt.error(refused)
        }
    });
    reqwest::Client::builder()
        .redirect(policy)
        .connect_timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Why a fetch failed (the task only says it failed).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URI does not pass the import filter.
    #[error("URI does not pass filtering: {0}")]
    Filtered(String),
    /// The request failed, or the answer was not a success.
    #[error("fetching {uri} failed: {reason}")]
    Failed {
        /// What was fetched.
        uri: String,
        /// Why it failed.
        reason: String,
    },
}

/// An opened download: its announced length (`Content-Length`) and body.
pub struct Download {
    /// `Content-Length`, if the server sent one.
    pub length: Option<u64>,
    /// The body.
    pub data: DataStream,
}

/// `GET uri` (with `X-Auth-Token: token` when given), after the filter.
pub async fn open(
    client: &reqwest::Client,
    uri: &str,
    token: Option<&str>,
    filter: &ImportFiltering,
    files: &ServedFiles,
) -> Result<Download, FetchError> {
    if !admitted(uri, filter, files).await {
        return Err(FetchError::Filtered(uri.to_owned()));
    }
    let failed = |reason: String| FetchError::Failed {
        uri: uri.to_owned(),
        reason,
    };
    let mut request = client.get(uri);
    if let Some(token) = token {
        request = request.header("X-Auth-Token", token);
    }
    let resp = request.send().await.map_err(|e| failed(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(failed(format!("HTTP {}", resp.status())));
    }
    let length = resp.content_length();
    let data = resp
        .bytes_stream()
        .map(|r| r.map_err(io::Error::other))
        .boxed();
    Ok(Download { length, data })
}

/// `GET uri` and its body as JSON.
pub async fn json(
    client: &reqwest::Client,
    uri: &str,
    token: Option<&str>,
    filter: &ImportFiltering,
    files: &ServedFiles,
) -> Result<serde_json::Value, FetchError> {
    let mut download = open(client, uri, token, filter, files).await?;
    let mut body = Vec::new();
    while let Some(chunk) = download.data.next().await {
        let chunk = chunk.map_err(|e| FetchError::Failed {
            uri: uri.to_owned(),
            reason: e.to_string(),
        })?;
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| FetchError::Failed {
        uri: uri.to_owned(),
        reason: e.to_string(),
    })
}
