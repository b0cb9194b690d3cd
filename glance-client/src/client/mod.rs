//! [`Client`] and [`ClientBuilder`]: the one entry point.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

use tokio::sync::OnceCell;

use crate::auth::{
    AppCredential, AuthOptions, Credentials, Domain, Interface, KeystoneSession, Project, Scope,
    Secret, TokenInfo, User,
};
use crate::error::{Error, Result, Transfer};
use crate::images::Images;
use crate::retry::{self, RetryConfig};
use crate::transport::{self, Payload, REQUEST_ID_HEADER, RequestSpec};
use crate::versions::VersionCache;

/// A connection to one Image service endpoint. Cheap to clone (clones share
/// the connection pool and the cached version document).
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
    /// Sent as `X-OpenStack-Request-ID` on every request of this handle.
    global_request_id: Option<HeaderValue>,
}

struct Inner {
    http: reqwest::Client,
    /// Headers the builder's own client sends by default, sent with each
    /// request instead when the caller gave the HTTP client.
    default_headers: HeaderMap,
    /// Set at build time, or taken from the catalog on first use.
    endpoint: OnceCell<Url>,
    auth: Auth,
    timeout: Option<Duration>,
    read_timeout: Duration,
    retry: RetryConfig,
    versions: VersionCache,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The HTTP client is left out: it would show the default headers,
        // which may hold credentials.
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint.get().map(Url::as_str))
            .field("auth", &self.auth)
            .field("timeout", &self.timeout)
            .field("read_timeout", &self.read_timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Where the credentials of each request come from. Applied per attempt:
/// a Keystone session hands out its current token, replaced when it is
/// about to expire or after a 401.
#[derive(Clone)]
enum Auth {
    None,
    Token(HeaderValue),
    Keystone(Arc<KeystoneSession>),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Token(_) => f.write_str("Token(<redacted>)"),
            Auth::Keystone(session) => session.fmt(f),
        }
    }
}

/// Options for a [`Client`].
///
/// ```no_run
/// use std::time::Duration;
/// use glance_client::{Client, RetryConfig};
///
/// # fn demo() -> glance_client::Result<()> {
/// let client = Client::builder()
///     .endpoint("https://image.example.org:9292")
///     .token("a-keystone-token")
///     .ca_cert_file("/etc/ssl/openstack-ca.pem")
///     .client_cert_file("/etc/glance/client.pem", "/etc/glance/client.key")
///     .timeout(Duration::from_secs(120))
///     .retry(RetryConfig::default().with_max_retries(5))
///     .user_agent("my-tool/1.0")
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    endpoint: Option<String>,
    token: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    read_timeout: Duration,
    user_agent: String,
    insecure: bool,
    default_headers: Vec<(String, String)>,
    ca_certs: Vec<Source>,
    identity: Option<(Source, Option<Source>)>,
    retry: RetryConfig,
    auth: AuthOptions,
    global_request_id: Option<String>,
    http_client: Option<reqwest::Client>,
}

/// PEM data, given in memory or as a file read when the client is built.
#[derive(Clone)]
enum Source {
    File(PathBuf),
    Pem(Vec<u8>),
}

