//! Version discovery and negotiation, as Glance's `versionnegotiation`
//! filter and `glance.api.versions` do it in front of everything else (so
//! these answers carry no request id and need no identity):
//!
//! * `/versions` (and anything under it) → 200 with the versions document;
//! * an `Accept: application/vnd.openstack.images-VERSION` header, or else a
//!   first path segment naming an accepted version (`v2`, `v2.0` … `v2.17`,
//!   the multi-store ones included), selects the v2 API: the request goes on
//!   with its path rewritten to `/v2/...`;
//! * anything else (`/`, `/v3/...`, `/v2.14/...` without an image cache)
//!   → 300 with the same document.
//!
//! Runs of `/` in the path count as one, as in Glance. The path otherwise
//! stays as sent (percent escapes included): handlers decode their
//! parameters the way Glance's WSGI server does.

use axum::extract::Request;
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::accept::Accept;
use crate::config::Config;
use crate::domain::python::json;
use crate::state::SharedState;

/// The media type prefix that selects a version through `Accept`.
const VND_MIME_TYPE: &str = "application/vnd.openstack.images-";

/// What the deployment has that changes the version list.
#[derive(Debug, Clone, Copy)]
struct Features {
    /// `image_cache_dir` is set (`config.cache.enabled`).
    cache: bool,
    /// `enabled_backends` is set.
    multistore: bool,
}

impl Features {
    fn of(config: &Config) -> Self {
        Features {
            cache: config.cache.enabled,
            multistore: !config.stores.is_empty(),
        }
    }

    /// `Controller.index`: the versions in Glance's order, with status.
    fn documented(self) -> Vec<(&'static str, &'static str)> {
        let mut v = Vec::new();
        if self.cache {
            v.extend([
                ("v2.18", "CURRENT"),
                ("v2.17", "SUPPORTED"),
                ("v2.16", "SUPPORTED"),
                ("v2.15", "SUPPORTED"),
                ("v2.14", "SUPPORTED"),
            ]);
        } else {
            v.push(("v2.15", "SUPPORTED"));
        }
        if self.multistore {
            v.extend(
                ["v2.13", "v2.12", "v2.11", "v2.10", "v2.9", "v2.8"].map(|id| (id, "SUPPORTED")),
            );
        } else {
            v.push(("v2.9", "SUPPORTED"));
        }
        if !self.cache {
            v.push(("v2.17", "CURRENT"));
        }
        v.extend(
            [
                "v2.7", "v2.6", "v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0",
            ]
            .map(|id| (id, "SUPPORTED")),
        );
        v
    }

    /// `VersionNegotiationFilter._get_allowed_versions`.
    fn accepts(self, version: &str) -> bool {
        match version {
            "v2" | "v2.0" | "v2.1" | "v2.2" | "v2.3" | "v2.4" | "v2.5" | "v2.6" | "v2.7"
            | "v2.9" | "v2.15" | "v2.17" => true,
            "v2.14" | "v2.16" | "v2.18" => self.cache,
            "v2.8" | "v2.10" | "v2.11" | "v2.12" | "v2.13" => self.multistore,
            _ => false,
        }
    }
}

/// The base URL a client used to reach us, from the `Host` header.
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The versions document, byte for byte as Glance writes it.
fn document(config: &Config, headers: &HeaderMap) -> String {
    let href = json::dumps_str(&format!("{}/v2/", base_url(headers)));
    let entries: Vec<String> = Features::of(config)
        .documented()
        .into_iter()
        .map(|(id, status)| {
            format!(r#"{{"id": "{id}", "status": "{status}", "links": [{{"rel": "self", "href": {href}}}]}}"#)
        })
        .collect();
    format!(r#"{{"versions": [{}]}}"#, entries.join(", "))
}

fn versions_response(status: StatusCode, config: &Config, headers: &HeaderMap) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        document(config, headers),
    )
        .into_response()
}

/// Where a request goes after version negotiation.
#[derive(Debug, PartialEq, Eq)]
enum Negotiated {
    /// The versions document with 200 (`/versions`).
    Versions,
    /// The versions document with 300 (no acceptable version).
    Choices,
    /// The v2 API, at this (normalised, rewritten) path.
    V2(String),
}

/// `VersionNegotiationFilter.process_request` on a path whose runs of `/`
/// are collapsed.
fn negotiate_path(features: Features, path: &str, accept: &Accept) -> Negotiated {
    let trimmed = path.trim_start_matches('/');
    let (first, rest) = match trimmed.find('/') {
        Some(i) => (&trimmed[..i], &trimmed[i..]),
        None => (trimmed, ""),
    };
    // Glance compares the segment decoded (as the WSGI server decodes paths).
    let first = percent_decode_latin1(first);
    if first == "versions" {
        return Negotiated::Versions;
    }
    let accept = accept.normalized();
    let (version, rest) = match accept.strip_prefix(VND_MIME_TYPE) {
        Some(version) => (version, path),
        None => (first.as_str(), rest),
    };
    if features.accepts(version) {
        Negotiated::V2(format!("/v2{rest}"))
    } else {
        Negotiated::Choices
    }
}

/// `%XX` escapes decoded to bytes, each byte one (Latin-1) character.
fn percent_decode_latin1(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(d) => {
                out.push(char::from(d));
                i += 3;
            }
            None => {
                out.push(char::from(bytes[i]));
                i += 1;
            }
        }
    }
    out
}

/// The path with each run of `/` made one.
fn collapse_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

