//! [`Client`] and [`ClientBuilder`]: the one entry point.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, USER_AGENT};
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{Error, Result};
use crate::images::Images;
use crate::transport::{self, RequestSpec};

/// A connection to one Image service endpoint. Cheap to clone.
///
/// ```no_run
/// # async fn demo() -> glance_client::Result<()> {
/// let client = glance_client::Client::builder()
///     .endpoint("http://127.0.0.1:9292")
///     .token("my-keystone-token")
///     .build()?;
/// let image = client.images().get("4b7e1b4c-2a5a-4d47-9a51-3fd5a5f0c0de").await?;
/// println!("{} is {}", image.id, image.status);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    endpoint: Url,
    token: Option<String>,
    timeout: Option<Duration>,
}

/// Options for a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    endpoint: Option<String>,
    token: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    user_agent: String,
    insecure: bool,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            endpoint: None,
            token: None,
            timeout: None,
            connect_timeout: Duration::from_secs(30),
            user_agent: format!("glance-client-rust/{}", env!("CARGO_PKG_VERSION")),
            insecure: false,
        }
    }
}

impl ClientBuilder {
    /// The Image service endpoint, e.g. `http://controller:9292` (a trailing
    /// `/v2` is accepted and dropped, as the catalog sometimes carries it).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// A Keystone token, sent as `X-Auth-Token`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// A deadline for whole metadata requests. Data transfers are not cut
    /// off by it (a long download that keeps progressing is not an error).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long to wait for a connection (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// Skip TLS certificate verification (like `--insecure`). Never in production.
    pub fn danger_accept_invalid_certs(mut self, insecure: bool) -> Self {
        self.insecure = insecure;
        self
    }

    /// Check the options and build the client.
    pub fn build(self) -> Result<Client> {
        let raw = self
            .endpoint
            .ok_or_else(|| Error::Config("no Image service endpoint given".into()))?;
        let endpoint = normalise_endpoint(&raw)?;
        let agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| Error::Config("invalid User-Agent".into()))?;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(USER_AGENT, agent);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(self.connect_timeout)
            .danger_accept_invalid_certs(self.insecure)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                endpoint,
                token: self.token,
                timeout: self.timeout,
            }),
        })
    }
}

/// Parse the endpoint and make it end with `/`, without a version suffix.
fn normalise_endpoint(raw: &str) -> Result<Url> {
    let mut url =
        Url::parse(raw).map_err(|e| Error::Config(format!("invalid endpoint {raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Config(format!(
            "invalid endpoint {raw:?}: the scheme must be http or https"
        )));
    }
    let path = url.path().trim_end_matches('/').to_owned();
    let path = path
        .strip_suffix("/v2")
        .or_else(|| path.strip_suffix("/v2.0"))
        .unwrap_or(&path)
        .to_owned();
    url.set_path(&format!("{path}/"));
    url.set_query(None);
    Ok(url)
}

impl Client {
    /// Options for a new client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The endpoint requests go to (always ends with `/`).
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// Image calls: create, get, list, upload, download, delete.
    pub fn images(&self) -> Images<'_> {
        Images::new(self)
    }

    /// Send a request; any non-2xx answer becomes [`Error::Http`].
    pub(crate) async fn send(&self, spec: RequestSpec) -> Result<reqwest::Response> {
        let url = spec.url(&self.inner.endpoint)?;
        let mut req = self
            .inner
            .http
            .request(spec.method.clone(), url.clone())
            .headers(spec.headers);
        if let Some(token) = &self.inner.token {
            req = req.header("x-auth-token", token);
        }
        if let (Some(t), false) = (self.inner.timeout, spec.streams_data) {
            req = req.timeout(t);
        }
        if let Some(body) = spec.body {
            req = req.body(body);
        }
        tracing::debug!(method = %spec.method, %url, "request");
        let resp = req.send().await.map_err(Error::Transport)?;
        tracing::debug!(
            status = resp.status().as_u16(),
            request_id = transport::request_id(resp.headers()).as_deref(),
            "response"
        );
        if transport::is_success(resp.status()) {
            Ok(resp)
        } else {
            Err(transport::error_from(resp).await)
        }
    }

    /// Send a request and decode its JSON answer.
    pub(crate) async fn send_json<T: DeserializeOwned>(&self, spec: RequestSpec) -> Result<T> {
        let resp = self.send(spec).await?;
        let bytes = resp.bytes().await.map_err(Error::Transport)?;
        transport::decode(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_normalised() {
        let n = |s| normalise_endpoint(s).expect("valid").to_string();
        assert_eq!(n("http://h:9292"), "http://h:9292/");
        assert_eq!(n("http://h:9292/v2/"), "http://h:9292/");
        assert_eq!(n("https://h/image/v2"), "https://h/image/");
        assert!(normalise_endpoint("ftp://h").is_err());
        assert!(normalise_endpoint("not a url").is_err());
    }
}