impl Source {
    fn read(&self) -> Result<Vec<u8>> {
        match self {
            Source::File(path) => std::fs::read(path)
                .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display()))),
            Source::Pem(pem) => Ok(pem.clone()),
        }
    }
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("user_agent", &self.user_agent)
            .field("insecure", &self.insecure)
            .field(
                "default_headers",
                &self
                    .default_headers
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("ca_certs", &self.ca_certs.len())
            .field("client_identity", &self.identity.is_some())
            .field("retry", &self.retry)
            .field("auth_url", &self.auth.auth_url)
            .field("credentials", &self.auth.credentials)
            .field("scope", &self.auth.scope)
            .field("interface", &self.auth.interface)
            .field("region", &self.auth.region)
            .field("http_client", &self.http_client.is_some())
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            endpoint: None,
            token: None,
            timeout: None,
            connect_timeout: None,
            read_timeout: DEFAULT_READ_TIMEOUT,
            user_agent: format!("glance-client-rust/{}", env!("CARGO_PKG_VERSION")),
            insecure: false,
            default_headers: Vec::new(),
            ca_certs: Vec::new(),
            identity: None,
            retry: RetryConfig::default(),
            auth: AuthOptions::default(),
            global_request_id: None,
            http_client: None,
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

    /// A Keystone token, sent as `X-Auth-Token` as it is (never renewed;
    /// needs an explicit [`ClientBuilder::endpoint`]). To have Keystone
    /// exchange it for a scoped token with a catalog, see
    /// [`ClientBuilder::token_auth`].
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Keystone's URL, e.g. `https://keystone.example.org:5000` (its `/v3`
    /// is discovered) or `…/v3`. Needed by the Keystone credentials below.
    pub fn auth_url(mut self, url: impl Into<String>) -> Self {
        self.auth.auth_url = Some(url.into());
        self
    }

    /// Authenticate to Keystone with any [`Credentials`] (the last given
    /// wins).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.auth.credentials = Some(credentials);
        self
    }

    /// Authenticate to Keystone with a password; scope the token with
    /// [`ClientBuilder::project`] (else Keystone uses the user's default
    /// project, if any).
    pub fn password_auth(self, user: User, password: impl Into<Secret>) -> Self {
        self.credentials(Credentials::Password {
            user,
            password: password.into(),
        })
    }

    /// Authenticate to Keystone with an application credential (its token
    /// is scoped to the credential's project; [`ClientBuilder::project`] is
    /// not sent).
    pub fn application_credential(
        self,
        credential: AppCredential,
        secret: impl Into<Secret>,
    ) -> Self {
        self.credentials(Credentials::ApplicationCredential {
            credential,
            secret: secret.into(),
        })
    }

    /// Authenticate to Keystone with an existing token (the `token`
    /// method): Keystone answers with a token scoped to
    /// [`ClientBuilder::project`], and its catalog.
    pub fn token_auth(self, token: impl Into<Secret>) -> Self {
        self.credentials(Credentials::Token(token.into()))
    }

    /// The project to scope Keystone tokens to (the usual scope).
    pub fn project(self, project: Project) -> Self {
        self.scope(Scope::Project(project))
    }

    /// Scope Keystone tokens to a domain instead of a project.
    pub fn domain_scope(self, domain: Domain) -> Self {
        self.scope(Scope::Domain(domain))
    }

    /// Scope Keystone tokens to the system (`{"system": {"all": true}}`),
    /// as a deployment's system administrators authenticate.
    pub fn system_scope(self) -> Self {
        self.scope(Scope::System)
    }

    /// Scope Keystone tokens to `scope` (the last of
    /// [`ClientBuilder::project`], [`ClientBuilder::domain_scope`],
    /// [`ClientBuilder::system_scope`] and this wins).
    pub fn scope(mut self, scope: Scope) -> Self {
        self.auth.scope = Some(scope);
        self
    }

    /// The region of the catalog endpoint (default: the first listed).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.auth.region = Some(region.into());
        self
    }

    /// The interface of the catalog endpoint (default [`Interface::Public`]).
    pub fn interface(mut self, interface: Interface) -> Self {
        self.auth.interface = interface;
        self
    }

    /// The service type looked up in the catalog (default `image`).
    pub fn service_type(mut self, service_type: impl Into<String>) -> Self {
        self.auth.service_type = Some(service_type.into());
        self
    }

    /// A header sent with every request, e.g. the identity headers
    /// keystone-middleware would set, to talk to a Glance that trusts them:
    ///
    /// ```
    /// # fn demo() -> glance_client::Result<()> {
    /// let client = glance_client::Client::builder()
    ///     .endpoint("http://127.0.0.1:9292")
    ///     .default_header("X-Identity-Status", "Confirmed")
    ///     .default_header("X-Roles", "admin,member,reader")
    ///     .default_header("X-Project-Id", "a1b2c3")
    ///     .build()?;
    /// # let _ = client; Ok(()) }
    /// ```
    ///
    /// Given twice, the last value wins. Invalid names or values are
    /// reported by [`ClientBuilder::build`]. The token, if any, overrides an
    /// `X-Auth-Token` given here.
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.default_headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
        self.default_headers.push((name, value.into()));
        self
    }

    /// A deadline for each attempt of a metadata request (reaching the
    /// server and reading the whole answer), and of each request to
    /// Keystone. Data transfers are not cut off by it (a long download that
    /// keeps progressing is not an error); [`ClientBuilder::read_timeout`]
    /// bounds those. Default: none, so the read timeout bounds each
    /// metadata attempt instead.
    ///
    /// An attempt that times out is retried at most once (if the request
    /// is idempotent), so a server that accepts connections and never
    /// answers costs at most twice this (plus the backoff), not once per
    /// retry of [`RetryConfig`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long to wait for a connection (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Send through the caller's own HTTP client (proxies, connection
    /// pools, DNS, TLS set up there), as `object_store` takes one.
    ///
    /// The client is [`reqwest`]'s, re-exported as
    /// `glance_client::reqwest`: this one method ties its callers to that
    /// crate's major version (a new major version of it is a new major
    /// version of this crate). TLS and connection settings are the given
    /// client's, so [`ClientBuilder::build`] refuses them here
    /// (`ca_cert_*`, `client_cert_file`, `client_identity_pem`,
    /// `danger_accept_invalid_certs`, `connect_timeout`); the `User-Agent`,
    /// default headers, timeouts, retries and authentication stay this
    /// client's. A client that follows redirects may follow them: the
    /// built-in one does not.
    ///
    /// ```
    /// # fn main() -> glance_client::Result<()> {
    /// use glance_client::reqwest;
    /// let http = reqwest::Client::builder()
    ///     .pool_max_idle_per_host(4)
    ///     .build()
    ///     .map_err(|e| glance_client::Error::Config(e.to_string()))?;
    /// let client = glance_client::Client::builder()
    ///     .endpoint("http://controller:9292")
    ///     .token("a-token")
    ///     .http_client(http)
    ///     .build()?;
    /// # let _ = client;
    /// # Ok(()) }
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// How long a data transfer may go without a byte moving (the meaning
    /// of python-glanceclient's socket `timeout`). Default
    /// [`DEFAULT_READ_TIMEOUT`], 300 s.
    ///
    /// * A download whose answer or body stalls that long is resumed with
    ///   `Range` like a dropped connection (up to
    ///   [`DownloadOptions::resume_attempts`](crate::DownloadOptions)
    ///   times), then fails with [`Error::Stalled`].
    /// * An upload whose body the server stops reading for that long, or
    ///   whose answer does not come that long after the last byte, fails
    ///   with [`Error::Stalled`] (never re-sent: the image may hold part of
    ///   the data).
    /// * Without [`ClientBuilder::timeout`], each attempt of a metadata
    ///   request is bounded by it as a whole.
    ///
    /// A zero duration is refused by [`ClientBuilder::build`].
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The `User-Agent` header (default `glance-client-rust/<version>`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// Skip TLS certificate verification (like `--insecure`). Never in production.
    pub fn danger_accept_invalid_certs(mut self, insecure: bool) -> Self {
        self.insecure = insecure;
        self
    }

    /// Trust the CA certificates of this PEM bundle file (like `--os-cacert`)
    /// **instead of** the built-in roots. Given several times, all bundles
    /// are trusted. The file is read by [`ClientBuilder::build`].
    pub fn ca_cert_file(mut self, path: impl AsRef<Path>) -> Self {
        self.ca_certs.push(Source::File(path.as_ref().to_owned()));
        self
    }

    /// Like [`ClientBuilder::ca_cert_file`], with the PEM bundle in memory.
    pub fn ca_cert_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_certs.push(Source::Pem(pem.into()));
        self
    }

    /// Authenticate with a client certificate (like `--os-cert`/`--os-key`):
    /// the PEM certificate chain and its PEM private key, read by
    /// [`ClientBuilder::build`]. Both may be the same file.
    pub fn client_cert_file(mut self, cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Self {
        self.identity = Some((
            Source::File(cert.as_ref().to_owned()),
            Some(Source::File(key.as_ref().to_owned())),
        ));
        self
    }

    /// Like [`ClientBuilder::client_cert_file`], with the certificate chain
    /// and the private key in one PEM document in memory.
    pub fn client_identity_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.identity = Some((Source::Pem(pem.into()), None));
        self
    }

    /// How idempotent requests are retried (default [`RetryConfig::default`];
    /// [`RetryConfig::disabled`] turns retries off).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Send `X-OpenStack-Request-ID: <id>` on every request, so that the
    /// server logs this client's calls under the caller's global request id
    /// (what nova and cinder pass to glanceclient as `global_request_id`).
    /// The id must be `req-` followed by a lowercase UUID; [`build`] refuses
    /// anything else with [`Error::InvalidInput`]. See also
    /// [`Client::with_global_request_id`] for one id per operation.
    ///
    /// [`build`]: ClientBuilder::build
    pub fn global_request_id(mut self, id: impl Into<String>) -> Self {
        self.global_request_id = Some(id.into());
        self
    }

    /// Check the options and build the client.
    pub fn build(self) -> Result<Client> {
        if self.read_timeout.is_zero() || self.timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::Config(
                "a timeout of zero would fail every request".into(),
            ));
        }
        let keystone = self.auth.credentials.is_some() || self.auth.auth_url.is_some();
        if keystone && self.token.is_some() {
            return Err(Error::Config(
                "give either a token or Keystone credentials, not both".into(),
            ));
        }
        let endpoint = match (&self.endpoint, keystone) {
            (Some(raw), _) => Some(normalise_endpoint(raw)?),
            (None, true) => None,
            (None, false) => {
                return Err(Error::Config(
                    "no Image service endpoint given (nor Keystone credentials to find it in the catalog)"
                        .into(),
                ));
            }
        };
        let agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| Error::Config("invalid User-Agent".into()))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &self.default_headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::Config(format!("invalid header name {name:?}")))?;
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| Error::Config(format!("invalid value for header {name}")))?;
            if is_secret_header(&name) {
                value.set_sensitive(true);
            }
            headers.insert(name, value);
        }
        headers.insert(USER_AGENT, agent);
        let token = match self.token {
            Some(token) => {
                let mut value = HeaderValue::from_str(&token)
                    .map_err(|_| Error::Config("the token is not valid header text".into()))?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        if self.http_client.is_some()
            && (self.insecure
                || !self.ca_certs.is_empty()
                || self.identity.is_some()
                || self.connect_timeout.is_some())
        {
            return Err(Error::Config(
                "TLS and connection settings belong to the HTTP client given to http_client, not to the builder"
                    .into(),
            ));
        }
        let (http, default_headers) = match self.http_client {
            Some(http) => (http, headers),
            None => (
                own_http_client(
                    headers,
                    self.connect_timeout.unwrap_or(Duration::from_secs(30)),
                    self.insecure,
                    &self.ca_certs,
                    self.identity.as_ref(),
                )?,
                HeaderMap::new(),
            ),
        };
        let auth = match token {
            Some(value) => Auth::Token(value),
            None if keystone => {
                let mut session = KeystoneSession::new(
                    http.clone(),
                    self.auth,
                    Some(self.timeout.unwrap_or(self.read_timeout)),
                    self.retry.clone(),
                )?;
                session.default_headers = default_headers.clone();
                Auth::Keystone(Arc::new(session))
            }
            None => Auth::None,
        };
        let global_request_id = self
            .global_request_id
            .as_deref()
            .map(global_request_id_header)
            .transpose()?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                default_headers,
                endpoint: OnceCell::new_with(endpoint),
                auth,
                timeout: self.timeout,
                read_timeout: self.read_timeout,
                retry: self.retry,
                versions: VersionCache::default(),
            }),
            global_request_id,
        })
    }
}

