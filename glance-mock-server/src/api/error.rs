//! Errors as Glance (webob) renders them: the body's format follows the
//! request's `Accept` header, so handlers return an [`ApiError`] and the
//! [`render`] middleware, which sees the request, writes the body.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::domain::Fault;

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
}

impl ApiError {
    /// An error whose message is Glance's `explanation`.
    pub fn new(status: StatusCode, explanation: impl Into<String>) -> Self {
        ApiError {
            status,
            explanation: explanation.into(),
            detail: String::new(),
            headers: Vec::new(),
        }
    }

    /// An error with webob's default explanation followed by `detail`.
    pub fn with_detail(status: StatusCode, detail: impl Into<String>) -> Self {
        let mut e = ApiError::new(status, default_explanation(status));
        e.detail = detail.into();
        e
    }

    /// 400 Bad Request.
    pub fn bad_request(msg: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, msg)
    }

    /// 404 with webob's default text.
    pub fn not_found_default() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            default_explanation(StatusCode::NOT_FOUND),
        )
    }

    /// 401, as keystone-middleware's context layer answers a request without identity.
    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            default_explanation(StatusCode::UNAUTHORIZED),
        )
    }

    /// 415 with webob's template for unsupported media types.
    pub fn unsupported_media(content_type: &str, detail: impl Into<String>) -> Self {
        let mut e = ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("The request media type {content_type} is not supported by this server."),
        );
        e.detail = detail.into();
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
            Fault::NotFound(m) => (StatusCode::NOT_FOUND, m),
            Fault::Conflict(m) => (StatusCode::CONFLICT, m),
            Fault::Gone(m) => (StatusCode::GONE, m),
            Fault::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, m),
            Fault::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, m),
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
    /// webob's `best_match` over the offers `text/html` and `application/json`.
    pub fn from_accept(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Plain;
        };
        let mut best: Option<(f32, Format)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|q| q.parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            let format = match media.as_str() {
                "application/json" | "application/*" => Format::Json,
                "text/html" | "text/*" | "*/*" => Format::Html,
                _ => continue,
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, format));
            }
        }
        best.map_or(Format::Plain, |(_, f)| f)
    }
}

impl ApiError {
    fn title(&self) -> String {
        format!("{} {}", self.status.as_u16(), reason(self.status))
    }

    /// webob's body template for the status, filled with `escape`d text:
    /// `explanation<br /><br />` and `detail`, laid out as each exception
    /// class lays them out (405 and 415 have their own templates, whose
    /// fixed sentence the `explanation` holds here).
    fn template(&self, escape: impl Fn(&str) -> String) -> String {
        let (e, d) = (escape(&self.explanation), escape(&self.detail));
        match self.status {
            StatusCode::METHOD_NOT_ALLOWED => format!("{e}<br /><br />\n{d}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => format!("{e}\n<br /><br />\n{d}"),
            _ => format!("{e}<br /><br />\n{d}\n\n"),
        }
    }

    /// The response in one body format.
    pub fn body(&self, format: Format) -> Response {
        let code = self.title();
        let (ctype, body) = match format {
            Format::Plain => (
                "text/plain; charset=UTF-8",
                format!("{code}\n\n{}", strip_tags(&self.template(str::to_owned))),
            ),
            Format::Html => (
                "text/html; charset=UTF-8",
                format!(
                    "<html>\n <head>\n  <title>{code}</title>\n </head>\n <body>\n  <h1>{code}</h1>\n  {}\n </body>\n</html>",
                    self.template(html_escape)
                ),
            ),
            Format::Json => (
                "application/json",
                serde_json::json!({
                    "message": self.template(str::to_owned),
                    "code": code,
                    "title": reason(self.status),
                })
                .to_string(),
            ),
        };
        let mut resp = (self.status, [(header::CONTENT_TYPE, ctype)], body).into_response();
        for (k, v) in &self.headers {
            resp.headers_mut().insert(k.clone(), v.clone());
        }
        resp
    }
}

/// webob's `strip_tags`, which makes the plain-text body from the HTML
/// one: newlines become spaces, `<br...>` a newline, comment markers and
/// other tags (`<...>`, shortest match) vanish.
pub fn strip_tags(html: &str) -> String {
    let flat: String = html
        .chars()
        .filter(|c| *c != '\r')
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    let with_breaks = replace_spans(&flat, |s| find_ascii_ci(s, "<br"), "\n");
    let uncommented = with_breaks.replace("<!--", "").replace("-->", "");
    replace_spans(&uncommented, |s| s.find('<'), "")
}

/// Replace every span from where `start` finds one to the next `>` with
/// `with`; a start without a `>` after it ends the search.
fn replace_spans(text: &str, start: impl Fn(&str) -> Option<usize>, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = start(rest) {
        let Some(len) = rest[at..].find('>') else {
            break;
        };
        out.push_str(&rest[..at]);
        out.push_str(with);
        rest = &rest[at + len + 1..];
    }
    out.push_str(rest);
    out
}

/// Byte offset of the first ASCII-case-insensitive occurrence of `needle`.
fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// webob's `html_escape`: Python's `html.escape(s, quote=True)`, then
/// every non-ASCII character as a decimal character reference.
pub fn html_escape(s: &str) -> String {
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

/// The reason phrase webob gives a status, where it differs from the
/// `http` crate's (RFC 9110) names.
pub fn reason(status: StatusCode) -> &'static str {
    match status.as_u16() {
        413 => "Request Entity Too Large",
        416 => "Requested Range Not Satisfiable",
        _ => status.canonical_reason().unwrap_or(""),
    }
}

/// webob's default explanation for a status.
pub fn default_explanation(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => {
            "The server could not comply with the request since it is either malformed or otherwise incorrect."
        }
        401 => {
            "This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required."
        }
        403 => "Access was denied to this resource.",
        404 => "The resource could not be found.",
        409 => "There was a conflict when trying to complete your request.",
        _ => "The server has either erred or is incapable of performing the requested operation.",
    }
}

/// Middleware: re-render [`ApiError`]s in the format the request accepts,
/// and turn the router's bare 405s into Glance's.
pub async fn render(req: Request, next: Next) -> Response {
    let format = Format::from_accept(
        req.headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    );
    let method = req.method().clone();
    let resp = next.run(req).await;
    if let Some(err) = resp.extensions().get::<ApiError>() {
        return err.body(format);
    }
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED {
        // axum lists HEAD with GET and separates with ","; Glance does neither.
        let allow = resp
            .headers()
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty() && *m != "HEAD")
            .collect::<Vec<_>>()
            .join(", ");
        let err = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("The method {method} is not allowed for this resource. "),
        )
        .header(header::ALLOW, &allow);
        return err.body(format);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(Format::from_accept(None), Format::Plain);
        assert_eq!(Format::from_accept(Some("*/*")), Format::Html);
        assert_eq!(Format::from_accept(Some("application/json")), Format::Json);
        assert_eq!(Format::from_accept(Some("image/png")), Format::Plain);
        assert_eq!(
            Format::from_accept(Some("text/html;q=0.5, application/json")),
            Format::Json
        );
    }
}
