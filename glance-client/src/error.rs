//! The one error type of the client.

use reqwest::StatusCode;

/// Everything that can go wrong talking to the Image service.
///
/// Match on the variant for details, or ask the predicates
/// ([`Error::is_not_found`], [`Error::is_conflict`], …) when only the kind matters.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error status.
    #[error("{status}: {message}{}", request_id.as_deref().map(|r| format!(" (request {r})")).unwrap_or_default())]
    Http {
        /// The HTTP status.
        status: StatusCode,
        /// The server's message, taken from its HTML, JSON or text body.
        message: String,
        /// `x-openstack-request-id` of the response, if sent.
        request_id: Option<String>,
    },
    /// The request could not be sent or the response not received.
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// The response body was not what the API promises.
    #[error("cannot decode the response at {path}: {message}")]
    Decode {
        /// JSON path of the offending value (`.` for the whole document).
        path: String,
        /// What was wrong.
        message: String,
    },
    /// Downloaded data does not match the image's digest.
    #[error("corrupt image download: {algorithm} digest was {actual}, expected {expected}")]
    ChecksumMismatch {
        /// `sha512`, `md5`, …
        algorithm: String,
        /// The digest the server promised.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// The image's `os_hash_algo` names an algorithm this client does not implement.
    #[error(
        "unsupported hash algorithm {0:?} (allow the md5 fallback to validate with the checksum)"
    )]
    UnsupportedHashAlgorithm(String),
    /// The server sent fewer or more bytes than it announced.
    #[error("incomplete download: expected {expected} bytes, received {received}")]
    Incomplete {
        /// Bytes announced by `Content-Length`.
        expected: u64,
        /// Bytes received.
        received: u64,
    },
    /// The server lacks the API version a call needs (found by
    /// `GET /versions`); nothing else was sent.
    #[error("the Image service does not offer API {needed} (it offers {})", available.join(", "))]
    UnsupportedVersion {
        /// The version the call needs, e.g. `v2.14`.
        needed: String,
        /// The usable versions the server listed.
        available: Vec<String>,
    },
    /// Keystone refused to issue a token: wrong credentials (401), an
    /// unknown application credential (404), a malformed request (400), …
    #[error("authentication failed: {message} (HTTP {}){}", status.as_u16(), request_id.as_deref().map(|r| format!(" (Request-ID: {r})")).unwrap_or_default())]
    Auth {
        /// Keystone's status.
        status: StatusCode,
        /// Keystone's message.
        message: String,
        /// `x-openstack-request-id` of Keystone's answer.
        request_id: Option<String>,
    },
    /// The token's service catalog has no endpoint for the service with
    /// the interface (and region) asked for.
    #[error("no {service_type} endpoint with interface {interface}{} in the service catalog: {message}", region.as_deref().map(|r| format!(" in region {r}")).unwrap_or_default())]
    Catalog {
        /// The service type looked for (`image`).
        service_type: String,
        /// The interface looked for (`public`, `internal`, `admin`).
        interface: String,
        /// The region looked for, if any.
        region: Option<String>,
        /// What the catalog offers instead.
        message: String,
    },
    /// An argument was refused before anything was sent.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The client configuration is unusable (bad endpoint URL, missing token, …).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A local file could not be read or written.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// An import ended without the image active in every store asked for
    /// (see [`Images::wait_for_import`](crate::Images::wait_for_import)).
    #[error("{0}")]
    ImportFailed(Box<ImportFailure>),
    /// An image reached a status the awaited one cannot follow (`killed`,
    /// `deleted`, …).
    #[error("image {image_id} is {status}, so it will not become {expected}")]
    UnexpectedStatus {
        /// The image.
        image_id: String,
        /// Its status now.
        status: String,
        /// The status waited for.
        expected: String,
    },
    /// Waiting for an image gave up after its timeout.
    #[error("gave up waiting for image {image_id} after {waited:?}: it is still {status}{}", if importing_stores.is_empty() { String::new() } else { format!(", importing to {}", importing_stores.join(", ")) })]
    WaitTimeout {
        /// The image.
        image_id: String,
        /// How long it was watched.
        waited: std::time::Duration,
        /// Its last status.
        status: String,
        /// Stores an import was still writing to (`os_glance_importing_to_stores`).
        importing_stores: Vec<String>,
    },
    /// A download broke off and could not be resumed: attempts ran out, the
    /// server ignored the `Range`, or the image changed in between.
    #[error("download could not be resumed at byte {offset}: {reason}")]
    ResumeFailed {
        /// Bytes received (and delivered or held back) before the break.
        offset: u64,
        /// Why.
        reason: String,
        /// The error that broke the transfer last.
        #[source]
        cause: Option<Box<Error>>,
    },
}

