//! Errors as Glance (webob 1.8) renders them: the body's format follows the
//! request's `Accept` header, so handlers return an [`ApiError`] and the
//! [`render`] middleware, which sees the request, writes the body.
//!
//! webob builds a body from a template (normally
//! `"${explanation}<br /><br />\n${detail}\n${html_comment}\n"`) and then
//! serves it as JSON (`{"message", "code", "title"}`), as an HTML page (the
//! values HTML-escaped) or as plain text (tags stripped, `<br />` turned into
//! line breaks). A `HEAD` request gets the headers only.

use std::sync::LazyLock;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use regex::Regex;

use super::accept::Accept;
use crate::domain::Fault;
use crate::domain::python::json;

/// An error response waiting for its body.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The first paragraph (Glance's `explanation`, or webob's default text).
    pub explanation: String,
    /// The second paragraph (Glance's positional `detail`), often empty.
    pub detail: String,
    /// Extra headers, such as `Allow` on a 405.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    template: Template,
    /// `Some` when this 5xx reproduces a crash of Glance on input
    /// it does not check: the status (and webob's text for it) the mock
    /// answers instead unless `Config::glance_server_errors` is set. `None`
    /// for errors that are the mock's own (a failing disk), never softened.
    instead: Option<Box<Instead>>,
}

/// What the mock answers in place of one of Glance's 5xx.
#[derive(Debug, Clone)]
struct Instead {
    status: StatusCode,
    /// Headers only that answer carries (the `Allow` of a 405 given instead
    /// of a 501).
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Instead {
    fn boxed(status: StatusCode) -> Option<Box<Instead>> {
        Some(Box::new(Instead {
            status,
            headers: Vec::new(),
        }))
    }
}

/// The webob body templates Glance's errors use.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Template {
    /// `${explanation}<br /><br />\n${detail}\n${html_comment}\n`
    Standard,
    /// `HTTPMethodNotAllowed`: names the request method.
    MethodNotAllowed(String),
    /// `HTTPNotImplemented`: names the request method.
    NotImplemented(String),
    /// `HTTPUnsupportedMediaType`: names the request's content type.
    UnsupportedMediaType(String),
    /// `body_template='${explanation}'`: the explanation alone.
    Explanation,
}

impl ApiError {
    /// An error whose message is Glance's `explanation`.
    pub fn new(status: StatusCode, explanation: impl Into<String>) -> Self {
        ApiError {
            status,
            explanation: explanation.into(),
            detail: String::new(),
            headers: Vec::new(),
            template: Template::Standard,
            instead: None,
        }
    }

    /// An error with webob's default explanation followed by `detail`.
    pub fn with_detail(status: StatusCode, detail: impl Into<String>) -> Self {
        let mut e = ApiError::new(status, default_explanation(status));
        e.detail = detail.into();
        e
    }

    /// An error with webob's default explanation only.
    pub fn default_for(status: StatusCode) -> Self {
        ApiError::new(status, default_explanation(status))
    }

