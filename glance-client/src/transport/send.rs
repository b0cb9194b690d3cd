//! The one send loop, for Glance and Keystone alike: an attempt (its
//! credentials, timeouts and stall watch), then retries while the request
//! is replayable, the failure transient and the [`RetryConfig`] allows;
//! a 401 with a renewable token is answered by one more attempt with a
//! new token.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures::future::BoxFuture;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

use super::retry::{self, RetryConfig};
use super::{Payload, RequestSpec, error_from, request_id};
use crate::error::{Error, ResponseSummary, Result, Transfer};

/// Margin a Keystone token must have left when an upload starts: this, plus
/// the time the data takes at [`UPLOAD_TOKEN_RATE`]. A token closer to its
/// expiry is renewed before the `PUT`, so that Glance does not refuse it
/// half-way (which would leave the image without data).
pub const UPLOAD_TOKEN_MARGIN: Duration = Duration::from_secs(300);

/// The modest rate (bytes per second, 10 MiB/s) at which an upload's
/// duration is reckoned for [`UPLOAD_TOKEN_MARGIN`].
pub const UPLOAD_TOKEN_RATE: u64 = 10 * 1024 * 1024;

/// How long a token must stay valid for an upload of `size` bytes.
fn upload_token_margin(size: Option<u64>) -> Duration {
    UPLOAD_TOKEN_MARGIN + Duration::from_secs(size.unwrap_or(0) / UPLOAD_TOKEN_RATE)
}

/// Hands out tokens that can be replaced (a Keystone session): asked once
/// per attempt, told when the service refused one.
pub(crate) trait TokenSource: Send + Sync {
    /// The `X-Auth-Token` of the next attempt; with `lasting`, one still
    /// valid that long from now (an upload).
    fn token(&self, lasting: Option<Duration>) -> BoxFuture<'_, Result<HeaderValue>>;

    /// Forget `used` after a 401, unless it was replaced meanwhile.
    fn invalidate<'a>(&'a self, used: &'a HeaderValue) -> BoxFuture<'a, ()>;
}

/// The credentials of one request.
#[derive(Clone, Copy)]
pub(crate) enum Credential<'a> {
    /// None (Keystone's own requests; a Glance that trusts headers).
    None,
    /// A fixed token, never renewed.
    Token(&'a HeaderValue),
    /// A token asked for per attempt, replaced after a 401.
    Renewable(&'a dyn TokenSource),
}

/// Which service a request goes to: Glance's answers' request ids are
/// recorded for [`WithRequestIds`](crate::WithRequestIds); Keystone's are not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Image,
    Identity,
}

/// What the loop needs to know about a request besides its spec.
#[derive(Clone, Copy)]
pub(crate) struct Call<'a> {
    pub service: Service,
    pub credential: Credential<'a>,
    /// Read the whole body within the loop (a failed read is retried);
    /// else hand the response over unread (data transfers).
    pub buffer: bool,
}

