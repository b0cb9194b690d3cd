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
    /// The request could not be sent or the response not received
    /// (connection refused, TLS, a timeout, a body cut off). Ask the
    /// [`TransportError`] what kind ([`TransportError::is_timeout`], …).
    #[error("transport error: {0}")]
    Transport(#[source] TransportError),
    /// The response body was not what the API promises.
    #[error("cannot decode the response at {path}: {message}{}", response.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    Decode {
        /// JSON path of the offending value (`.` for the whole document).
        path: String,
        /// What was wrong.
        message: String,
        /// The answer that could not be decoded (status, request, content
        /// type, first bytes), when it came from the Image service.
        response: Option<Box<ResponseSummary>>,
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
    /// The server sent fewer bytes than it announced.
    #[error("incomplete download: expected {expected} bytes, received {received}")]
    Incomplete {
        /// Bytes announced by `Content-Length`.
        expected: u64,
        /// Bytes received.
        received: u64,
    },
    /// The body went on past the image's size (the record's `size`, else
    /// `Content-Length` or `Content-Range`): the transfer was stopped at
    /// the first byte too many, and none of them was delivered.
    #[error("the body was longer than the image: more than its {size} bytes arrived")]
    BodyTooLong {
        /// The image's size in bytes.
        size: u64,
    },
    /// No byte moved for the read timeout, on every attempt allowed.
    #[error("the {transfer} stalled: no data moved for {idle:?} at byte {offset}{}", if *attempts > 1 { format!(" (on each of {attempts} attempts)") } else { String::new() })]
    Stalled {
        /// A download or an upload.
        transfer: Transfer,
        /// Bytes moved before the last stall.
        offset: u64,
        /// The read timeout that ran out.
        idle: std::time::Duration,
        /// Attempts that stalled (a download is resumed after a stall).
        attempts: u32,
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
    /// [`Images::find`](crate::Images::find): no image has this id or
    /// name (among those the caller may see).
    #[error("no image with the name or id {0:?}")]
    NoSuchImage(String),
    /// [`Images::find`](crate::Images::find): several images have this
    /// name; ask by id.
    #[error("{} images are named {name:?} ({}); use an id", ids.len(), ids.join(", "))]
    AmbiguousName {
        /// The name asked for.
        name: String,
        /// The ids of the images with that name (the first page of them).
        ids: Vec<String>,
    },
    /// An argument was refused before anything was sent.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The client configuration is unusable (bad endpoint URL, missing token, …).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A local file could not be read or written. (An `io::Error` that
    /// only carries one of this crate's errors, as a byte stream handed
    /// to an `AsyncRead` does, converts back to that error.)
    #[error("I/O error: {0}")]
    Io(#[source] std::io::Error),
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

/// Why a request could not be sent or its answer not received: the HTTP
/// library's error, behind a type of this crate's so that a new major
/// version of that library is not a breaking change here.
///
/// ```
/// # async fn demo(client: glance_client::Client) {
/// match client.images().get("an-id").await {
///     Err(glance_client::Error::Transport(e)) if e.is_timeout() => eprintln!("timed out: {e}"),
///     Err(glance_client::Error::Transport(e)) if e.is_connect() => eprintln!("unreachable: {e}"),
///     _ => {}
/// }
/// # }
/// ```
///
/// No public field or variant of the HTTP library's types is reachable
/// through it:
///
/// ```compile_fail
/// fn inner(e: glance_client::TransportError) {
///     let _private = e.0;
/// }
/// ```
#[derive(Debug)]
pub struct TransportError(reqwest::Error);

impl TransportError {
    /// A timeout of the HTTP library's (connect or whole-request) ran out.
    pub fn is_timeout(&self) -> bool {
        self.0.is_timeout()
    }

    /// The connection could not be made (refused, DNS, TLS handshake, …).
    pub fn is_connect(&self) -> bool {
        self.0.is_connect()
    }

    /// Sending the request failed.
    pub fn is_request(&self) -> bool {
        self.0.is_request()
    }

    /// Reading or writing a body failed (a connection cut mid-transfer).
    pub fn is_body(&self) -> bool {
        self.0.is_body()
    }

    /// Whether trying again may succeed: a connection, request or timeout
    /// problem.
    pub fn is_retryable(&self) -> bool {
        self.is_connect() || self.is_timeout() || self.is_request()
    }

    /// The HTTP status the error is about, when there is one.
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status()
    }

    /// The URL of the request, when known.
    pub fn url(&self) -> Option<&str> {
        self.0.url().map(|u| u.as_str())
    }
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl Error {
    /// Wrap the HTTP library's error.
    pub(crate) fn transport(e: reqwest::Error) -> Self {
        Error::Transport(TransportError(e))
    }
}

/// Text that names none of a string enum's known values (`"qbull2"` as a
/// [`DiskFormat`](crate::DiskFormat)): what its `FromStr` and
/// `TryFrom<&str>` return.
///
/// ```
/// use glance_client::DiskFormat;
/// assert_eq!("qcow2".parse::<DiskFormat>(), Ok(DiskFormat::Qcow2));
/// let typo = "qbull2".parse::<DiskFormat>().unwrap_err();
/// assert_eq!(typo.value(), "qbull2");
/// assert!(typo.to_string().contains("qcow2"), "{typo}");
/// // A format this client does not name, on purpose:
/// let gpt = DiskFormat::Other("gpt".into());
/// assert_eq!(gpt.as_str(), "gpt");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a {type_name} (known: {})", known.join(", "))]
pub struct ParseEnumError {
    type_name: &'static str,
    value: String,
    known: &'static [&'static str],
}

impl ParseEnumError {
    pub(crate) fn new(
        type_name: &'static str,
        value: &str,
        known: &'static [&'static str],
    ) -> Self {
        ParseEnumError {
            type_name,
            value: value.to_owned(),
            known,
        }
    }

    /// The text that was refused.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The type it was parsed as (`DiskFormat`, …).
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The names that would have been accepted.
    pub fn known(&self) -> &'static [&'static str] {
        self.known
    }
}