/// The HTTP client the builder makes when none is given: its headers,
/// TLS settings, no redirects.
fn own_http_client(
    headers: HeaderMap,
    connect_timeout: Duration,
    insecure: bool,
    ca_certs: &[Source],
    identity: Option<&(Source, Option<Source>)>,
) -> Result<reqwest::Client> {
    let mut http = reqwest::Client::builder()
        .default_headers(headers)
        .connect_timeout(connect_timeout)
        .danger_accept_invalid_certs(insecure)
        .redirect(reqwest::redirect::Policy::none());
    if !ca_certs.is_empty() {
        let mut certs = Vec::new();
        for source in ca_certs {
            let pem = source.read()?;
            let found = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| Error::Config(format!("invalid CA bundle: {e}")))?;
            if found.is_empty() {
                return Err(Error::Config("the CA bundle holds no certificate".into()));
            }
            certs.extend(found);
        }
        http = http.tls_certs_only(certs);
    }
    if let Some((cert, key)) = identity {
        let mut pem = cert.read()?;
        if let Some(key) = key {
            pem.push(b'\n');
            pem.extend(key.read()?);
        }
        let identity = reqwest::Identity::from_pem(&pem)
            .map_err(|e| Error::Config(format!("invalid client certificate or key: {e}")))?;
        http = http.identity(identity);
    }
    http.build()
        .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))
}