/// Sends requests: an HTTP client and the settings every request of a
/// client shares. One per client, shared with its Keystone session.
pub(crate) struct Transport {
    http: reqwest::Client,
    /// Headers the builder's own client sends by default, sent with each
    /// request instead when the caller gave the HTTP client.
    default_headers: HeaderMap,
    timeout: Option<Duration>,
    read_timeout: Duration,
    retry: RetryConfig,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The HTTP client and the default headers are left out: they may
        // hold credentials.
        f.debug_struct("Transport")
            .field("timeout", &self.timeout)
            .field("read_timeout", &self.read_timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// What a successful exchange yields.
pub(crate) enum Received {
    /// The response, its body not read yet (data transfers).
    Streaming(reqwest::Response),
    /// The whole body, read within the retry loop, and what the response
    /// was.
    Buffered(Bytes, Answer),
}

/// What a buffered answer was, to report a body that cannot be decoded.
pub(crate) struct Answer {
    pub request_id: Option<String>,
    status: StatusCode,
    content_type: Option<String>,
    method: Method,
    url: Url,
}

impl Answer {
    pub fn of(resp: &reqwest::Response, method: &Method) -> Self {
        Answer {
            request_id: request_id(resp.headers()),
            status: resp.status(),
            content_type: resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            method: method.clone(),
            url: resp.url().clone(),
        }
    }

    /// Decode `bytes` as JSON; an error names this answer.
    pub fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T> {
        super::decode(bytes).map_err(|e| match e {
            Error::Decode { path, message, .. } => Error::Decode {
                path,
                message,
                response: Some(Box::new(ResponseSummary::new(
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
    /// A 401, and the renewable token sent, if any.
    Unauthorized {
        error: Error,
        used: Option<HeaderValue>,
    },
}

impl Transport {
    /// A transport sending through `http`. `default_headers` go on each
    /// request below its own (empty when `http` sends them itself).
    pub fn new(
        http: reqwest::Client,
        default_headers: HeaderMap,
        timeout: Option<Duration>,
        read_timeout: Duration,
        retry: RetryConfig,
    ) -> Self {
        Transport {
            http,
            default_headers,
            timeout,
            read_timeout,
            retry,
        }
    }

    /// The deadline of each metadata attempt as a whole.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// How long a transfer may go without a byte moving.
    pub fn read_timeout(&self) -> Duration {
        self.read_timeout
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryConfig {
        &self.retry
    }

    /// Send `spec` to `url`: one attempt, then retries while the request
    /// is replayable, the failure transient and the [`RetryConfig`] allows.
    /// Any answer outside 2xx (and the spec's `also_ok`) becomes
    /// [`Error::Http`], its message read by the one error reader.
    ///
    /// With a renewable token, a 401 makes the source forget the token and
    /// the request is sent once more with a new one (unless its body was a
    /// one-shot stream already spent); a second 401 is returned.
    pub async fn execute(&self, spec: RequestSpec, url: Url, call: Call<'_>) -> Result<Received> {
        // One span per logical request (all its attempts). It names the
        // method and the path only: query strings may hold filter values,
        // never credentials, and headers are not recorded at all.
        let span = match call.service {
            Service::Image => tracing::debug_span!(
                "glance_request",
                method = %spec.method,
                path = %spec.describe_path(),
            ),
            Service::Identity => tracing::debug_span!(
                "identity_request",
                method = %spec.method,
                path = %url.path(),
            ),
        };
        self.execute_in_span(spec, url, call).instrument(span).await
    }

    async fn execute_in_span(
        &self,
        mut spec: RequestSpec,
        url: Url,
        call: Call<'_>,
    ) -> Result<Received> {
        let replayable = spec.is_replayable();
        let resendable = !matches!(spec.payload, Payload::OneShot(_));
        let started = Instant::now();
        let mut attempt: u32 = 0;
        let mut retries: u32 = 0;
        let mut timeouts: u32 = 0;
        let mut reauthenticated = false;
        loop {
            attempt += 1;
            let outcome = self.attempt(&mut spec, &url, call, attempt).await;
            let (error, retry_after) = match outcome {
                Ok(received) => return Ok(received),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Unauthorized { error, used }) => {
                    let (Credential::Renewable(source), Some(used)) = (call.credential, used)
                    else {
                        return Err(error);
                    };
                    source.invalidate(&used).await;
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
                self.retry
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

    /// One attempt of a request.
    async fn attempt(
        &self,
        spec: &mut RequestSpec,
        url: &Url,
        call: Call<'_>,
        attempt: u32,
    ) -> Result<Received, Failure> {
        // A caller's HTTP client lacks the builder's headers: they go on
        // each request, below the request's own and the token, as a
        // client's default headers would.
        let mut defaults = self.default_headers.clone();
        for name in spec.headers.keys() {
            defaults.remove(name);
        }
        if !matches!(call.credential, Credential::None) {
            defaults.remove("x-auth-token");
        }
        let mut req = self
            .http
            .request(spec.method.clone(), url.clone())
            .headers(defaults)
            .headers(spec.headers.clone());
        let mut used = None;
        match call.credential {
            Credential::None => {}
            Credential::Token(token) => req = req.header("x-auth-token", token.clone()),
            Credential::Renewable(source) => {
                let lasting = spec.activity.is_some().then(|| {
                    let size = spec
                        .headers
                        .get(CONTENT_LENGTH)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse().ok());
                    upload_token_margin(size)
                });
                let token = source.token(lasting).await.map_err(Failure::Fatal)?;
                req = req.header("x-auth-token", token.clone());
                used = Some(token);
            }
        }
        let idle = self.read_timeout;
        if !spec.streams_data {
            req = req.timeout(self.timeout.unwrap_or(idle));
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
        if call.service == Service::Image {
            if let Some(id) = request_id(resp.headers()) {
                super::request_ids::record(&id);
            }
        }
        tracing::debug!(
            method = %spec.method,
            %url,
            attempt,
            status = status.as_u16(),
            request_id = request_id(resp.headers()).as_deref(),
            "response"
        );
        if !spec.is_success(status) {
            let retry_after = retry::retry_after(resp.headers(), SystemTime::now());
            // A metadata request's whole-request timeout covers its error
            // body; a transfer's gets the read timeout.
            let error = match tokio::time::timeout(idle, error_from(resp)).await {
                Ok(error) => error,
                Err(_) => Error::Http {
                    status,
                    message: format!("(the error body stalled for {idle:?})"),
                    request_id: None,
                },
            };
            if status == StatusCode::UNAUTHORIZED {
                return Err(Failure::Unauthorized { error, used });
            }
            return if retry::retryable_status(status) {
                Err(Failure::Status { error, retry_after })
            } else {
                Err(Failure::Fatal(error))
            };
        }
        if !call.buffer {
            return Ok(Received::Streaming(resp));
        }
        let answer = Answer::of(&resp, &spec.method);
        match resp.bytes().await {
            Ok(bytes) => Ok(Received::Buffered(bytes, answer)),
            Err(e) => Err(Failure::Transport(e)),
        }
    }
}
