//! The token source of a client: discovery, `POST /v3/auth/tokens`, the
//! cached token and its replacement (I/O).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode};
use time::OffsetDateTime;
use tokio::sync::{Mutex, OnceCell};
use url::Url;

use super::catalog::Catalog;
use super::keystone::{self, TokenInfo};
use super::{AuthOptions, Credentials, Interface, Scope};
use crate::error::{Error, Result};
use crate::transport::{
    Call, Credential, Payload, Received, RequestSpec, Service, TokenSource, Transport,
};

/// A token in use, with what came with it.
pub(crate) struct CurrentToken {
    /// `X-Auth-Token`, marked sensitive.
    pub header: HeaderValue,
    /// Who the token speaks for.
    pub info: TokenInfo,
    /// Its service catalog.
    pub catalog: Catalog,
    /// When it is to be replaced (local monotonic clock).
    fresh_until: Instant,
    /// When Keystone says it expires (local monotonic clock).
    expires: Instant,
}

impl fmt::Debug for CurrentToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurrentToken")
            .field("header", &"<redacted>")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Issues, caches and replaces Keystone tokens for one client.
pub(crate) struct KeystoneSession {
    /// The client's own: Keystone's requests go through the same send loop
    /// (retries, timeouts, error reader) as Glance's.
    transport: Arc<Transport>,
    auth_url: Url,
    credentials: Credentials,
    scope: Option<Scope>,
    /// The catalog interface to use.
    pub interface: Interface,
    /// The catalog region to use, if any.
    pub region: Option<String>,
    /// The service type looked up in the catalog.
    pub service_type: String,
    v3: OnceCell<Url>,
    current: Mutex<Option<Arc<CurrentToken>>>,
}