/// Which way a [`Error::Stalled`] transfer went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transfer {
    /// Image data coming from the server (its answer, for other calls).
    Download,
    /// Image data going to the server, or the wait for its answer after.
    Upload,
}

impl std::fmt::Display for Transfer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transfer::Download => "download",
            Transfer::Upload => "upload",
        })
    }
}

/// What an undecodable answer looked like: enough to tell a proxy's error
/// page from a broken server, never the token (which is a request header).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseSummary {
    /// The HTTP status.
    pub status: StatusCode,
    /// The request's method.
    pub method: String,
    /// The request's URL (its query included; credentials never travel there).
    pub url: String,
    /// The answer's `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The first bytes of the body, as (lossy) text.
    pub body_start: String,
}

/// Bytes of a body shown in a [`ResponseSummary`].
pub(crate) const BODY_START: usize = 200;

impl ResponseSummary {
    /// A summary of `body`, answered with `status` to `method url`.
    pub(crate) fn new(
        status: StatusCode,
        method: &str,
        url: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Self {
        let shown = &body[..body.len().min(BODY_START)];
        let mut body_start = String::from_utf8_lossy(shown).into_owned();
        if body.len() > BODY_START {
            body_start.push('…');
        }
        ResponseSummary {
            status,
            method: method.to_owned(),
            url: url.to_owned(),
            content_type: content_type.map(str::to_owned),
            body_start,
        }
    }
}

impl std::fmt::Display for ResponseSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "HTTP {} to {} {}, Content-Type {}, body starts {:?}",
            self.status,
            self.method,
            self.url,
            self.content_type.as_deref().unwrap_or("(none)"),
            self.body_start
        )
    }
}