    /// 400 Bad Request.
    pub fn bad_request(msg: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, msg)
    }

    /// 404 with webob's default text.
    pub fn not_found_default() -> Self {
        ApiError::default_for(StatusCode::NOT_FOUND)
    }

    /// 401, as keystone-middleware's context layer answers a request without identity.
    pub fn unauthorized() -> Self {
        ApiError::default_for(StatusCode::UNAUTHORIZED)
    }

    /// 500 with webob's default text: the mock's own failure (e.g. a store
    /// that cannot read its disk), answered as such in every mode.
    pub fn internal() -> Self {
        ApiError::default_for(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Where Glance 33 crashes (500 with webob's default text): by default
    /// the mock answers `instead` with webob's text for it and `detail`;
    /// with `Config::glance_server_errors` the 500 as Glance. See
    /// [`soften_crashes`] and RELIABILITY.md for the list.
    pub fn glance_crash(instead: StatusCode, detail: impl Into<String>) -> Self {
        let mut e = ApiError::default_for(StatusCode::INTERNAL_SERVER_ERROR);
        e.instead = Instead::boxed(instead);
        e.detail = detail.into();
        e
    }

    /// The answer given in place of a Glance crash: `instead`, webob's text
    /// for it, and the crash's detail (if any).
    /// `None` for an error that is not one of Glance's 5xx.
    fn softened(&self) -> Option<Self> {
        let soft = self.instead.as_deref()?;
        let instead = soft.status;
        let mut e = ApiError {
            status: instead,
            explanation: default_explanation(instead).to_owned(),
            instead: None,
            ..self.clone()
        };
        e.headers.extend(soft.headers.iter().cloned());
        if instead == StatusCode::METHOD_NOT_ALLOWED {
            if let Template::NotImplemented(method) = &self.template {
                e.template = Template::MethodNotAllowed(method.clone());
            }
        } else if matches!(self.template, Template::NotImplemented(_)) {
            e.template = Template::Standard;
        }
        Some(e)
    }

    /// 405 from Glance's `RejectMethodController`, with its `Allow` list.
    pub fn method_not_allowed(method: &Method, allow: &str) -> Self {
        let mut e = ApiError::default_for(StatusCode::METHOD_NOT_ALLOWED);
        e.template = Template::MethodNotAllowed(method.as_str().to_owned());
        e.header(header::ALLOW, allow)
    }

    /// 501 for a method no route knows.
    pub fn not_implemented(method: &Method) -> Self {
        let mut e = ApiError::default_for(StatusCode::NOT_IMPLEMENTED);
        e.template = Template::NotImplemented(method.as_str().to_owned());
        e
    }

    /// webob's 501 for a method no route knows, which the mock answers as
    /// 405 with `allow` (when the path has routes) or 404 unless
    /// `Config::glance_server_errors`.
    pub fn unknown_method(method: &Method, allow: Option<&str>) -> Self {
        let mut e = ApiError::not_implemented(method);
        match allow.and_then(|a| HeaderValue::from_str(a).ok()) {
            Some(allow) => {
                e.instead = Some(Box::new(Instead {
                    status: StatusCode::METHOD_NOT_ALLOWED,
                    headers: vec![(header::ALLOW, allow)],
                }));
            }
            None => e.instead = Instead::boxed(StatusCode::NOT_FOUND),
        }
        e
    }

    /// 415 with webob's template for unsupported media types.
    pub fn unsupported_media(content_type: &str, detail: impl Into<String>) -> Self {
        let mut e = ApiError::with_detail(StatusCode::UNSUPPORTED_MEDIA_TYPE, detail);
        e.template = Template::UnsupportedMediaType(content_type.to_owned());
        e
    }

    /// An error whose body template is its explanation alone (Glance's
    /// `body_template='${explanation}'`).
    pub fn explanation_only(status: StatusCode, explanation: impl Into<String>) -> Self {
        let mut e = ApiError::new(status, explanation);
        e.template = Template::Explanation;
        e
    }

    /// Add a response header.
    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }
}

impl From<Fault> for ApiError {
    fn from(f: Fault) -> Self {
        let (status, msg) = match f {
            Fault::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            Fault::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            Fault::ForbiddenDetail(m) => return ApiError::with_detail(StatusCode::FORBIDDEN, m),
            Fault::NotFound(m) => (StatusCode::NOT_FOUND, m),
            Fault::Conflict(m) => (StatusCode::CONFLICT, m),
            Fault::ConflictDetail(m) => return ApiError::with_detail(StatusCode::CONFLICT, m),
            Fault::Gone(m) => (StatusCode::GONE, m),
            Fault::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, m),
            Fault::Unavailable(m) => {
                return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, m)
                    .header(header::RETRY_AFTER, "1");
            }
            Fault::Internal(m) => {
                let mut e = ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, m);
                e.instead = Instead::boxed(StatusCode::BAD_REQUEST);
                return e;
            }
        };
        ApiError::new(status, msg)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Rendered as plain text unless the `render` middleware knows better.
        let mut resp = self.body(Format::Plain).into_response();
        resp.extensions_mut().insert(self);
        resp
    }
}

/// Body formats webob chooses between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// No Accept header, or nothing acceptable.
    Plain,
    /// Accept matched `text/html` first (e.g. `*/*`).
    Html,
    /// Accept matched `application/json`.
    Json,
}

impl Format {
    /// webob's choice among the offers `text/html` and `application/json`:
    /// the best acceptable one, plain text if neither is acceptable. An
    /// invalid header accepts everything (so HTML).
    pub fn from_accept(accept: Option<&[u8]>) -> Format {
        let offers = Accept::parse(accept).acceptable_offers(&["text/html", "application/json"]);
        match offers.first() {
            Some(("text/html", _)) => Format::Html,
            Some(("application/json", _)) => Format::Json,
            _ => Format::Plain,
        }
    }
}