/// What is known about a failed import: the image's import properties and
/// the message of its latest task.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ImportFailure {
    /// The image.
    pub image_id: String,
    /// Its status after the import (`queued` when the data was rolled
    /// back, `active` when only some stores failed).
    pub status: crate::images::ImageStatus,
    /// `os_glance_failed_import`: stores the import failed for.
    pub failed_stores: Vec<String>,
    /// `os_glance_importing_to_stores`: stores it was still writing to.
    pub importing_stores: Vec<String>,
    /// The image's latest task (`GET /v2/images/{id}/tasks`), when the
    /// server offers that call.
    pub task: Option<crate::tasks::Task>,
}

impl ImportFailure {
    /// The latest task's message, if any.
    pub fn message(&self) -> Option<&str> {
        self.task
            .as_ref()
            .and_then(|t| t.message.as_deref())
            .filter(|m| !m.is_empty())
    }
}

impl std::fmt::Display for ImportFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "import into image {} failed (status {}",
            self.image_id,
            self.status.as_str()
        )?;
        if !self.failed_stores.is_empty() {
            write!(f, ", failed stores: {}", self.failed_stores.join(", "))?;
        }
        f.write_str(")")?;
        if let Some(message) = self.message() {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The HTTP status of a server error.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Http { status, .. } | Error::Auth { status, .. } => Some(*status),
            Error::Transport(e) => e.status(),
            _ => None,
        }
    }

    /// The request id the server gave the failed request.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Http { request_id, .. } | Error::Auth { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    /// 404: the image (or other resource) does not exist or is not visible.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// 409: the request conflicts with the resource's state.
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(StatusCode::CONFLICT)
    }

    /// 403: the caller may not do this.
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(StatusCode::FORBIDDEN)
    }

    /// 401: the credentials were refused.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(StatusCode::UNAUTHORIZED)
    }

    /// 400: the server refused the request as malformed or invalid.
    pub fn is_bad_request(&self) -> bool {
        self.status() == Some(StatusCode::BAD_REQUEST)
    }

    /// 413: a quota or size limit was exceeded.
    pub fn is_over_limit(&self) -> bool {
        self.status() == Some(StatusCode::PAYLOAD_TOO_LARGE)
    }

    /// Whether Keystone refused the credentials ([`Error::Auth`]).
    pub fn is_auth(&self) -> bool {
        matches!(self, Error::Auth { .. })
    }

    /// Whether the service catalog lacks the endpoint ([`Error::Catalog`]).
    pub fn is_catalog(&self) -> bool {
        matches!(self, Error::Catalog { .. })
    }

    /// Whether the call was refused because the server lacks its API version.
    pub fn is_unsupported_version(&self) -> bool {
        matches!(self, Error::UnsupportedVersion { .. })
    }

    /// Whether an argument was refused before anything was sent.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Error::InvalidInput(_))
    }

    /// Whether an import failed ([`Error::ImportFailed`]).
    pub fn is_import_failed(&self) -> bool {
        matches!(self, Error::ImportFailed(_))
    }

    /// Whether the data received did not match its digest.
    pub fn is_checksum_mismatch(&self) -> bool {
        matches!(self, Error::ChecksumMismatch { .. })
    }

    /// Whether trying the same (idempotent) request again may succeed:
    /// connection problems, 429 and 5xx.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Http { status, .. } | Error::Auth { status, .. } => {
                *status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
            }
            Error::Transport(e) => e.is_connect() || e.is_timeout() || e.is_request(),
            Error::Incomplete { .. } => true,
            _ => false,
        }
    }
}

