//! A request described without sending it: method, path, query, headers
//! and a body that knows whether it can be sent again. Pure, so request
//! shapes are unit-tested without a server (as kube-rs builds requests).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use url::Url;

use crate::error::{Error, Result};

/// Makes the body of one attempt (e.g. by reopening a file).
pub(crate) type BodyFactory =
    Arc<dyn Fn() -> BoxFuture<'static, Result<reqwest::Body>> + Send + Sync>;

/// A request body, kept in a form that says whether it can be sent again.
pub(crate) enum Payload {
    /// No body.
    Empty,
    /// Bytes in memory: cheap to clone, so replayable.
    Bytes(Bytes),
    /// A body made afresh for each attempt: replayable.
    Replayable(BodyFactory),
    /// A body that can be sent once (a caller's stream): never replayed.
    OneShot(Option<reqwest::Body>),
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Empty => f.write_str("Empty"),
            Payload::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Payload::Replayable(_) => f.write_str("Replayable"),
            Payload::OneShot(b) => write!(f, "OneShot(taken: {})", b.is_none()),
        }
    }
}

impl Payload {
    /// The body of the next attempt. A one-shot body is handed out once.
    pub async fn next_body(&mut self) -> Result<Option<reqwest::Body>> {
        match self {
            Payload::Empty => Ok(None),
            Payload::Bytes(b) => Ok(Some(reqwest::Body::from(b.clone()))),
            Payload::Replayable(make) => make().await.map(Some),
            Payload::OneShot(body) => body
                .take()
                .map(Some)
                .ok_or_else(|| Error::InvalidInput("a streamed body cannot be sent twice".into())),
        }
    }
}

/// When an upload body last moved, and how far it got: the send loop
/// gives up on an upload whose body is not read (or, once sent, whose
/// answer does not come) for the read timeout.
#[derive(Debug)]
pub(crate) struct Activity {
    base: Instant,
    /// Milliseconds after `base` of the last move.
    last_ms: AtomicU64,
    /// Body bytes taken by the connection in this attempt.
    bytes: AtomicU64,
    /// The connection asked for more and the body's own source has not
    /// produced it yet (a slow pipe is not a stalled server).
    source_pending: AtomicBool,
}

