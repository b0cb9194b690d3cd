//! Building requests (pure, unit-testable) and sending them (I/O).

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{Error, Result, extract_message};

/// A request described without sending it: method, path segments (each
/// percent-encoded when the URL is built), query and headers.
#[derive(Debug)]
pub(crate) struct RequestSpec {
    pub method: Method,
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Option<reqwest::Body>,
    /// A path and query given by the server (`next` links), used as is.
    pub raw_path: Option<String>,
    /// Moves image data: exempt from the whole-request timeout.
    pub streams_data: bool,
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
            body: None,
            raw_path: None,
            streams_data: false,
        }
    }

    /// A GET of a server-relative link such as `/v2/images?marker=…`.
    pub fn link(path_and_query: &str) -> Self {
        let mut spec = RequestSpec::new(Method::GET, Vec::<String>::new());
        spec.raw_path = Some(path_and_query.to_owned());
        spec
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
        self.body = Some(reqwest::Body::from(value.to_string()));
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

/// The request id of a response.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-openstack-request-id")
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

/// Whether a status means success for the Image API.
pub(crate) fn is_success(status: StatusCode) -> bool {
    status.is_success()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        let endpoint = Url::parse("http://glance.example:9292/image/").expect("url");
        let spec = RequestSpec::new(Method::PUT, ["v2", "images", "a b/c", "tags", "x?y"]);
        assert_eq!(
            spec.url(&endpoint).expect("url").as_str(),
            "http://glance.example:9292/image/v2/images/a%20b%2Fc/tags/x%3Fy"
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