/// The default [`ClientBuilder::read_timeout`]: how long a transfer may go
/// without a byte moving. Half of python-glanceclient's 600 s socket
/// timeout: long enough for any store that is working, short enough that a
/// stalled proxy is noticed within minutes.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(300);

/// Margin a Keystone token must have left when an upload starts: this, plus
/// the time the data takes at [`UPLOAD_TOKEN_RATE`]. A token closer to its
/// expiry is renewed before the `PUT`, so that Glance does not refuse it
/// half-way (which would leave the image without data).
pub const UPLOAD_TOKEN_MARGIN: Duration = Duration::from_secs(300);

/// The modest rate (bytes per second, 10 MiB/s) at which an upload's
/// duration is reckoned for [`UPLOAD_TOKEN_MARGIN`].
pub const UPLOAD_TOKEN_RATE: u64 = 10 * 1024 * 1024;

/// How long a token must stay valid for an upload of `size` bytes.
pub(crate) fn upload_token_margin(size: Option<u64>) -> Duration {
    UPLOAD_TOKEN_MARGIN + Duration::from_secs(size.unwrap_or(0) / UPLOAD_TOKEN_RATE)
}

/// Check a global request id (`req-` and a lowercase UUID, the only form
/// oslo.middleware accepts; anything else would be dropped by the server
/// without a word) and make it a header value.
fn global_request_id_header(id: &str) -> Result<HeaderValue> {
    let valid = id.strip_prefix("req-").is_some_and(|uuid| {
        uuid.len() == 36
            && uuid.char_indices().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => c == '-',
                _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
            })
    });
    if !valid {
        return Err(Error::InvalidInput(format!(
            "global request id {id:?} is not of the form req-<lowercase uuid>"
        )));
    }
    HeaderValue::from_str(id).map_err(|e| Error::InvalidInput(format!("global request id: {e}")))
}

