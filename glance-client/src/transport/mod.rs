//! Building requests (pure, unit-testable) and sending them (I/O).

pub(crate) mod paginate;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{Error, Result, extract_message};

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
    /// Statuses outside 2xx that mean success here (300 for `/versions`).
    pub also_ok: &'static [StatusCode],
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
            also_ok: &[],
        }
    }

    /// Whether sending this request again is harmless: an idempotent
    /// method (`GET`, `HEAD`, `PUT`, `DELETE`) and a body that can be
    /// produced again. `POST` and `PATCH` are never replayed.
    pub fn is_replayable(&self) -> bool {
        let idempotent = matches!(
            self.method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        idempotent && !matches!(self.payload, Payload::OneShot(_))
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

/// The header carrying request ids: the server's own in each response; in
/// a request, a global id the server logs beside its own.
pub(crate) const REQUEST_ID_HEADER: &str = "x-openstack-request-id";

/// The request id of a response.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Turn an error response into [`Error::Http`], reading its body for the message.
pub(crate) async fn error_from(resp: reqwest::Response) -> Error {
    let status = resp.status();
    let request_id = request_id(resp.headers());
    let ctype = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.text().await.unwrap_or_default();
    let mut message = extract_message(status, ctype.as_deref(), &body);
    if message.is_empty() {
        message = status.canonical_reason().unwrap_or("error").to_owned();
    }
    Error::Http {
        status,
        message,
        request_id,
    }
}

/// Decode a JSON body, naming the JSON path of any mismatch.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
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