impl Activity {
    pub fn new() -> Arc<Self> {
        Arc::new(Activity {
            base: Instant::now(),
            last_ms: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            source_pending: AtomicBool::new(false),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Something moved (a chunk was taken, or the body ended).
    pub fn touch(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.last_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// Whether the body waits for its own source.
    pub fn waiting_for_source(&self, waiting: bool) {
        self.source_pending.store(waiting, Ordering::Relaxed);
        if waiting {
            self.touch(0);
        }
    }

    /// A new attempt starts: nothing moved yet, the clock starts now.
    pub fn restart(&self) {
        self.bytes.store(0, Ordering::Relaxed);
        self.source_pending.store(false, Ordering::Relaxed);
        self.last_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// Bytes taken so far in this attempt.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Resolves once nothing has moved for `idle`; the bytes taken by then.
    pub async fn stalled(&self, idle: Duration) -> u64 {
        loop {
            let since = Duration::from_millis(
                self.now_ms()
                    .saturating_sub(self.last_ms.load(Ordering::Relaxed)),
            );
            if self.source_pending.load(Ordering::Relaxed) {
                self.touch(0);
            } else if since >= idle {
                return self.bytes();
            }
            tokio::time::sleep(idle - since).await;
        }
    }
}

/// A request described without sending it: method, path segments (each
/// percent-encoded when the URL is built), query, headers and a body that
/// knows whether it can be replayed.
#[derive(Debug)]
pub(crate) struct RequestSpec {
    pub method: Method,
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub payload: Payload,
    /// A path and query given by the server (`next` links), used as is.
    pub raw_path: Option<String>,
    /// Moves image data: exempt from the whole-request timeout.
    pub streams_data: bool,
    /// Progress of an upload body, watched for stalls.
    pub activity: Option<Arc<Activity>>,
    /// Statuses outside 2xx that mean success here (300 for `/versions`).
    pub also_ok: &'static [StatusCode],
    /// Sending it again is harmless whatever its method: Keystone's
    /// `POST /v3/auth/tokens` changes nothing a second attempt could harm.
    pub safe_to_repeat: bool,
}

impl RequestSpec {
    /// A request to `/{segments...}` below the endpoint.
    pub fn new<I, S>(method: Method, segments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RequestSpec {
            method,
            segments: segments.into_iter().map(Into::into).collect(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            payload: Payload::Empty,
            raw_path: None,
            streams_data: false,
            activity: None,
            also_ok: &[],
            safe_to_repeat: false,
        }
    }

    /// Whether sending this request again is harmless: an idempotent
    /// method (`GET`, `HEAD`, `PUT`, `DELETE`) and a body that can be
    /// produced again. `POST` and `PATCH` are never replayed, unless the
    /// request is marked [`RequestSpec::safe_to_repeat`].
    pub fn is_replayable(&self) -> bool {
        let idempotent = matches!(
            self.method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        (idempotent || self.safe_to_repeat) && !matches!(self.payload, Payload::OneShot(_))
    }

    /// Whether `status` means success for this request.
    pub fn is_success(&self, status: StatusCode) -> bool {
        status.is_success() || self.also_ok.contains(&status)
    }

    /// A GET of a server-relative link such as `/v2/images?marker=…`.
    pub fn link(path_and_query: &str) -> Self {
        let mut spec = RequestSpec::new(Method::GET, Vec::<String>::new());
        spec.raw_path = Some(path_and_query.to_owned());
        spec
    }

    /// The path this request goes to, for logs: `/v2/images/{id}`, or the
    /// server's link as given.
    pub fn describe_path(&self) -> String {
        match &self.raw_path {
            Some(raw) => raw.split('?').next().unwrap_or_default().to_owned(),
            None => format!("/{}", self.segments.join("/")),
        }
    }

    /// Add a header (values that are not valid header text are refused).
    pub fn header(mut self, name: &'static str, value: &str) -> Result<Self> {
        let value = HeaderValue::from_str(value)
            .map_err(|_| Error::InvalidInput(format!("invalid value for header {name}")))?;
        self.headers.insert(HeaderName::from_static(name), value);
        Ok(self)
    }

    /// Set a JSON body with the given media type.
    pub fn json_body(mut self, value: &serde_json::Value, media_type: &'static str) -> Self {
        self.headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static(media_type),
        );
        self.payload = Payload::Bytes(Bytes::from(value.to_string()));
        self
    }

    /// The full URL below `endpoint` (which ends in `/`).
    pub fn url(&self, endpoint: &Url) -> Result<Url> {
        if let Some(raw) = &self.raw_path {
            // Links are server-relative ("/v2/images?…"): keep the endpoint's own
            // path prefix (e.g. "/image") in front of them.
            let joined = format!(
                "{}{}",
                endpoint.as_str().trim_end_matches('/'),
                if raw.starts_with('/') {
                    raw.clone()
                } else {
                    format!("/{raw}")
                }
            );
            return Url::parse(&joined).map_err(|e| Error::Decode {
                path: "next".into(),
                message: format!("bad link {raw:?}: {e}"),
                response: None,
            });
        }
        for (i, seg) in self.segments.iter().enumerate() {
            // The url crate drops "." and ".." segments, and Glance decodes
            // %2F before routing: such values would address another resource.
            let why = if seg.is_empty() {
                "is empty"
            } else if seg == "." || seg == ".." {
                "cannot be \".\" or \"..\""
            } else if seg.contains('/') {
                "cannot contain \"/\" (Glance decodes it before routing)"
            } else {
                continue;
            };
            let shown = self
                .segments
                .iter()
                .enumerate()
                .map(|(n, s)| if n == i { "{?}" } else { s.as_str() })
                .collect::<Vec<_>>()
                .join("/");
            return Err(Error::InvalidInput(format!(
                "the path parameter {seg:?} {why}: /{shown}"
            )));
        }
        let mut url = endpoint.clone();
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|_| Error::Config("endpoint cannot be a base URL".into()))?;
            segs.pop_if_empty();
            for s in &self.segments {
                segs.push(s);
            }
        }
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        Ok(url)
    }
}

/// Refuse an empty value of a body parameter before anything is sent.
pub(crate) fn check_param(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        Err(Error::InvalidInput(format!("empty {what}")))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        let endpoint = Url::parse("http://glance.example:9292/image/").expect("url");
        let spec = RequestSpec::new(Method::PUT, ["v2", "images", "a b%c", "tags", "x?y#z"]);
        assert_eq!(
            spec.url(&endpoint).expect("url").as_str(),
            "http://glance.example:9292/image/v2/images/a%20b%25c/tags/x%3Fy%23z"
        );
    }

    #[test]
    fn links_keep_the_endpoint_prefix() {
        let endpoint = Url::parse("http://glance.example/image/").expect("url");
        let spec = RequestSpec::link("/v2/images?limit=2&marker=abc");
        assert_eq!(
            spec.url(&endpoint).expect("url").as_str(),
            "http://glance.example/image/v2/images?limit=2&marker=abc"
        );
    }

    #[test]
    fn empty_ids_are_refused_before_sending() {
        let endpoint = Url::parse("http://h/").expect("url");
        for bad in ["", ".", "..", "a/b"] {
            let spec = RequestSpec::new(Method::DELETE, ["v2", "images", bad]);
            let err = spec.url(&endpoint).expect_err("refused");
            assert!(matches!(err, Error::InvalidInput(_)), "{err}");
        }
    }

    #[test]
    fn only_idempotent_requests_with_replayable_bodies_are_retried() {
        let get = RequestSpec::new(Method::GET, ["v2", "images"]);
        assert!(get.is_replayable());
        let put = RequestSpec::new(Method::PUT, ["v2", "images", "i", "tags", "t"]);
        assert!(put.is_replayable());
        let post = RequestSpec::new(Method::POST, ["v2", "images"])
            .json_body(&serde_json::json!({}), "application/json");
        assert!(!post.is_replayable());
        let patch = RequestSpec::new(Method::PATCH, ["v2", "images", "i"]);
        assert!(!patch.is_replayable());
        let mut stream = RequestSpec::new(Method::PUT, ["v2", "images", "i", "file"]);
        stream.payload = Payload::OneShot(Some(reqwest::Body::from("x")));
        assert!(!stream.is_replayable());
        let mut bytes = RequestSpec::new(Method::PUT, ["v2", "images", "i", "file"]);
        bytes.payload = Payload::Bytes(Bytes::from_static(b"x"));
        assert!(bytes.is_replayable());
    }

    #[test]
    fn query_is_encoded() {
        let endpoint = Url::parse("http://h/").expect("url");
        let mut spec = RequestSpec::new(Method::GET, ["v2", "images"]);
        spec.query.push(("name".into(), "in:\"a,b\"".into()));
        assert_eq!(
            spec.url(&endpoint).expect("url").as_str(),
            "http://h/v2/images?name=in%3A%22a%2Cb%22"
        );
    }
}