/// Headers whose values are credentials (kept out of logs).
fn is_secret_header(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "x-auth-token" | "x-service-token" | "x-subject-token" | "authorization"
    )
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

/// What a successful exchange yields.
enum Received {
    /// The response, its body not read yet (data transfers).
    Streaming(reqwest::Response),
    /// The whole body, read within the retry loop, and what the response
    /// was.
    Buffered(Bytes, Answer),
}

/// What a buffered answer was, to report a body that cannot be decoded.
pub(crate) struct Answer {
    request_id: Option<String>,
    status: reqwest::StatusCode,
    content_type: Option<String>,
    method: reqwest::Method,
    url: Url,
}

impl Answer {
    fn of(resp: &reqwest::Response, method: &reqwest::Method) -> Self {
        Answer {
            request_id: transport::request_id(resp.headers()),
            status: resp.status(),
            content_type: resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            method: method.clone(),
            url: resp.url().clone(),
        }
    }

    /// Decode `bytes` as JSON; an error names this answer.
    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T> {
        transport::decode(bytes).map_err(|e| match e {
            Error::Decode { path, message, .. } => Error::Decode {
                path,
                message,
                response: Some(Box::new(crate::error::ResponseSummary::new(
                    self.status,
                    self.method.as_str(),
                    self.url.as_str(),
                    self.content_type.as_deref(),
                    bytes,
                ))),
            },
            other => other,
        })
    }
}

impl Client {
    /// Options for a new client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The endpoint requests go to (always ends with `/`): the one given,
    /// or the catalog's once Keystone has answered (`None` before; see
    /// [`Client::authenticate`]).
    pub fn endpoint(&self) -> Option<&Url> {
        self.inner.endpoint.get()
    }

    /// With Keystone credentials: get a token now (if none is cached) and
    /// take the endpoint from its catalog, so that wrong credentials
    /// ([`Error::Auth`]) or a missing endpoint ([`Error::Catalog`]) show
    /// before the first call. Without: nothing to do.
    pub async fn authenticate(&self) -> Result<()> {
        self.resolve_endpoint().await.map(|_| ())
    }

    /// What the current Keystone token says (user, project, roles,
    /// expiry), authenticating first if needed; `None` without Keystone
    /// credentials.
    pub async fn token_info(&self) -> Result<Option<TokenInfo>> {
        match &self.inner.auth {
            Auth::Keystone(session) => Ok(Some(session.token().await?.info.clone())),
            _ => Ok(None),
        }
    }

