//! Request details as Glance's WSGI stack sees them: path parameters
//! decoded the way the WSGI server hands them over, and the request-body
//! rules of `glance.common.wsgi` (`body_reject`, `JSONRequestDeserializer`).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, any, on};
use serde_json::Value;

use super::error::ApiError;
use super::identity::Caller;
use super::resources::RouteTemplate;

/// Path parameters as Glance receives them: the WSGI server percent-decodes
/// the path to bytes and hands it over as Latin-1 text (PEP 3333), so a
/// UTF-8 `é` in a tag arrives, and is stored, as the two characters `Ã©`.
///
/// An encoded `/` (`%2F`) splits the path for Glance, which then matches no
/// route: such a request is answered with webob's bare 404.
#[derive(Debug, Clone)]
pub struct WsgiParams(Vec<(String, String)>);

impl WsgiParams {
    /// The parameter `name` of the route (empty if the route has none).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WsgiParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let template = route_template(parts)?;
        let params =
            match_params(&template.0, parts.uri.path()).ok_or_else(ApiError::not_found_default)?;
        Ok(WsgiParams(params))
    }
}

/// The template of the route the request matched (a 404 for a handler
/// reached otherwise, which no route of the mock's table is).
fn route_template(parts: &Parts) -> Result<&RouteTemplate, ApiError> {
    parts
        .extensions
        .get::<RouteTemplate>()
        .ok_or_else(ApiError::not_found_default)
}

/// The route's `N` path parameters in order, percent-decoded as UTF-8 (a
/// `%2F` is a `/` in the value), as axum's `Path` reads them. A path that
/// is not UTF-8 once decoded was answered before routing
/// ([`undecodable_path`]).
#[derive(Debug, Clone)]
pub struct Param<const N: usize>(pub [String; N]);

impl<S: Send + Sync, const N: usize> FromRequestParts<S> for Param<N> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let template = route_template(parts)?;
        let mut values = Vec::with_capacity(N);
        // Split as bytes: `str::split` was most of this extractor's cost.
        let names = template.0.as_bytes().split(|&b| b == b'/');
        for (name, raw) in names.zip(parts.uri.path().as_bytes().split(|&b| b == b'/')) {
            if name.first() == Some(&b'{') && name.last() == Some(&b'}') {
                let decoded = if raw.contains(&b'%') {
                    percent_decode_bytes(raw)
                } else {
                    raw.to_vec()
                };
                let value = String::from_utf8(decoded).map_err(|_| {
                    ApiError::bad_request(
                        "The request path is not valid UTF-8 once percent-decoded.",
                    )
                })?;
                values.push(value);
            }
        }
        let values = <[String; N]>::try_from(values).map_err(|_| ApiError::not_found_default())?;
        Ok(Param(values))
    }
}

/// Pair the `{name}` segments of a route template with the request path's
/// segments, decoded as WSGI does; `None` if they do not line up or a
/// value holds a `/`.
fn match_params(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let names: Vec<&str> = template.split('/').collect();
    let values: Vec<&str> = path.split('/').collect();
    if names.len() != values.len() {
        return None;
    }
    let mut out = Vec::new();
    for (name, raw) in names.into_iter().zip(values) {
        if let Some(name) = name.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
            let value = wsgi_decode(raw);
            if value.contains('/') {
                return None;
            }
            out.push((name.to_owned(), value));
        }
    }
    Some(out)
}

/// `unquote_to_bytes`: percent escapes become bytes (a `%` not followed
/// by two hex digits stays as it is).
fn percent_decode(raw: &str) -> Vec<u8> {
    percent_decode_bytes(raw.as_bytes())
}