impl fmt::Debug for KeystoneSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keystone")
            .field("auth_url", &self.auth_url.as_str())
            .field("credentials", &self.credentials)
            .field("scope", &self.scope)
            .field("interface", &self.interface)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl KeystoneSession {
    /// A session for `options` (which hold an auth URL and credentials),
    /// sending through `transport`.
    pub fn new(transport: Arc<Transport>, options: AuthOptions) -> Result<Self> {
        let raw = options.auth_url.ok_or_else(|| {
            Error::Config("Keystone credentials given without an auth URL".into())
        })?;
        let credentials = options.credentials.ok_or_else(|| {
            Error::Config(
                "an auth URL given without credentials (a password, an application credential or a token)"
                    .into(),
            )
        })?;
        let auth_url = Url::parse(&raw)
            .map_err(|e| Error::Config(format!("invalid auth URL {raw:?}: {e}")))?;
        if !matches!(auth_url.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "invalid auth URL {raw:?}: the scheme must be http or https"
            )));
        }
        if keystone::is_v2_url(&auth_url) {
            return Err(Error::Config(format!(
                "the auth URL {raw:?} names Keystone's v2.0 API, which is gone: give the unversioned URL or its /v3"
            )));
        }
        Ok(KeystoneSession {
            transport,
            auth_url,
            credentials,
            scope: options.scope,
            interface: options.interface,
            region: options.region,
            service_type: options.service_type.unwrap_or_else(|| "image".into()),
            v3: OnceCell::new(),
            current: Mutex::new(None),
        })
    }

    /// The token to send now: the cached one while it is fresh, else a new
    /// one. Concurrent callers wait for a single authentication.
    pub async fn token(&self) -> Result<Arc<CurrentToken>> {
        let mut current = self.current.lock().await;
        if let Some(t) = current.as_ref() {
            if Instant::now() < t.fresh_until {
                return Ok(t.clone());
            }
            tracing::debug!("the Keystone token is about to expire: authenticating again");
        }
        let fresh = Arc::new(self.authenticate().await?);
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// A token still valid for at least `needed` from now: the cached one
    /// if it lasts that long, else a new one (used even if it does not last
    /// that long either: Keystone's lifetime is what it is). Called before
    /// an upload, so that the token cannot expire half-way through the
    /// data and leave an image without any.
    pub async fn token_lasting(&self, needed: Duration) -> Result<Arc<CurrentToken>> {
        let token = self.token().await?;
        if token.expires.saturating_duration_since(Instant::now()) >= needed {
            return Ok(token);
        }
        let mut current = self.current.lock().await;
        if let Some(t) = current.as_ref() {
            // Another caller may have renewed it meanwhile.
            if !Arc::ptr_eq(t, &token) {
                return Ok(t.clone());
            }
        }
        tracing::debug!(
            needed_s = needed.as_secs(),
            "the Keystone token would expire during the upload: authenticating again first"
        );
        let fresh = Arc::new(self.authenticate().await?);
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// Forget `used` after the service refused it (401), unless another
    /// request has replaced it already. The next [`KeystoneSession::token`]
    /// authenticates again.
    pub async fn invalidate(&self, used: &HeaderValue) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|t| t.header == *used) {
            *current = None;
        }
    }

    /// The v3 API's URL: the auth URL itself when it ends in `/v3`, else
    /// what Keystone's version document says (its root answers 300), else
    /// the auth URL with `/v3` appended.
    async fn v3_url(&self) -> Result<&Url> {
        self.v3
            .get_or_try_init(|| async {
                if keystone::is_v3_url(&self.auth_url) {
                    return Ok(self.auth_url.clone());
                }
                // Keystone's root answers 300 with its versions; any
                // other refusal means "append /v3" below.
                const VERSIONS: &[StatusCode] = &[StatusCode::MULTIPLE_CHOICES];
                let answer = self.send(Method::GET, &self.auth_url, None, VERSIONS).await;
                let (status, body) = match answer {
                    Ok(resp) => {
                        let status = resp.status();
                        (status, resp.bytes().await.map_err(Error::transport)?)
                    }
                    Err(Error::Http { status, .. }) => (status, Bytes::new()),
                    Err(e) => return Err(e),
                };
                let found = (status.is_success() || status == StatusCode::MULTIPLE_CHOICES)
                    .then(|| keystone::v3_from_discovery(&body, &self.auth_url))
                    .flatten();
                Ok(match found {
                    Some(url) => {
                        tracing::debug!(auth_url = %self.auth_url, v3 = %url, "Keystone version discovery");
                        url
                    }
                    None => {
                        let url = keystone::append_v3(&self.auth_url);
                        tracing::debug!(
                            auth_url = %self.auth_url, status = status.as_u16(), v3 = %url,
                            "no v3 in Keystone's version document: appending /v3"
                        );
                        url
                    }
                })
            })
            .await
    }

    /// One request to Keystone through the client's send loop, retried
    /// as [`RetryConfig`](crate::RetryConfig) says on connection errors,
    /// 5xx and 429 (`POST /v3/auth/tokens` changes nothing that a second
    /// attempt could harm). An answer outside 2xx and `also_ok` is
    /// [`Error::Http`], its message read by the one error reader. The
    /// body is left unread.
    async fn send(
        &self,
        method: Method,
        url: &Url,
        body: Option<&[u8]>,
        also_ok: &'static [StatusCode],
    ) -> Result<reqwest::Response> {
        let mut spec = RequestSpec::new(method, Vec::<String>::new());
        spec.headers
            .insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(body) = body {
            spec.headers
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            spec.payload = Payload::Bytes(Bytes::copy_from_slice(body));
        }
        spec.safe_to_repeat = true;
        spec.also_ok = also_ok;
        let call = Call {
            service: Service::Identity,
            credential: Credential::None,
            buffer: false,
        };
        match self.transport.execute(spec, url.clone(), call).await? {
            Received::Streaming(resp) => Ok(resp),
            Received::Buffered(..) => Err(Error::Config("internal: body was buffered".into())),
        }
    }

    /// `POST /v3/auth/tokens` with the credentials.
    async fn authenticate(&self) -> Result<CurrentToken> {
        let v3 = self.v3_url().await?;
        let url = keystone::tokens_url(v3)?;
        let body = keystone::auth_request(&self.credentials, self.scope.as_ref()).to_string();
        tracing::debug!(%url, method = self.credentials.method(), "authenticating with Keystone");
        let resp = match self
            .send(Method::POST, &url, Some(body.as_bytes()), &[])
            .await
        {
            Ok(resp) => resp,
            Err(Error::Http {
                status,
                message,
                request_id,
            }) => {
                tracing::debug!(
                    %url, status = status.as_u16(), request_id = request_id.as_deref(),
                    "Keystone refused: {message}"
                );
                return Err(Error::Auth {
                    status,
                    message,
                    request_id,
                });
            }
            Err(e) => return Err(e),
        };
        let mut header = resp
            .headers()
            .get("x-subject-token")
            .cloned()
            .ok_or_else(|| Error::Decode {
                path: "X-Subject-Token".into(),
                message: "Keystone's answer carries no token".into(),
                response: None,
            })?;
        header.set_sensitive(true);
        let received = Instant::now();
        let bytes = resp.bytes().await.map_err(Error::transport)?;
        let issued = keystone::parse_token(&bytes, OffsetDateTime::now_utc())?;
        let margin = keystone::refresh_margin(issued.lifetime);
        tracing::debug!(
            user = %issued.info.user_name,
            project = issued.info.project_name.as_deref(),
            lifetime_s = issued.lifetime.as_secs(),
            "Keystone issued a token"
        );
        Ok(CurrentToken {
            header,
            info: issued.info,
            catalog: issued.catalog,
            fresh_until: received + issued.lifetime.saturating_sub(margin),
            expires: received + issued.lifetime,
        })
    }
}