    /// The token requests carry now: the one given, or the current
    /// Keystone token (authenticating first if needed), e.g. to hand to
    /// another service or to revoke it; `None` without either.
    pub async fn auth_token(&self) -> Result<Option<Secret>> {
        let header = match &self.inner.auth {
            Auth::None => return Ok(None),
            Auth::Token(value) => value.clone(),
            Auth::Keystone(session) => session.token().await?.header.clone(),
        };
        let text = header
            .to_str()
            .map_err(|_| Error::Config("the token is not valid header text".into()))?;
        Ok(Some(Secret::from(text)))
    }

    /// The endpoint, from the catalog on first use.
    async fn resolve_endpoint(&self) -> Result<&Url> {
        match &self.inner.auth {
            Auth::Keystone(session) => {
                self.inner
                    .endpoint
                    .get_or_try_init(|| async {
                        let token = session.token().await?;
                        let raw = token.catalog.endpoint_url(
                            &session.service_type,
                            session.interface,
                            session.region.as_deref(),
                        )?;
                        tracing::debug!(endpoint = raw, "Image service endpoint from the catalog");
                        normalise_endpoint(raw)
                    })
                    .await
            }
            _ => self
                .inner
                .endpoint
                .get()
                .ok_or_else(|| Error::Config("no Image service endpoint given".into())),
        }
    }

    /// A handle to the same client (connections, token, caches) whose
    /// requests carry `X-OpenStack-Request-ID: <id>`: one global request
    /// id per operation of the caller, as nova does with glanceclient.
    /// Cheap to make; the id must be `req-` and a lowercase UUID.
    ///
    /// ```
    /// # fn demo(client: &glance_client::Client) -> glance_client::Result<()> {
    /// let traced = client.with_global_request_id("req-4a1c2d3e-0f9b-4c5d-8e7f-0a1b2c3d4e5f")?;
    /// // traced.images().get(…) is logged by Glance under that global id.
    /// # let _ = traced; Ok(()) }
    /// ```
    pub fn with_global_request_id(&self, id: &str) -> Result<Client> {
        Ok(Client {
            inner: Arc::clone(&self.inner),
            global_request_id: Some(global_request_id_header(id)?),
        })
    }

    /// The retry policy of this client.
    pub fn retry_config(&self) -> &RetryConfig {
        &self.inner.retry
    }

    /// How long a transfer may go without a byte moving
    /// ([`ClientBuilder::read_timeout`]).
    pub fn read_timeout(&self) -> Duration {
        self.inner.read_timeout
    }