/// [`percent_decode`] of bytes.
fn percent_decode_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escaped {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

/// `unquote_to_bytes(s).decode('latin-1')`: the path text as the WSGI
/// server hands it to Glance, each decoded byte one character.
pub fn wsgi_decode(raw: &str) -> String {
    percent_decode(raw).into_iter().map(char::from).collect()
}

/// A query string as webob reads it (`parse_qsl_text`): `+` is a space,
/// pairs are separated by `&` and by `;`, empty pairs are skipped, a pair
/// without `=` has an empty value (`?name` is `name=""`, `?=x` has an empty
/// name), and names and values are percent-decoded (an escape that is not
/// one stays as it is). In request order, repeated names kept.
pub fn query_pairs(raw: &str) -> Vec<(String, String)> {
    let decode = |s: &str| String::from_utf8_lossy(&percent_decode(s)).into_owned();
    raw.replace('+', " ")
        .split(['&', ';'])
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// Middleware: Glance's version negotiation reads the request path as
/// UTF-8 before any other layer (identity included) and fails on a path
/// whose percent-decoded bytes are not UTF-8; its WSGI server (gunicorn)
/// then answers with its own bare 500 page, whatever the `Accept`. Unless
/// `Config::glance_server_errors`, the mock answers a 400 instead.
pub async fn undecodable_path<F: std::future::Future<Output = Response>>(
    state: &crate::state::SharedState,
    req: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    let path = req.uri().path();
    // Without an escape, the path is the `&str` it already is.
    if !path.contains('%') || std::str::from_utf8(&percent_decode(path)).is_ok() {
        return next(req).await;
    }
    if state.config.glance_server_errors {
        return server_error();
    }
    let format =
        super::error::Format::from_accept(req.headers().get(header::ACCEPT).map(|v| v.as_bytes()));
    let err = super::error::ApiError::with_detail(
        StatusCode::BAD_REQUEST,
        "The request path is not valid UTF-8 once percent-decoded.",
    );
    if req.method() == axum::http::Method::HEAD {
        err.bodiless()
    } else {
        err.body(format)
    }
}

/// What gunicorn answers when an exception escapes Glance entirely: its own
/// bare 500 page, whatever the `Accept`.
pub fn server_error() -> Response {
    const PAGE: &str = "<html>\n  <head>\n    <title>Internal Server Error</title>\n  </head>\n  <body>\n    <h1><p>Internal Server Error</p></h1>\n    \n  </body>\n</html>\n";
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [
            (header::CONTENT_TYPE, "text/html"),
            (header::CONNECTION, "close"),
        ],
        PAGE,
    )
        .into_response()
}

/// The content type webob gives every `Response()` it builds:
/// `text/html; charset=UTF-8`.
const WEBOB_DEFAULT_TYPE: HeaderValue = HeaderValue::from_static("text/html; charset=UTF-8");

/// Marks an answer without a body that Glance builds as
/// `webob.Response(status=204)` (member delete, the download of an image
/// without data): webob sets no content type on such a response, so
/// [`default_content_type`] leaves it without one.
#[derive(Debug, Clone, Copy)]
pub struct Untyped;

/// A `204` as Glance's handlers that build `webob.Response(status=204)`
/// answer it: no `Content-Type` (see [`Untyped`]).
pub fn untyped_no_content() -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.extensions_mut().insert(Untyped);
    resp
}

/// Glance's serializers write into the `webob.Response()` its `Resource`
/// creates (a 200 with webob's default `text/html; charset=UTF-8`) and
/// then set its status: so its `204` and `202` answers (image delete,
/// uploads, stage, import, tags, actions, metadefs deletes, cache) carry
/// that content type, and no body. Handlers answer the bare status; this
/// step, run on every answer of the pipeline, adds the content type,
/// except to answers marked [`Untyped`].
pub fn default_content_type(resp: &mut Response) {
    let status = resp.status();
    if (status == StatusCode::NO_CONTENT || status == StatusCode::ACCEPTED)
        && !resp.headers().contains_key(header::CONTENT_TYPE)
        && resp.extensions().get::<Untyped>().is_none()
    {
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, WEBOB_DEFAULT_TYPE);
    }
}

/// A request body, read whole, as Glance's `JSONRequestDeserializer` reads
/// it; use it instead of axum's `Bytes`, whose failures are answered with
/// the framework's plain text.
///
/// - A body over the mock's limit (axum's default, 2 MiB): Glance 33 sets
///   no limit on JSON bodies (a 30 MiB one reaches its schema check), so
///   this 413 is the mock's own, given in webob's shape
///   (`Request Entity Too Large`, webob's default text) through
///   [`super::error::render`].
/// - A body that cannot be read (a malformed chunked encoding): the WSGI
///   server's read error escapes Glance's handler and Glance answers
///   webob's 500; the mock answers 400 instead unless
///   `Config::glance_server_errors` ([`ApiError::glance_crash`]).
#[derive(Debug, Clone)]
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(Body)
            .map_err(unreadable_body)
    }
}

/// The [`Body`] rejection as Glance's error.
fn unreadable_body(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::default_for(StatusCode::PAYLOAD_TOO_LARGE)
    } else {
        // Glance's 500 carries webob's text alone.
        ApiError::glance_crash(StatusCode::BAD_REQUEST, "")
    }
}

/// Glance's `RejectMethodController` for a path whose routes take the
/// methods in `allow` (e.g. `"GET, POST"`): 405 with that `Allow` header,
/// for `HEAD` too (Glance routes no `HEAD`), after the identity check (401)
/// as in Glance's pipeline. Merge it into the path's method router; the
/// error middleware writes the body.
pub fn reject_other_methods<S>(allow: &'static str) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let reject =
        move |_: Caller| async move { (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, allow)]) };
    // `any` keeps axum from adding its own `Allow` to these answers (a 401).
    on(MethodFilter::HEAD, reject).merge(any(reject))
}

/// `JSONRequestDeserializer.has_body`: a known `Transfer-Encoding` on a
/// method that may carry a body, or a positive `Content-Length`.
pub fn has_body(method: &Method, headers: &HeaderMap) -> bool {
    let encoding = headers
        .get(header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let valid_encoding =
        ["chunked", "compress", "deflate", "gzip", "identity"].contains(&encoding.as_str());
    if valid_encoding && [Method::POST, Method::PUT, Method::PATCH].contains(method) {
        return true;
    }
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > 0)
}

