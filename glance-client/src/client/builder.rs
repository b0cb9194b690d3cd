//! [`ClientBuilder`]: the options of a [`Client`], checked when it is built.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use tokio::sync::OnceCell;
use url::Url;

use super::{Auth, Client, Inner};
use crate::auth::{
    AppCredential, AuthOptions, Credentials, Domain, Interface, KeystoneSession, Project, Scope,
    Secret, User,
};
use crate::error::{Error, Result};
use crate::retry::RetryConfig;
use crate::transport::Transport;
use crate::versions::VersionCache;

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
        let transport = Arc::new(Transport::new(
            http,
            default_headers,
            self.timeout,
            self.read_timeout,
            self.retry,
        ));
        let auth = match token {
            Some(value) => Auth::Token(value),
            None if keystone => Auth::Keystone(Arc::new(KeystoneSession::new(
                Arc::clone(&transport),
                self.auth,
            )?)),
            None => Auth::None,
        };
        let global_request_id = self
            .global_request_id
            .as_deref()
            .map(global_request_id_header)
            .transpose()?;
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                endpoint: OnceCell::new_with(endpoint),
                auth,
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

/// Check a global request id (`req-` and a lowercase UUID, the only form
/// oslo.middleware accepts; anything else would be dropped by the server
/// without a word) and make it a header value.
pub(super) fn global_request_id_header(id: &str) -> Result<HeaderValue> {
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
pub(super) fn normalise_endpoint(raw: &str) -> Result<Url> {
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