impl ApiError {
    /// `"404 Not Found"`: the status line webob prints.
    fn title(&self) -> String {
        format!("{} {}", self.status.as_u16(), reason(self.status))
    }

    /// The template filled in, each value passed through `escape`.
    fn fill(&self, escape: fn(&str) -> String) -> String {
        let detail = escape(&self.detail);
        match &self.template {
            Template::Standard => {
                format!("{}<br /><br />\n{detail}\n\n", escape(&self.explanation))
            }
            Template::MethodNotAllowed(method) => format!(
                "The method {} is not allowed for this resource. <br /><br />\n{detail}",
                escape(method)
            ),
            Template::NotImplemented(method) => format!(
                "\nThe request method {} is not implemented for this server. <br /><br />\n{detail}",
                escape(method)
            ),
            Template::Explanation => escape(&self.explanation),
            Template::UnsupportedMediaType(ctype) => format!(
                "The request media type {} is not supported by this server.\n<br /><br />\n{detail}",
                escape(ctype)
            ),
        }
    }

    /// The message as the JSON body's `message` carries it.
    pub fn message(&self) -> String {
        self.fill(|s| s.to_owned())
    }

    /// The response in one body format.
    pub fn body(&self, format: Format) -> Response {
        let status_line = self.title();
        let (ctype, body) = match format {
            Format::Plain => (
                "text/plain; charset=UTF-8",
                format!("{status_line}\n\n{}", strip_tags(&self.message())),
            ),
            Format::Html => (
                "text/html; charset=UTF-8",
                format!(
                    "<html>\n <head>\n  <title>{status_line}</title>\n </head>\n <body>\n  <h1>{status_line}</h1>\n  {}\n </body>\n</html>",
                    self.fill(html_escape)
                ),
            ),
            Format::Json => (
                "application/json",
                format!(
                    "{{\"message\": {}, \"code\": {}, \"title\": {}}}",
                    json::dumps_str(&self.message()),
                    json::dumps_str(&status_line),
                    json::dumps_str(reason(self.status))
                ),
            ),
        };
        self.respond(ctype, body)
    }

    /// The response to a `HEAD` request: webob's bare exception response.
    pub fn bodiless(&self) -> Response {
        self.respond("text/html; charset=UTF-8", String::new())
    }

    fn respond(&self, ctype: &'static str, body: String) -> Response {
        let mut resp = (self.status, [(header::CONTENT_TYPE, ctype)], body).into_response();
        for (k, v) in &self.headers {
            resp.headers_mut().insert(k.clone(), v.clone());
        }
        resp
    }
}

/// webob's title for a status (which is not always the IANA reason phrase).
pub fn reason(status: StatusCode) -> &'static str {
    match status.as_u16() {
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        416 => "Request Range Not Satisfiable",
        422 => "Unprocessable Entity",
        _ => status.canonical_reason().unwrap_or("Unknown"),
    }
}

/// webob's default explanation for a status.
pub fn default_explanation(status: StatusCode) -> &'static str {
    const MALFORMED: &str = "The server could not comply with the request since it is either malformed or otherwise incorrect.";
    const ERRED: &str =
        "The server has either erred or is incapable of performing the requested operation.";
    match status.as_u16() {
        400 | 405 | 406 | 415 => MALFORMED,
        401 => {
            "This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required."
        }
        402 => "Access was denied for financial reasons.",
        403 => "Access was denied to this resource.",
        404 => "The resource could not be found.",
        407 => "Authentication with a local proxy is needed.",
        408 => "The server has waited too long for the request to be sent by the client.",
        409 => "There was a conflict when trying to complete your request.",
        410 => "This resource is no longer available. No forwarding address is given.",
        411 => "Content-Length header required.",
        412 => "Request precondition failed.",
        413 => "The body of your request was too large for this server.",
        414 => "The request URI was too long for this server.",
        416 => "The Range requested is not available.",
        417 => "Expectation failed.",
        422 => "Unable to process the contained instructions",
        423 => "The resource is locked",
        428 => "This request is required to be conditional",
        429 => "The client has sent too many requests in a given amount of time",
        431 => "The request header fields were too large",
        451 => "The resource is not available due to legal reasons.",
        502 => "Bad gateway.",
        503 => "The server is currently unavailable. Please try again at a later time.",
        504 => "The gateway has timed out.",
        505 => "The HTTP version is not supported.",
        507 => "There was not enough space to save the resource",
        511 => "Network authentication is required",
        _ => ERRED,
    }
}

