//! The token source of a client: discovery, `POST /v3/auth/tokens`, the
//! cached token and its replacement (I/O).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode};
use time::OffsetDateTime;
use tokio::sync::{Mutex, OnceCell};
use url::Url;

use super::catalog::Catalog;
use super::keystone::{self, TokenInfo};
use super::{AuthOptions, Credentials, Interface, Scope};
use crate::error::{Error, Result, extract_message};
use crate::retry::{self, RetryConfig};
use crate::transport;

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
    http: reqwest::Client,
    /// Sent with each request (the builder's headers, when the caller
    /// gave the HTTP client; empty otherwise, the client sends them).
    pub default_headers: reqwest::header::HeaderMap,
    auth_url: Url,
    credentials: Credentials,
    scope: Option<Scope>,
    /// The catalog interface to use.
    pub interface: Interface,
    /// The catalog region to use, if any.
    pub region: Option<String>,
    /// The service type looked up in the catalog.
    pub service_type: String,
    timeout: Option<Duration>,
    retry: RetryConfig,
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
    /// talking through `http`.
    pub fn new(
        http: reqwest::Client,
        options: AuthOptions,
        timeout: Option<Duration>,
        retry: RetryConfig,
    ) -> Result<Self> {
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
            http,
            default_headers: reqwest::header::HeaderMap::new(),
            auth_url,
            credentials,
            scope: options.scope,
            interface: options.interface,
            region: options.region,
            service_type: options.service_type.unwrap_or_else(|| "image".into()),
            timeout,
            retry,
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
    pub async fn invalidate(&self, used: &CurrentToken) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|t| t.header == used.header) {
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
                let resp = self
                    .send(Method::GET, &self.auth_url, None)
                    .await
                    .map_err(Error::transport)?;
                let status = resp.status();
                let body = resp.bytes().await.map_err(Error::transport)?;
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

    /// One request to Keystone, retried as [`RetryConfig`] says on
    /// connection errors, 5xx and 429 (`POST /v3/auth/tokens` changes
    /// nothing that a second attempt could harm).
    async fn send(
        &self,
        method: Method,
        url: &Url,
        body: Option<&[u8]>,
    ) -> std::result::Result<reqwest::Response, reqwest::Error> {
        let started = Instant::now();
        let mut attempt = 0;
        let mut timeouts = 0u32;
        loop {
            attempt += 1;
            let mut defaults = self.default_headers.clone();
            defaults.remove(ACCEPT);
            defaults.remove(CONTENT_TYPE);
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .headers(defaults)
                .header(ACCEPT, "application/json");
            if let Some(body) = body {
                req = req
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.to_vec());
            }
            if let Some(t) = self.timeout {
                req = req.timeout(t);
            }
            tracing::debug!(method = %method, %url, attempt, "identity request");
            let (retry_after, result) = match req.send().await {
                Ok(resp) if retry::retryable_status(resp.status()) => (
                    retry::retry_after(resp.headers(), SystemTime::now()),
                    Ok(resp),
                ),
                Ok(resp) => return Ok(resp),
                // A Keystone that accepted the request and never answered
                // gets one more try, not one per retry.
                Err(e) if e.is_timeout() && timeouts > 0 => return Err(e),
                Err(e) if retry::retryable_transport(&e) => {
                    if e.is_timeout() {
                        timeouts += 1;
                    }
                    (None, Err(e))
                }
                Err(e) => return Err(e),
            };
            let delay = self
                .retry
                .delay(attempt, started.elapsed(), retry_after, fastrand::f64());
            let Some(delay) = delay else {
                return result;
            };
            tracing::debug!(method = %method, %url, attempt, delay_ms = delay.as_millis() as u64, "retrying the identity request");
            tokio::time::sleep(delay).await;
        }
    }

    /// `POST /v3/auth/tokens` with the credentials.
    async fn authenticate(&self) -> Result<CurrentToken> {
        let v3 = self.v3_url().await?;
        let url = keystone::tokens_url(v3)?;
        let body = keystone::auth_request(&self.credentials, self.scope.as_ref()).to_string();
        tracing::debug!(%url, method = self.credentials.method(), "authenticating with Keystone");
        let resp = self
            .send(Method::POST, &url, Some(body.as_bytes()))
            .await
            .map_err(Error::transport)?;
        let status = resp.status();
        if !status.is_success() {
            let request_id = transport::request_id(resp.headers());
            let ctype = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let text = transport::capped_text(resp).await;
            let mut message = extract_message(status, ctype.as_deref(), &text);
            if message.is_empty() {
                message = status.canonical_reason().unwrap_or("error").to_owned();
            }
            tracing::debug!(%url, status = status.as_u16(), request_id = request_id.as_deref(), "Keystone refused: {message}");
            return Err(Error::Auth {
                status,
                message,
                request_id,
            });
        }
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