/// Routes declared with `body_reject`: 400 if the request has a body.
pub fn reject_body(method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    if has_body(method, headers) {
        Err(ApiError::bad_request(
            "A body is not expected with this request.",
        ))
    } else {
        Ok(())
    }
}

/// `JSONRequestDeserializer.default`: the JSON body, `None` when the
/// request has none; 400 when it is not JSON or not a list or object.
pub fn json_body(
    method: &Method,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Option<Value>, ApiError> {
    if !has_body(method, headers) {
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::bad_request("Malformed JSON in request body."))?;
    if !value.is_object() && !value.is_array() {
        return Err(ApiError::bad_request(
            "Unexpected body type. Expected list/dict.",
        ));
    }
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_decode_as_latin1_like_wsgi() {
        assert_eq!(wsgi_decode("blue"), "blue");
        assert_eq!(wsgi_decode("sp%20ace+x"), "sp ace+x");
        assert_eq!(wsgi_decode("%C3%A9"), "\u{c3}\u{a9}");
        assert_eq!(wsgi_decode("100%"), "100%");
        assert_eq!(wsgi_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%FF"), [0xff]);
    }

    #[test]
    fn queries_split_like_webob() {
        let q = |raw: &str| query_pairs(raw);
        let p = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(q("name&=x"), p(&[("name", ""), ("", "x")]));
        assert_eq!(q("a=1;b=2&&c=3&"), p(&[("a", "1"), ("b", "2"), ("c", "3")]));
        assert_eq!(q("n=a=b&m=r+e%2B"), p(&[("n", "a=b"), ("m", "r e+")]));
        assert_eq!(q("n=%zz&x=lq%2Da"), p(&[("n", "%zz"), ("x", "lq-a")]));
        assert!(q("").is_empty());
    }

    #[test]
    fn params_pair_with_the_template() {
        let p = match_params("/v2/images/{id}/tags/{tag}", "/v2/images/abc/tags/x%20y")
            .expect("matches");
        assert_eq!(
            p,
            [("id".into(), "abc".into()), ("tag".into(), "x y".into())]
        );
        assert!(match_params("/v2/images/{id}/tags/{tag}", "/v2/images/abc/tags/a%2Fb").is_none());
    }

    #[test]
    fn body_detection_follows_glance() {
        let mut h = HeaderMap::new();
        assert!(!has_body(&Method::PUT, &h));
        h.insert(header::CONTENT_LENGTH, "0".parse().expect("header"));
        assert!(!has_body(&Method::PUT, &h));
        h.insert(header::CONTENT_LENGTH, "2".parse().expect("header"));
        assert!(has_body(&Method::GET, &h));
        let mut chunked = HeaderMap::new();
        chunked.insert(
            header::TRANSFER_ENCODING,
            "Chunked".parse().expect("header"),
        );
        assert!(has_body(&Method::PUT, &chunked));
        assert!(!has_body(&Method::DELETE, &chunked));
    }

    #[test]
    fn bodiless_answers_get_webobs_default_type() {
        for status in [StatusCode::NO_CONTENT, StatusCode::ACCEPTED] {
            let mut resp = status.into_response();
            default_content_type(&mut resp);
            assert_eq!(
                resp.headers()[header::CONTENT_TYPE],
                "text/html; charset=UTF-8"
            );
        }
        let mut resp = untyped_no_content();
        default_content_type(&mut resp);
        assert!(!resp.headers().contains_key(header::CONTENT_TYPE));
        // Other statuses, and answers with a type of their own, are left alone.
        let mut resp = StatusCode::OK.into_response();
        default_content_type(&mut resp);
        assert!(!resp.headers().contains_key(header::CONTENT_TYPE));
        let mut resp = (
            StatusCode::ACCEPTED,
            [(header::CONTENT_TYPE, "application/json")],
        )
            .into_response();
        default_content_type(&mut resp);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[tokio::test]
    async fn unreadable_bodies_are_glance_errors() {
        let big = Request::builder()
            .method(Method::POST)
            .body(axum::body::Body::from(vec![b' '; 3 << 20]))
            .expect("request");
        let e = Body::from_request(big, &())
            .await
            .expect_err("over the limit");
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            e.explanation,
            "The body of your request was too large for this server."
        );
        let failing = futures::stream::iter([Err::<Bytes, _>(std::io::Error::other("bad chunk"))]);
        let bad = Request::builder()
            .method(Method::POST)
            .body(axum::body::Body::from_stream(failing))
            .expect("request");
        let e = Body::from_request(bad, &()).await.expect_err("unreadable");
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.detail, "");
    }

    #[test]
    fn json_bodies_must_be_lists_or_objects() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_LENGTH, "3".parse().expect("header"));
        let parse = |b: &'static str| json_body(&Method::POST, &h, &Bytes::from(b));
        assert!(parse("{}").expect("object").is_some());
        assert!(parse("\"x\"").is_err());
        assert!(parse("{").is_err());
        assert_eq!(
            json_body(&Method::POST, &HeaderMap::new(), &Bytes::new()).ok(),
            Some(None)
        );
    }
}