/// webob's `strip_tags`, which turns the template into plain text.
fn strip_tags(s: &str) -> String {
    static BR: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?is)<br.*?>").expect("valid regex"));
    static COMMENT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"<!--|-->").expect("valid regex"));
    static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?s)<.*?>").expect("valid regex"));
    let s = s.replace('\n', " ").replace('\r', "");
    let s = BR.replace_all(&s, "\n");
    let s = COMMENT.replace_all(&s, "");
    TAG.replace_all(&s, "").into_owned()
}

/// webob's `html_escape`: Python's `html.escape(s, quote=True)`, then
/// non-ASCII characters as decimal character references.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c if c.is_ascii() => out.push(c),
            c => out.push_str(&format!("&#{};", u32::from(c))),
        }
    }
    out
}

/// A JSON string as Python's `json.dumps` writes it, which lives in
/// [`crate::domain::python::json`]; this path stays for code that used it.
pub use crate::domain::python::json::dumps_str as python_json_string;

/// Middleware, just inside [`render`]: unless the deployment asks for
/// Glance's own server errors (`Config::glance_server_errors`), a 5xx that
/// reproduces Glance ([`ApiError::glance_crash`], `Fault::Internal`,
/// [`ApiError::unknown_method`]) becomes the 4xx it stands for, so that no
/// input makes the mock answer 5xx.
pub async fn soften_crashes<F: std::future::Future<Output = Response>>(
    state: &crate::state::SharedState,
    req: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    let mut resp = next(req).await;
    if state.config.glance_server_errors {
        return resp;
    }
    let instead = resp
        .extensions()
        .get::<ApiError>()
        .and_then(ApiError::softened);
    if let Some(soft) = instead {
        *resp.status_mut() = soft.status;
        resp.extensions_mut().insert(soft);
    }
    resp
}

