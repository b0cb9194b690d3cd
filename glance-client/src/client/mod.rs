//! [`Client`]: the one entry point, a cheap handle on a [`Transport`]
//! with its endpoint and credentials. Its options are [`ClientBuilder`]'s
//! (`builder.rs`); the sending is the transport's.

mod builder;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderValue;
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;
use url::Url;

pub use builder::{ClientBuilder, DEFAULT_READ_TIMEOUT};

use crate::auth::{KeystoneSession, Secret, TokenInfo};
use crate::error::{Error, Result};
use crate::images::Images;
use crate::retry::RetryConfig;
use crate::transport::{
    Answer, Call, Credential, REQUEST_ID_HEADER, Received, RequestSpec, Service, Transport,
};
use crate::versions::VersionCache;
use builder::{global_request_id_header, normalise_endpoint};

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
    /// Sends every request; shared with the Keystone session.
    transport: Arc<Transport>,
    /// Set at build time, or taken from the catalog on first use.
    endpoint: OnceCell<Url>,
    auth: Auth,
    versions: VersionCache,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The HTTP client is left out: it would show the default headers,
        // which may hold credentials.
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint.get().map(Url::as_str))
            .field("auth", &self.auth)
            .field("timeout", &self.transport.timeout())
            .field("read_timeout", &self.transport.read_timeout())
            .field("retry", self.transport.retry())
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
        self.inner.transport.retry()
    }

    /// How long a transfer may go without a byte moving
    /// ([`ClientBuilder::read_timeout`]).
    pub fn read_timeout(&self) -> Duration {
        self.inner.transport.read_timeout()
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

    /// The send loop of [`Transport`], with this handle's endpoint,
    /// credentials and global request id.
    async fn execute(&self, mut spec: RequestSpec, buffer: bool) -> Result<Received> {
        let url = spec.url(self.resolve_endpoint().await?)?;
        // The handle's global request id wins over a forwarded page id.
        if let Some(id) = &self.global_request_id {
            spec.headers.insert(REQUEST_ID_HEADER, id.clone());
        }
        let credential = match &self.inner.auth {
            Auth::None => Credential::None,
            Auth::Token(token) => Credential::Token(token),
            Auth::Keystone(session) => Credential::Renewable(session.as_ref()),
        };
        let call = Call {
            service: Service::Image,
            credential,
            buffer,
        };
        self.inner.transport.execute(spec, url, call).await
    }
}