/// Pull the human message out of an error body, whatever its format.
///
/// Glance renders errors as JSON (`{"message": "…<br /><br />\n…", "code", "title"}`),
/// HTML or plain text, depending on the request's `Accept`.
pub(crate) fn extract_message(
    status: StatusCode,
    content_type: Option<&str>,
    body: &str,
) -> String {
    let ctype = content_type.unwrap_or("").to_ascii_lowercase();
    let text = if ctype.contains("json") {
        serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| {
                v.get("message")
                    .or_else(|| v.get("error").and_then(|e| e.get("message")))
                    .and_then(|m| m.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| body.to_owned())
    } else if ctype.contains("html") {
        let without_title = match (body.find("<title>"), body.find("</title>")) {
            (Some(a), Some(b)) if a < b => format!("{}{}", &body[..a], &body[b + 8..]),
            _ => body.to_owned(),
        };
        unescape_html(&strip_tags(&without_title))
    } else {
        body.to_owned()
    };
    let text = text.replace("<br />", " ");
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // Plain and HTML bodies repeat the status line ("404 Not Found") first.
    let status_line = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    match joined.strip_prefix(&status_line) {
        Some(rest) => rest.trim_start().to_owned(),
        None => joined,
    }
}

/// Decode the character references webob's HTML error pages use
/// (`&#x27;`, `&quot;`, `&amp;`, …).
fn unescape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let decoded = tail.find(';').filter(|end| *end <= 10).and_then(|end| {
            let name = &tail[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let code =
                        if let Some(hex) = name.strip_prefix("#x").or(name.strip_prefix("#X")) {
                            u32::from_str_radix(hex, 16).ok()
                        } else {
                            name.strip_prefix('#').and_then(|d| d.parse().ok())
                        };
                    code.and_then(char::from_u32)
                }
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_from_every_glance_error_format() {
        let json = r#"{"message": "No image found with ID x<br /><br />\n\n\n", "code": "404 Not Found", "title": "Not Found"}"#;
        assert_eq!(
            extract_message(StatusCode::NOT_FOUND, Some("application/json"), json),
            "No image found with ID x"
        );
        let plain = "404 Not Found\n\nNo image found with ID x\n\n   ";
        assert_eq!(
            extract_message(
                StatusCode::NOT_FOUND,
                Some("text/plain; charset=UTF-8"),
                plain
            ),
            "No image found with ID x"
        );
        let html = "<html>\n <head>\n  <title>409 Conflict</title>\n </head>\n <body>\n  <h1>409 Conflict</h1>\n  Image status transition from active to saving is not allowed<br /><br />\n\n\n\n </body>\n</html>";
        assert_eq!(
            extract_message(StatusCode::CONFLICT, Some("text/html"), html),
            "Image status transition from active to saving is not allowed"
        );
    }

    #[test]
    fn html_entities_are_decoded() {
        let html = "<html><body><h1>403 Forbidden</h1>It&#x27;s not allowed to add locations if locations are invisible.&lt;&amp;&#39;&bogus; &amp<br /><br /></body></html>";
        assert_eq!(
            extract_message(
                StatusCode::FORBIDDEN,
                Some("text/html; charset=UTF-8"),
                html
            ),
            "It's not allowed to add locations if locations are invisible.<&'&bogus; &amp"
        );
    }

    #[test]
    fn retryable_kinds() {
        let e = |s: u16| Error::Http {
            status: StatusCode::from_u16(s).expect("valid status"),
            message: String::new(),
            request_id: None,
        };
        assert!(e(503).is_retryable());
        assert!(e(429).is_retryable());
        assert!(!e(409).is_retryable());
        assert!(e(404).is_not_found());
    }
}
