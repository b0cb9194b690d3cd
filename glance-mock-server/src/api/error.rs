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

    /// The response in one body format.
    pub fn body(&self, format: Format) -> Response {
        let code = self.title();
        let (ctype, body) = match format {
            Format::Plain => (
                "text/plain; charset=UTF-8",
                format!("{code}\n\n{}\n\n{}\n\n", self.explanation, self.detail),
            ),
            Format::Html => (
                "text/html; charset=UTF-8",
                format!(
                    "<html>\n <head>\n  <title>{code}</title>\n </head>\n <body>\n  <h1>{code}</h1>\n  {}<br /><br />\n{}\n\n\n </body>\n</html>",
                    self.explanation, self.detail
                ),
            ),
            Format::Json => (
                "application/json",
                serde_json::json!({
                    "message": format!("{}<br /><br />\n{}\n\n", self.explanation, self.detail),
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