/// Middleware: render [`ApiError`]s in the format the request accepts
/// (headers only for `HEAD`), keeping headers set around them (such as the
/// request id).
pub async fn render<F: std::future::Future<Output = Response>>(
    req: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    // Parsed only for an error: most answers are not.
    let accept = req.headers().get(header::ACCEPT).cloned();
    let head = req.method() == Method::HEAD;
    let resp = next(req).await;
    let Some(err) = resp.extensions().get::<ApiError>() else {
        return resp;
    };
    let mut out = if head {
        err.bodiless()
    } else {
        err.body(Format::from_accept(
            accept.as_ref().map(HeaderValue::as_bytes),
        ))
    };
    let own: Vec<HeaderName> = out.headers().keys().cloned().collect();
    for (name, value) in resp.headers() {
        if !own.contains(name) && name != header::CONTENT_LENGTH {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn text(resp: Response) -> (StatusCode, String, String) {
        let status = resp.status();
        let ctype = resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .to_owned();
        let body = to_bytes(resp.into_body(), usize::MAX).await.expect("body");
        (
            status,
            ctype,
            String::from_utf8(body.to_vec()).expect("utf-8"),
        )
    }

    #[test]
    fn plain_bodies_strip_tags_like_webob() {
        let e = ApiError::new(StatusCode::BAD_REQUEST, "a <b>x</b>\nline2 <br> y");
        let body = e.body(Format::Plain);
        let text = futures::executor::block_on(axum::body::to_bytes(body.into_body(), 1 << 16))
            .expect("body");
        assert_eq!(&text[..], b"400 Bad Request\n\na x line2 \n y\n\n   ");
        assert_eq!(
            strip_tags("Access was denied<br /><br />\ndetail <i>d</i>\n\n"),
            "Access was denied\n\n detail d  "
        );
        assert_eq!(strip_tags("1 < 2 <!-- c -->"), "1 < 2  c ");
        assert_eq!(strip_tags("<a <BR/>x"), "<a \nx");
    }

    #[test]
    fn html_bodies_escape_like_webob() {
        assert_eq!(
            html_escape(r#"{"member": 'x'} <b>&é"#),
            "{&quot;member&quot;: &#x27;x&#x27;} &lt;b&gt;&amp;&#233;"
        );
    }

    #[test]
    fn titles_are_webob_reasons() {
        let e = ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too many");
        assert_eq!(e.title(), "413 Request Entity Too Large");
        assert_eq!(reason(StatusCode::NOT_FOUND), "Not Found");
    }

    #[test]
    fn accept_negotiation_follows_webob() {
        let f = |h: Option<&str>| Format::from_accept(h.map(str::as_bytes));
        assert_eq!(f(None), Format::Plain);
        assert_eq!(f(Some("*/*")), Format::Html);
        assert_eq!(f(Some("application/json")), Format::Json);
        assert_eq!(f(Some("image/png")), Format::Plain);
        assert_eq!(f(Some("text/html;q=0.5, application/json")), Format::Json);
        assert_eq!(f(Some("not a header;;")), Format::Html);
    }

    // The expected bodies below are what webob 1.8.11 produces.

    #[tokio::test]
    async fn standard_template_in_three_formats() {
        let e = ApiError::new(StatusCode::NOT_FOUND, "No image found with ID x");
        assert_eq!(
            text(e.body(Format::Plain)).await,
            (
                StatusCode::NOT_FOUND,
                "text/plain; charset=UTF-8".into(),
                "404 Not Found\n\nNo image found with ID x\n\n   ".into()
            )
        );
        assert_eq!(
            text(e.body(Format::Json)).await.2,
            r#"{"message": "No image found with ID x<br /><br />\n\n\n", "code": "404 Not Found", "title": "Not Found"}"#
        );
        assert_eq!(
            text(e.body(Format::Html)).await.2,
            "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID x<br /><br />\n\n\n\n </body>\n</html>"
        );
    }

    #[tokio::test]
    async fn values_are_escaped_per_format() {
        let e = ApiError::new(StatusCode::NOT_FOUND, "No <b>x</b> 'q' é\nline");
        assert_eq!(
            text(e.body(Format::Plain)).await.2,
            "404 Not Found\n\nNo x 'q' é line\n\n   "
        );
        assert_eq!(
            text(e.body(Format::Html)).await.2,
            "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No &lt;b&gt;x&lt;/b&gt; &#x27;q&#x27; &#233;\nline<br /><br />\n\n\n\n </body>\n</html>"
        );
        assert_eq!(
            text(e.body(Format::Json)).await.2,
            r#"{"message": "No <b>x</b> 'q' \u00e9\nline<br /><br />\n\n\n", "code": "404 Not Found", "title": "Not Found"}"#
        );
    }

    #[tokio::test]
    async fn detail_follows_the_default_explanation() {
        let e = ApiError::with_detail(StatusCode::BAD_REQUEST, "detail here");
        assert_eq!(
            text(e.body(Format::Html)).await.2,
            "<html>\n <head>\n  <title>400 Bad Request</title>\n </head>\n <body>\n  <h1>400 Bad Request</h1>\n  The server could not comply with the request since it is either malformed or otherwise incorrect.<br /><br />\ndetail here\n\n\n </body>\n</html>"
        );
    }

    #[tokio::test]
    async fn method_templates() {
        let e = ApiError::method_not_allowed(&Method::PUT, "GET, POST");
        let resp = e.body(Format::Plain);
        assert_eq!(resp.headers()[header::ALLOW], "GET, POST");
        assert_eq!(
            text(resp).await.2,
            "405 Method Not Allowed\n\nThe method PUT is not allowed for this resource. \n\n "
        );
        assert_eq!(
            text(e.body(Format::Json)).await.2,
            r#"{"message": "The method PUT is not allowed for this resource. <br /><br />\n", "code": "405 Method Not Allowed", "title": "Method Not Allowed"}"#
        );
        let e = ApiError::not_implemented(&Method::PUT);
        assert_eq!(
            text(e.body(Format::Plain)).await.2,
            "501 Not Implemented\n\n The request method PUT is not implemented for this server. \n\n "
        );
        assert_eq!(
            text(e.body(Format::Json)).await.2,
            r#"{"message": "\nThe request method PUT is not implemented for this server. <br /><br />\n", "code": "501 Not Implemented", "title": "Not Implemented"}"#
        );
        assert_eq!(
            text(e.body(Format::Html)).await.2,
            "<html>\n <head>\n  <title>501 Not Implemented</title>\n </head>\n <body>\n  <h1>501 Not Implemented</h1>\n  \nThe request method PUT is not implemented for this server. <br /><br />\n\n </body>\n</html>"
        );
    }

    #[test]
    fn webob_titles_and_media_template() {
        let e = ApiError::from(Fault::TooLarge("too big".into()));
        assert_eq!(e.title(), "413 Request Entity Too Large");
        let e = ApiError::unsupported_media("text/plain", "Invalid content type text/plain");
        assert_eq!(
            e.message(),
            "The request media type text/plain is not supported by this server.\n<br /><br />\nInvalid content type text/plain"
        );
    }
}