/// An error and its causes on one line, each said once: a cause whose
/// text is already in the line (an error that prints its source, as
/// `Error::Io` and `Error::Transport` do) is left out.
///
/// ```
/// let io = std::io::Error::from_raw_os_error(28);
/// let line = glance_client::report(&glance_client::Error::Io(io));
/// assert_eq!(line.matches("os error 28").count(), 1, "{line}");
/// ```
pub fn report(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !text.is_empty() && !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = e.source();
    }
    line.replace('\n', " ")
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            match e.into_inner().map(|inner| inner.downcast::<Error>()) {
                Some(Ok(ours)) => return *ours,
                // Not reached: checked above.
                Some(Err(other)) => return Error::Io(std::io::Error::other(other)),
                None => return Error::Io(std::io::Error::other("I/O error")),
            }
        }
        Error::Io(e)
    }
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
        matches!(self, Error::NoSuchImage(_)) || self.status() == Some(StatusCode::NOT_FOUND)
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

    /// 405: the resource does not allow this method (e.g. deleting a task).
    pub fn is_method_not_allowed(&self) -> bool {
        self.status() == Some(StatusCode::METHOD_NOT_ALLOWED)
    }

    /// 415: the request's `Content-Type` was refused (e.g. a patch not sent
    /// as a JSON-patch media type).
    pub fn is_unsupported_media_type(&self) -> bool {
        self.status() == Some(StatusCode::UNSUPPORTED_MEDIA_TYPE)
    }

    /// 416: a ranged download asked for bytes the image does not have.
    pub fn is_range_not_satisfiable(&self) -> bool {
        self.status() == Some(StatusCode::RANGE_NOT_SATISFIABLE)
    }

    /// 429: the server asked the client to slow down.
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(StatusCode::TOO_MANY_REQUESTS)
    }

    /// 5xx: the server failed.
    pub fn is_server_error(&self) -> bool {
        self.status().is_some_and(|s| s.is_server_error())
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

    /// Whether waiting for an image gave up ([`Error::WaitTimeout`]).
    pub fn is_wait_timeout(&self) -> bool {
        matches!(self, Error::WaitTimeout { .. })
    }

    /// Whether a transfer stalled ([`Error::Stalled`]).
    pub fn is_stalled(&self) -> bool {
        matches!(self, Error::Stalled { .. })
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
            Error::Transport(e) => e.is_retryable(),
            Error::Incomplete { .. } => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each variant, its causes included.
    async fn every_variant() -> Vec<Error> {
        // A real transport error: nothing listens on port 1.
        let transport = reqwest::Client::new()
            .get("http://127.0.0.1:1/v2/images")
            .send()
            .await
            .expect_err("refused");
        let io = || std::io::Error::from_raw_os_error(28);
        vec![
            Error::Http {
                status: StatusCode::NOT_FOUND,
                message: "No image found with ID x".into(),
                request_id: Some("req-1".into()),
            },
            Error::transport(transport),
            Error::Decode {
                path: ".".into(),
                message: "expected value at line 1 column 1".into(),
                response: Some(Box::new(ResponseSummary::new(
                    StatusCode::OK,
                    "GET",
                    "http://h/v2/images/x",
                    Some("text/html"),
                    b"<html>proxy</html>",
                ))),
            },
            Error::ChecksumMismatch {
                algorithm: "sha512".into(),
                expected: "aa".into(),
                actual: "bb".into(),
            },
            Error::UnsupportedHashAlgorithm("crc7".into()),
            Error::Incomplete {
                expected: 5,
                received: 3,
            },
            Error::BodyTooLong { size: 1000 },
            Error::Stalled {
                transfer: Transfer::Download,
                offset: 100,
                idle: std::time::Duration::from_secs(3),
                attempts: 4,
            },
            Error::UnsupportedVersion {
                needed: "v2.14".into(),
                available: vec!["v2.0".into()],
            },
            Error::Auth {
                status: StatusCode::UNAUTHORIZED,
                message: "The request you have made requires authentication.".into(),
                request_id: None,
            },
            Error::Catalog {
                service_type: "image".into(),
                interface: "public".into(),
                region: None,
                message: "none".into(),
            },
            Error::NoSuchImage("cirros".into()),
            Error::AmbiguousName {
                name: "cirros".into(),
                ids: vec!["a".into(), "b".into()],
            },
            Error::InvalidInput("empty name".into()),
            Error::Config("no endpoint".into()),
            Error::Io(io()),
            Error::ImportFailed(Box::new(ImportFailure {
                image_id: "i".into(),
                status: crate::images::ImageStatus::Queued,
                failed_stores: vec!["fast".into()],
                importing_stores: vec![],
                task: None,
            })),
            Error::UnexpectedStatus {
                image_id: "i".into(),
                status: "killed".into(),
                expected: "active".into(),
            },
            Error::WaitTimeout {
                image_id: "i".into(),
                waited: std::time::Duration::from_secs(1),
                status: "importing".into(),
                importing_stores: vec![],
            },
            Error::ResumeFailed {
                offset: 7,
                reason: "the transfer broke more than 3 times".into(),
                cause: Some(Box::new(Error::Io(io()))),
            },
        ]
    }

    #[tokio::test]
    async fn every_error_line_says_each_cause_once() {
        for e in every_variant().await {
            let line = report(&e);
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(c) = cause {
                let text = c.to_string();
                assert_eq!(line.matches(&text).count(), 1, "{text:?} in {line:?}");
                cause = c.source();
            }
            // No two neighbouring parts of the line are the same.
            let parts: Vec<&str> = line.split(": ").collect();
            assert!(parts.windows(2).all(|w| w[0] != w[1]), "{line}");
        }
        // A client error carried through an `io::Error` (a stream read as
        // `AsyncRead`) comes back as itself, not as "I/O error: I/O error".
        let carried = Error::from(std::io::Error::other(Error::InvalidInput("x".into())));
        assert!(matches!(carried, Error::InvalidInput(_)), "{carried:?}");
        let nested = Error::from(std::io::Error::other(Error::Io(
            std::io::Error::from_raw_os_error(28),
        )));
        assert_eq!(
            report(&nested).matches("I/O error").count(),
            1,
            "{}",
            report(&nested)
        );
        let disk_full = report(&Error::Io(std::io::Error::from_raw_os_error(28)));
        assert_eq!(disk_full.matches("os error 28").count(), 1, "{disk_full}");
    }

    #[test]
    fn an_undecodable_body_says_what_came_back() {
        let e = Error::Decode {
            path: ".".into(),
            message: "expected value at line 1 column 1".into(),
            response: Some(Box::new(ResponseSummary::new(
                StatusCode::OK,
                "GET",
                "http://h/v2/images/x",
                Some("text/html"),
                "<html>".repeat(100).as_bytes(),
            ))),
        };
        let line = e.to_string();
        for part in [
            "200 OK",
            "GET http://h/v2/images/x",
            "text/html",
            "<html><html>",
        ] {
            assert!(line.contains(part), "{part} in {line}");
        }
        assert!(line.len() < 500, "the body is cut: {line}");
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