/// Middleware (before routing): answer version discovery, or rewrite the
/// request's path to `/v2/...`.
pub async fn negotiate<F: std::future::Future<Output = Response>>(
    state: &SharedState,
    mut req: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    let raw = req.uri().path();
    let vnd_accept = req.headers().get(header::ACCEPT).is_some_and(|v| {
        v.as_bytes()
            .windows(3)
            .any(|w| w.eq_ignore_ascii_case(b"vnd"))
    });
    // The common case changes nothing: a `/v2/...` path, no `//`, and no
    // version asked for in `Accept`.
    if raw.starts_with("/v2/") && !raw.contains("//") && !vnd_accept {
        return next(req).await;
    }
    let path = collapse_slashes(raw);
    let accept = Accept::parse(req.headers().get(header::ACCEPT).map(HeaderValue::as_bytes));
    match negotiate_path(Features::of(&state.config), &path, &accept) {
        Negotiated::Versions => versions_response(StatusCode::OK, &state.config, req.headers()),
        Negotiated::Choices => {
            versions_response(StatusCode::MULTIPLE_CHOICES, &state.config, req.headers())
        }
        Negotiated::V2(path) => {
            let target = match req.uri().query() {
                Some(query) => format!("{path}?{query}"),
                None => path,
            };
            // The target is made of the request's own (valid) path and query.
            if let Ok(path_and_query) = PathAndQuery::try_from(target) {
                let mut parts = req.uri().clone().into_parts();
                parts.path_and_query = Some(path_and_query);
                if let Ok(uri) = Uri::from_parts(parts) {
                    *req.uri_mut() = uri;
                }
            }
            next(req).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLANCE33: Features = Features {
        cache: false,
        multistore: true,
    };

    fn route(path: &str, accept: Option<&str>) -> Negotiated {
        negotiate_path(GLANCE33, path, &Accept::parse(accept.map(str::as_bytes)))
    }

    #[test]
    fn reference_deployment_lists_multistore_versions() {
        let ids: Vec<&str> = GLANCE33.documented().iter().map(|(id, _)| *id).collect();
        assert_eq!(
            ids,
            [
                "v2.15", "v2.13", "v2.12", "v2.11", "v2.10", "v2.9", "v2.8", "v2.17", "v2.7",
                "v2.6", "v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0"
            ]
        );
        let current: Vec<_> = GLANCE33
            .documented()
            .into_iter()
            .filter(|(_, s)| *s == "CURRENT")
            .collect();
        assert_eq!(current, [("v2.17", "CURRENT")]);
    }

    #[test]
    fn url_versions_are_accepted_and_rewritten() {
        use Negotiated::*;
        assert_eq!(route("/v2/images", None), V2("/v2/images".into()));
        assert_eq!(route("/v2.17/images", None), V2("/v2/images".into()));
        assert_eq!(route("/v2.8/images", None), V2("/v2/images".into()));
        assert_eq!(route("/v2", None), V2("/v2".into()));
        assert_eq!(route("/v2.14/images", None), Choices);
        assert_eq!(route("/v2.99/images", None), Choices);
        assert_eq!(route("/v3/images", None), Choices);
        assert_eq!(route("/V2/images", None), Choices);
        assert_eq!(route("/", None), Choices);
        assert_eq!(route("/versions", None), Versions);
        assert_eq!(route("/versions/x", None), Versions);
        assert_eq!(route("/versionsx", None), Choices);
        assert_eq!(route("/v2/versions", None), V2("/v2/versions".into()));
    }

    #[test]
    fn accept_header_selects_a_version_without_a_prefix() {
        use Negotiated::*;
        let vnd = Some("application/vnd.openstack.images-v2");
        assert_eq!(route("/images", vnd), V2("/v2/images".into()));
        assert_eq!(route("/v2/images", vnd), V2("/v2/v2/images".into()));
        assert_eq!(
            route("/images", Some("application/vnd.openstack.images-v2.17")),
            V2("/v2/images".into())
        );
        assert_eq!(
            route("/images", Some("application/vnd.openstack.images-v3")),
            Choices
        );
        assert_eq!(
            route(
                "/images",
                Some("application/vnd.openstack.images-v2, application/json")
            ),
            Choices
        );
        assert_eq!(route("/images", Some("application/json")), Choices);
    }

    #[test]
    fn paths_read_as_glance_reads_them() {
        assert_eq!(collapse_slashes("//v2//images///x"), "/v2/images/x");
        assert_eq!(
            collapse_slashes("/v2/images/a%2F%2Fb"),
            "/v2/images/a%2F%2Fb"
        );
        assert_eq!(percent_decode_latin1("v%32%2e17"), "v2.17");
        assert_eq!(percent_decode_latin1("%C3%A9%zz%4"), "\u{c3}\u{a9}%zz%4");
        assert_eq!(
            route("/v%32/images/%C3%A9", None),
            Negotiated::V2("/v2/images/%C3%A9".into())
        );
        assert_eq!(route("/version%73", None), Negotiated::Versions);
    }

    #[test]
    fn document_links_to_v2_on_the_host_used() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("example.com:8080"));
        let doc = document(&Config::default(), &headers);
        assert!(doc.starts_with(
            r#"{"versions": [{"id": "v2.15", "status": "SUPPORTED", "links": [{"rel": "self", "href": "http://example.com:8080/v2/"}]}, "#
        ));
        let parsed: serde_json::Value = serde_json::from_str(&doc).expect("JSON");
        assert_eq!(parsed["versions"].as_array().map(Vec::len), Some(16));
    }
}