    /// Image calls: create, get, list, update, upload, download, delete, …
    pub fn images(&self) -> Images<'_> {
        Images::new(self)
    }

    pub(crate) fn version_cache(&self) -> &VersionCache {
        &self.inner.versions
    }

    /// Send a request; any non-2xx answer becomes [`Error::Http`]. The body
    /// is left unread (for data transfers).
    pub(crate) async fn send(&self, spec: RequestSpec) -> Result<reqwest::Response> {
        match self.execute(spec, false).await? {
            Received::Streaming(resp) => Ok(resp),
            Received::Buffered(..) => Err(Error::Config("internal: body was buffered".into())),
        }
    }

    /// Send a request and read its whole body.
    pub(crate) async fn send_bytes(&self, spec: RequestSpec) -> Result<Bytes> {
        self.send_buffered(spec).await.map(|(bytes, _)| bytes)
    }

    /// Send a request and read its whole body, with what the answer was.
    async fn send_buffered(&self, spec: RequestSpec) -> Result<(Bytes, Answer)> {
        let method = spec.method.clone();
        match self.execute(spec, true).await? {
            Received::Buffered(bytes, answer) => Ok((bytes, answer)),
            Received::Streaming(resp) => {
                let answer = Answer::of(&resp, &method);
                let bytes = resp.bytes().await.map_err(Error::transport)?;
                Ok((bytes, answer))
            }
        }
    }

    /// Send a request and decode its JSON answer, returning the
    /// response's request id beside it (the paging loop forwards it).
    pub(crate) async fn send_json_with_id<T: DeserializeOwned>(
        &self,
        spec: RequestSpec,
    ) -> Result<(T, Option<String>)> {
        let (bytes, answer) = self.send_buffered(spec).await?;
        Ok((answer.decode(&bytes)?, answer.request_id))
    }

    /// Send a request and decode its JSON answer.
    pub(crate) async fn send_json<T: DeserializeOwned>(&self, spec: RequestSpec) -> Result<T> {
        let (bytes, answer) = self.send_buffered(spec).await?;
        answer.decode(&bytes)
    }

    /// Send a request for its effect, ignoring any body.
    pub(crate) async fn send_unit(&self, spec: RequestSpec) -> Result<()> {
        self.send_bytes(spec).await.map(|_| ())
    }

    /// The send loop: one attempt, then retries while the request is
    /// replayable, the failure transient and the [`RetryConfig`] allows.
    ///
    /// With Keystone credentials, a 401 makes the client forget the token
    /// and send the request once more with a new one (unless its body was
    /// a one-shot stream already spent); a second 401 is returned.
    async fn execute(&self, spec: RequestSpec, buffer: bool) -> Result<Received> {
        // One span per logical request (all its attempts). It names the
        // method and the path only: query strings may hold filter values,
        // never credentials, and headers are not recorded at all.
        let span = tracing::debug_span!(
            "glance_request",
            method = %spec.method,
            path = %spec.describe_path(),
        );
        self.execute_in_span(spec, buffer).instrument(span).await
    }

    async fn execute_in_span(&self, mut spec: RequestSpec, buffer: bool) -> Result<Received> {
        let url = spec.url(self.resolve_endpoint().await?)?;
        let replayable = spec.is_replayable();
        let resendable = !matches!(spec.payload, Payload::OneShot(_));
        let started = Instant::now();
        let mut attempt: u32 = 0;
        let mut retries: u32 = 0;
        let mut timeouts: u32 = 0;
        let mut reauthenticated = false;
        loop {
            attempt += 1;
            let outcome = self.attempt(&mut spec, &url, buffer, attempt).await;
            let (error, retry_after) = match outcome {
                Ok(received) => return Ok(received),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Unauthorized { error, used }) => {
                    let (Auth::Keystone(session), Some(used)) = (&self.inner.auth, used) else {
                        return Err(error);
                    };
                    session.invalidate(&used).await;
                    if reauthenticated || !resendable {
                        return Err(error);
                    }
                    reauthenticated = true;
                    tracing::debug!(
                        method = %spec.method, %url, attempt,
                        "401 with a Keystone token: authenticating again and resending once"
                    );
                    continue;
                }
                Err(Failure::Status {
                    error, retry_after, ..
                }) => (error, retry_after),
                Err(Failure::Transport(e)) => (Error::transport(e), None),
                Err(Failure::Timeout(e)) => (e, None),
            };
            retries += 1;
            let timed_out =
                error.is_stalled() || matches!(&error, Error::Transport(e) if e.is_timeout());
            if timed_out {
                timeouts += 1;
            }
            // A server that accepted the request and never answered will
            // likely not answer the next one either: one more try, no more.
            let delay = if replayable && timeouts < 2 {
                self.inner
                    .retry
                    .delay(retries, started.elapsed(), retry_after, fastrand::f64())
            } else {
                None
            };
            let Some(delay) = delay else {
                if attempt > 1 {
                    tracing::debug!(
                        method = %spec.method, %url, attempts = attempt,
                        "giving up: {error}"
                    );
                }
                return Err(error);
            };
            tracing::debug!(
                method = %spec.method,
                %url,
                attempt,
                delay_ms = delay.as_millis() as u64,
                status = error.status().map(|s| s.as_u16()),
                request_id = error.request_id(),
                "retrying after a transient failure: {error}"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// The headers of a request: its own, and the global request id of
    /// this handle, which wins over a forwarded page id.
    fn request_headers(&self, own: &HeaderMap) -> HeaderMap {
        let mut headers = own.clone();
        if let Some(id) = &self.global_request_id {
            headers.insert(REQUEST_ID_HEADER, id.clone());
        }
        headers
    }

    /// One attempt of a request.
    async fn attempt(
        &self,
        spec: &mut RequestSpec,
        url: &Url,
        buffer: bool,
        attempt: u32,
    ) -> Result<Received, Failure> {
        let own = self.request_headers(&spec.headers);
        // A caller's HTTP client lacks the builder's headers: they go on
        // each request, below the request's own and the token, as a
        // client's default headers would.
        let mut defaults = self.inner.default_headers.clone();
        for name in own.keys() {
            defaults.remove(name);
        }
        if !matches!(self.inner.auth, Auth::None) {
            defaults.remove("x-auth-token");
        }
        let mut req = self
            .inner
            .http
            .request(spec.method.clone(), url.clone())
            .headers(defaults)
            .headers(own);
        let mut used = None;
        match &self.inner.auth {
            Auth::None => {}
            Auth::Token(token) => req = req.header("x-auth-token", token.clone()),
            Auth::Keystone(session) => {
                let token = if spec.activity.is_some() {
                    let size = spec
                        .headers
                        .get(reqwest::header::CONTENT_LENGTH)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse().ok());
                    session.token_lasting(upload_token_margin(size)).await
                } else {
                    session.token().await
                }
                .map_err(Failure::Fatal)?;
                req = req.header("x-auth-token", token.header.clone());
                used = Some(token);
            }
        }
        let idle = self.inner.read_timeout;
        if !spec.streams_data {
            req = req.timeout(self.inner.timeout.unwrap_or(idle));
        }
        if let Some(body) = spec.payload.next_body().await.map_err(Failure::Fatal)? {
            req = req.body(body);
        }
        tracing::debug!(method = %spec.method, %url, attempt, "request");
        let sent = match (&spec.activity, spec.streams_data) {
            (_, false) => req.send().await,
            // An upload: given up when its body is not taken, or its
            // answer does not come, for the read timeout. Never re-sent
            // (the image may hold part of the data by now).
            (Some(activity), true) => {
                activity.restart();
                tokio::select! {
                    sent = req.send() => sent,
                    offset = activity.stalled(idle) => {
                        return Err(Failure::Fatal(Error::Stalled {
                            transfer: Transfer::Upload,
                            offset,
                            idle,
                            attempts: 1,
                        }));
                    }
                }
            }
            // A download: its answer must begin within the read timeout.
            (None, true) => match tokio::time::timeout(idle, req.send()).await {
                Ok(sent) => sent,
                Err(_) => {
                    return Err(Failure::Timeout(Error::Stalled {
                        transfer: Transfer::Download,
                        offset: 0,
                        idle,
                        attempts: 1,
                    }));
                }
            },
        };
        let resp = match sent {
            Ok(resp) => resp,
            Err(e) if retry::retryable_transport(&e) => return Err(Failure::Transport(e)),
            Err(e) => return Err(Failure::Fatal(Error::transport(e))),
        };
        let status = resp.status();
        if let Some(id) = transport::request_id(resp.headers()) {
            crate::request_ids::record(&id);
        }
        tracing::debug!(
            method = %spec.method,
            %url,
            attempt,
            status = status.as_u16(),
            request_id = transport::request_id(resp.headers()).as_deref(),
            "response"
        );
        if !spec.is_success(status) {
            let retry_after = retry::retry_after(resp.headers(), SystemTime::now());
            // A metadata request's whole-request timeout covers its error
            // body; a transfer's gets the read timeout.
            let error = match tokio::time::timeout(idle, transport::error_from(resp)).await {
                Ok(error) => error,
                Err(_) => Error::Http {
                    status,
                    message: format!("(the error body stalled for {idle:?})"),
                    request_id: None,
                },
            };
            if status == reqwest::StatusCode::UNAUTHORIZED {
                return Err(Failure::Unauthorized { error, used });
            }
            return if retry::retryable_status(status) {
                Err(Failure::Status { error, retry_after })
            } else {
                Err(Failure::Fatal(error))
            };
        }
        if !buffer {
            return Ok(Received::Streaming(resp));
        }
        let answer = Answer::of(&resp, &spec.method);
        match resp.bytes().await {
            Ok(bytes) => Ok(Received::Buffered(bytes, answer)),
            Err(e) => Err(Failure::Transport(e)),
        }
    }
}

/// Why an attempt failed, as the retry loop sees it.
enum Failure {
    /// Not worth another attempt.
    Fatal(Error),
    /// A transient status (5xx, 429).
    Status {
        error: Error,
        retry_after: Option<Duration>,
    },
    /// A connection, timeout or body error.
    Transport(reqwest::Error),
    /// A transfer's answer did not begin within the read timeout.
    Timeout(Error),
    /// A 401, and the Keystone token sent, if any.
    Unauthorized {
        error: Error,
        used: Option<Arc<crate::auth::CurrentToken>>,
    },
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