impl TokenSource for KeystoneSession {
    fn token(&self, lasting: Option<Duration>) -> BoxFuture<'_, Result<HeaderValue>> {
        async move {
            let token = match lasting {
                Some(needed) => self.token_lasting(needed).await?,
                None => self.token().await?,
            };
            Ok(token.header.clone())
        }
        .boxed()
    }

    fn invalidate<'a>(&'a self, used: &'a HeaderValue) -> BoxFuture<'a, ()> {
        KeystoneSession::invalidate(self, used).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RetryConfig;
    use reqwest::header::HeaderMap;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn session(auth_url: String, retry: RetryConfig) -> KeystoneSession {
        let transport = Transport::new(
            reqwest::Client::new(),
            HeaderMap::new(),
            None,
            Duration::from_secs(10),
            retry,
        );
        let options = AuthOptions {
            auth_url: Some(auth_url),
            credentials: Some(Credentials::Token("a-token".into())),
            ..AuthOptions::default()
        };
        KeystoneSession::new(Arc::new(transport), options).expect("session")
    }

    /// Keystone's token `POST` goes through the client's send loop: a 503
    /// is retried as a Glance `GET` would be (the request is marked safe
    /// to repeat), and the last answer's message and request id come from
    /// the one error reader.
    #[tokio::test]
    async fn a_keystone_503_is_retried_by_the_shared_loop() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v3/auth/tokens"))
            .respond_with(
                ResponseTemplate::new(503)
                    .insert_header("x-openstack-request-id", "req-keystone")
                    .set_body_raw(
                        r#"{"error": {"message": "Keystone is resting", "code": 503}}"#,
                        "application/json",
                    ),
            )
            .expect(3)
            .mount(&server)
            .await;
        let retry = RetryConfig::default()
            .with_max_retries(2)
            .with_initial_backoff(Duration::from_millis(1));
        let err = session(format!("{}/v3", server.uri()), retry)
            .token()
            .await
            .expect_err("Keystone keeps refusing");
        match err {
            Error::Auth {
                status,
                message,
                request_id,
            } => {
                assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
                assert_eq!(message, "Keystone is resting");
                assert_eq!(request_id.as_deref(), Some("req-keystone"));
            }
            other => panic!("not an auth error: {other:?}"),
        }
    }

    /// A root that refuses the version document means "append /v3"; a 401
    /// from the token endpoint is not retried and is an [`Error::Auth`].
    #[tokio::test]
    async fn discovery_falls_back_and_a_401_is_final() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/"))
            .respond_with(ResponseTemplate::new(404))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v3/auth/tokens"))
            .respond_with(ResponseTemplate::new(401).set_body_raw(
                "401 Unauthorized\n\nThe request you have made requires authentication.",
                "text/plain",
            ))
            .expect(1)
            .mount(&server)
            .await;
        let err = session(server.uri(), RetryConfig::default())
            .token()
            .await
            .expect_err("refused");
        assert!(
            matches!(&err, Error::Auth { status, message, .. }
                if *status == StatusCode::UNAUTHORIZED
                    && message == "The request you have made requires authentication."),
            "{err:?}"
        );
    }
}
