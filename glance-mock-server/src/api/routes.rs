//! Glance's v2 router (`glance/api/v2/router.py` on `routes.Mapper`, and
//! `glance.common.wsgi.Resource`) as one table, with the rules it applies
//! before any handler runs:
//!
//! * a path no route knows → 404, or 501 for a method outside GET, HEAD,
//!   POST, PUT, DELETE and PATCH;
//! * a known path with another method → the path's `RejectMethodController`
//!   route: 405 with Glance's `Allow` list (so `HEAD` is 405 too). Like every
//!   route without `body_reject`, it first reads a body as JSON;
//! * a route marked `body_reject` and a request with a body → 400;
//! * a route whose action takes no body but whose deserializer is Glance's
//!   default one → a body must be JSON, and a JSON object or array then
//!   makes the action fail (500);
//! * `/v2` itself → 302 to `/v2/`.
//!
//! The handlers behind it are the mock's own routers; a route of the table
//! the mock does not serve answers 404.

use std::sync::LazyLock;

use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use super::segments::{Pattern, Table};
use super::versions::base_url;

/// What a route does with a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRule {
    /// The action reads the body, or its deserializer ignores it.
    Own,
    /// `body_reject=True`: a body is refused with 400.
    Reject,
    /// Glance's default deserializer hands a JSON body to an action that
    /// takes none.
    Unexpected,
}

/// One path of Glance's router.
#[derive(Debug)]
pub struct Route {
    /// The path under `/v2`, with `{name}` for one path segment.
    pub pattern: &'static str,
    /// The methods routed to an action, and their body rule.
    pub methods: &'static [(&'static str, BodyRule)],
    /// The `Allow` list of the path's reject route, if it has one.
    pub allow: Option<&'static str>,
}

use BodyRule::{Own, Reject, Unexpected};

const fn route(
    pattern: &'static str,
    methods: &'static [(&'static str, BodyRule)],
    allow: Option<&'static str>,
) -> Route {
    Route {
        pattern,
        methods,
        allow,
    }
}

/// Every route of Glance 33's v2 router, in the order it connects them.
pub const ROUTES: &[Route] = &[
    route("/schemas/image", &[("GET", Reject)], Some("GET")),
    route("/schemas/images", &[("GET", Reject)], Some("GET")),
    route("/schemas/member", &[("GET", Reject)], Some("GET")),
    route("/schemas/members", &[("GET", Reject)], Some("GET")),
    route("/schemas/task", &[("GET", Unexpected)], Some("GET")),
    route("/schemas/tasks", &[("GET", Unexpected)], Some("GET")),
    route(
        "/schemas/metadefs/namespace",
        &[("GET", Reject)],
        Some("GET"),
    ),
    route(
        "/schemas/metadefs/namespaces",
        &[("GET", Reject)],
        Some("GET"),
    ),
    route(
        "/schemas/metadefs/resource_type",
        &[("GET", Reject)],
        Some("GET"),
    ),
    route(
        "/schemas/metadefs/resource_types",
        &[("GET", Reject)],
        Some("GET"),
    ),
    route(
        "/schemas/metadefs/property",
        &[("GET", Reject)],
        Some("GET"),
    ),
    route(
        "/schemas/metadefs/properties",
        &[("GET", Reject)],
        Some("GET"),
    ),
    route("/schemas/metadefs/object", &[("GET", Reject)], Some("GET")),
    route("/schemas/metadefs/objects", &[("GET", Reject)], Some("GET")),
    route("/schemas/metadefs/tag", &[("GET", Reject)], Some("GET")),
    route("/schemas/metadefs/tags", &[("GET", Reject)], Some("GET")),
    route("/metadefs/resource_types", &[("GET", Reject)], Some("GET")),
    route(
        "/metadefs/namespaces/{namespace}/resource_types",
        &[("GET", Reject), ("POST", Own)],
        Some("GET, POST"),
    ),
    route(
        "/metadefs/namespaces/{namespace}/resource_types/{resource_type}",
        &[("DELETE", Reject)],
        Some("DELETE"),
    ),
    route(
        "/metadefs/namespaces",
        &[("GET", Own), ("POST", Own)],
        Some("GET, POST"),
    ),
    route(
        "/metadefs/namespaces/{namespace}",
        &[("GET", Reject), ("PUT", Own), ("DELETE", Reject)],
        Some("GET, PUT, DELETE"),
    ),
    route(
        "/metadefs/namespaces/{namespace}/properties",
        &[("GET", Reject), ("POST", Own), ("DELETE", Unexpected)],
        Some("GET, POST, DELETE"),
    ),
    route(
        "/metadefs/namespaces/{namespace}/properties/{property_name}",
        &[("GET", Own), ("PUT", Own), ("DELETE", Unexpected)],
        Some("GET, PUT, DELETE"),
    ),
    route(
        "/metadefs/namespaces/{namespace}/objects",
        &[("GET", Own), ("POST", Own), ("DELETE", Unexpected)],
        Some("GET, POST, DELETE"),
    ),
    route(
        "/metadefs/namespaces/{namespace}/objects/{object_name}",
        &[("GET", Reject), ("PUT", Own), ("DELETE", Reject)],
        Some("GET, PUT, DELETE"),
    ),
    route(
        "/metadefs/namespaces/{namespace}/tags",
        &[("GET", Own), ("POST", Own), ("DELETE", Unexpected)],
        Some("GET, POST, DELETE"),
    ),
    route(
        "/metadefs/namespaces/{namespace}/tags/{tag_name}",
        &[
            ("GET", Reject),
            ("POST", Reject),
            ("PUT", Own),
            ("DELETE", Reject),
        ],
        Some("GET, POST, PUT, DELETE"),
    ),
    route("/images", &[("GET", Own), ("POST", Own)], Some("GET, POST")),
    route(
        "/images/{image_id}",
        &[("PATCH", Own), ("GET", Reject), ("DELETE", Reject)],
        Some("GET, PATCH, DELETE"),
    ),
    // No reject route: other methods find no route at all.
    route("/images/{image_id}/tasks", &[("GET", Reject)], None),
    route("/images/{image_id}/import", &[("POST", Own)], Some("POST")),
    route(
        "/stores/{store_id}/{image_id}",
        &[("DELETE", Reject)],
        Some("DELETE"),
    ),
    route(
        "/images/{image_id}/actions/deactivate",
        &[("POST", Reject)],
        Some("POST"),
    ),
    route(
        "/images/{image_id}/actions/reactivate",
        &[("POST", Reject)],
        Some("POST"),
    ),
    route(
        "/images/{image_id}/file",
        &[("GET", Reject), ("PUT", Own)],
        Some("GET, PUT"),
    ),
    route("/images/{image_id}/stage", &[("PUT", Own)], Some("PUT")),
    // Glance's reject route here allows only POST, although GET is routed.
    route(
        "/images/{image_id}/locations",
        &[("POST", Own), ("GET", Unexpected)],
        Some("POST"),
    ),
    route(
        "/images/{image_id}/tags/{tag_value}",
        &[("PUT", Reject), ("DELETE", Reject)],
        Some("PUT, DELETE"),
    ),
    route(
        "/images/{image_id}/members",
        &[("GET", Reject), ("POST", Own)],
        Some("GET, POST"),
    ),
    route(
        "/images/{image_id}/members/{member_id}",
        &[("GET", Reject), ("PUT", Own), ("DELETE", Reject)],
        Some("GET, PUT, DELETE"),
    ),
    route("/tasks", &[("POST", Own), ("GET", Own)], Some("GET, POST")),
    route(
        "/tasks/{task_id}",
        &[("GET", Unexpected), ("DELETE", Unexpected)],
        Some("GET, DELETE"),
    ),
    route("/info/import", &[("GET", Reject)], Some("GET")),
    route("/info/stores", &[("GET", Reject)], Some("GET")),
    route("/info/usage", &[("GET", Unexpected)], None),
    route("/info/stores/detail", &[("GET", Reject)], Some("GET")),
    route(
        "/cache",
        &[("GET", Reject), ("DELETE", Unexpected)],
        Some("GET, DELETE"),
    ),
    route(
        "/cache/{image_id}",
        &[("DELETE", Unexpected), ("PUT", Unexpected)],
        Some("DELETE, PUT"),
    ),
    route("/cache/nodes/{image_id}", &[("GET", Reject)], Some("GET")),
    route("/cache/clean", &[("POST", Unexpected)], Some("POST")),
    route("/cache/prune", &[("POST", Unexpected)], Some("POST")),
];

impl Route {
    /// The literal text before the first `{`, without a trailing `/`: Routes
    /// tries routes with longer such prefixes first.
    fn static_prefix(&self) -> &'static str {
        let end = self.pattern.find('{').unwrap_or(self.pattern.len());
        self.pattern[..end].trim_end_matches('/')
    }

    /// Whether `path` (under `/v2`) matches the pattern; `{x}` matches one
    /// non-empty segment.
    pub fn matches(&self, path: &str) -> bool {
        let mut want = self.pattern.split('/');
        let mut got = path.split('/');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return true,
                (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') => {
                    if g.is_empty() {
                        return false;
                    }
                }
                (Some(w), Some(g)) if w == g => {}
                _ => return false,
            }
        }
    }
}

/// The routes in the order `routes.Mapper` tries them: longer static
/// prefixes first, connection order otherwise; patterns split once here
/// (splitting them for each request was an eighth of a
/// GET /v2/images/{id}, bench/profile show), filed by their length and
/// first segment. Every route's first segment is a literal (`images`,
/// `schemas`, ...; a test checks), so filing by it keeps each path's
/// candidates in the order above.
static MATCH_ORDER: LazyLock<Table<&'static Route>> = LazyLock::new(|| {
    let mut routes: Vec<&Route> = ROUTES.iter().collect();
    routes.sort_by_key(|r| std::cmp::Reverse(r.static_prefix().len()));
    let mut table = Table::new(1);
    for route in routes {
        table.push(Pattern::parse(route.pattern), route);
    }
    table
});

/// What Glance's router does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatch {
    /// Routed to an action, with this body rule; `allow` is the path's
    /// reject route's list.
    Action {
        /// What the action does with a body.
        body: BodyRule,
        /// The path's `Allow` list, if it has a reject route.
        allow: Option<&'static str>,
    },
    /// Routed to the path's reject route: 405 with this `Allow`.
    Reject(&'static str),
    /// Matched by no route.
    NoRoute,
}

/// Route `method path` (path under `/v2`, e.g. `/images/x`).
pub fn dispatch(method: &Method, path: &str) -> Dispatch {
    for route in MATCH_ORDER.matching(path) {
        if let Some((_, body)) = route.methods.iter().find(|(m, _)| *m == method.as_str()) {
            return Dispatch::Action {
                body: *body,
                allow: route.allow,
            };
        }
        if let Some(allow) = route.allow {
            return Dispatch::Reject(allow);
        }
    }
    Dispatch::NoRoute
}

/// `JSONRequestDeserializer.has_body`: a positive `Content-Length`, or a
/// known `Transfer-Encoding` on a method that may carry a body.
fn has_body(method: &Method, headers: &HeaderMap) -> bool {
    let chunked = headers
        .get(header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .is_some_and(|te| {
            ["chunked", "compress", "deflate", "gzip", "identity"].contains(&te.as_str())
        });
    if chunked && [Method::POST, Method::PUT, Method::PATCH].contains(method) {
        return true;
    }
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > 0)
}

/// The most a body read only to be checked as JSON may be.
const JSON_CHECK_LIMIT: usize = 16 << 20;

/// `JSONRequestDeserializer.default`: the body must be a JSON object or array.
async fn read_json_body(req: Request) -> Result<(), ApiError> {
    let bytes = to_bytes(req.into_body(), JSON_CHECK_LIMIT)
        .await
        .map_err(|_| ApiError::bad_request("Malformed JSON in request body."))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Err(_) => Err(ApiError::bad_request("Malformed JSON in request body.")),
        Ok(Value::Object(_) | Value::Array(_)) => Ok(()),
        Ok(_) => Err(ApiError::bad_request(
            "Unexpected body type. Expected list/dict.",
        )),
    }
}

/// Methods Glance's router answers 404 (not 501) for when no route matches.
const IMPLEMENTED_METHODS: &[Method] = &[
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
];

/// The `Allow` list of the routes matching `path`: their reject route's,
/// or else the methods routed; `None` when no route matches.
fn allow_list(path: &str) -> Option<String> {
    let mut routed = Vec::new();
    for m in IMPLEMENTED_METHODS {
        match dispatch(m, path) {
            Dispatch::Reject(allow)
            | Dispatch::Action {
                allow: Some(allow), ..
            } => {
                return Some(allow.to_owned());
            }
            Dispatch::Action { allow: None, .. } if *m != Method::HEAD => routed.push(m.as_str()),
            _ => {}
        }
    }
    (!routed.is_empty()).then(|| routed.join(", "))
}

/// Middleware (before the handlers' routing): apply Glance's router rules.
pub async fn screen<F: std::future::Future<Output = Response>>(
    req: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    let method = req.method().clone();
    let Some(path) = req.uri().path().strip_prefix("/v2") else {
        return ApiError::not_found_default().into_response();
    };
    if path.is_empty() {
        return redirect_to_root(req.headers());
    }
    match dispatch(&method, path) {
        Dispatch::NoRoute if IMPLEMENTED_METHODS.contains(&method) => {
            ApiError::not_found_default().into_response()
        }
        // webob's 501; unless `glance_server_errors`, a 405 (or 404 where
        // no method is routed), which the error middleware puts in its place.
        Dispatch::NoRoute => {
            ApiError::unknown_method(&method, allow_list(path).as_deref()).into_response()
        }
        Dispatch::Reject(allow) => {
            if has_body(&method, req.headers()) {
                if let Err(e) = read_json_body(req).await {
                    return e.into_response();
                }
            }
            ApiError::method_not_allowed(&method, allow).into_response()
        }
        Dispatch::Action { body: rule, allow } => match rule {
            BodyRule::Reject if has_body(&method, req.headers()) => {
                ApiError::bad_request("A body is not expected with this request.").into_response()
            }
            BodyRule::Unexpected if has_body(&method, req.headers()) => {
                match read_json_body(req).await {
                    Err(e) => e.into_response(),
                    Ok(()) => ApiError::glance_crash(
                        StatusCode::BAD_REQUEST,
                        "A body is not expected with this request.",
                    )
                    .into_response(),
                }
            }
            _ => {
                let resp = next(req).await;
                if resp.status() == StatusCode::METHOD_NOT_ALLOWED
                    && resp.extensions().get::<ApiError>().is_none()
                {
                    // Routed by Glance, but not (yet) by the mock's handlers.
                    return match allow {
                        Some(allow) => ApiError::method_not_allowed(&method, allow),
                        None => ApiError::not_found_default(),
                    }
                    .into_response();
                }
                resp
            }
        },
    }
}

/// Routes' redirect of the empty path: `302` to `/v2/`, no body.
fn redirect_to_root(headers: &HeaderMap) -> Response {
    (
        StatusCode::FOUND,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf8".to_owned()),
            (header::LOCATION, format!("{}/v2/", base_url(headers))),
        ],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(method: &str, path: &str) -> Dispatch {
        dispatch(
            &Method::from_bytes(method.as_bytes()).expect("method"),
            path,
        )
    }

    #[test]
    fn known_paths_reject_other_methods_with_glances_allow() {
        assert_eq!(d("DELETE", "/images"), Dispatch::Reject("GET, POST"));
        assert_eq!(d("PUT", "/images"), Dispatch::Reject("GET, POST"));
        assert_eq!(d("HEAD", "/images"), Dispatch::Reject("GET, POST"));
        assert_eq!(d("PROPFIND", "/images"), Dispatch::Reject("GET, POST"));
        assert_eq!(d("HEAD", "/schemas/image"), Dispatch::Reject("GET"));
        assert_eq!(
            d("POST", "/images/x"),
            Dispatch::Reject("GET, PATCH, DELETE")
        );
        assert_eq!(d("PUT", "/images/x/locations"), Dispatch::Reject("POST"));
        assert_eq!(
            d("GET", "/images/x/tags/t"),
            Dispatch::Reject("PUT, DELETE")
        );
        // Routes tries the longer literal prefix first.
        assert_eq!(d("GET", "/cache/clean"), Dispatch::Reject("POST"));
        assert_eq!(d("GET", "/cache/x"), Dispatch::Reject("DELETE, PUT"));
    }

    #[test]
    fn routed_methods_carry_their_body_rule() {
        let action = |body, allow| Dispatch::Action { body, allow };
        assert_eq!(d("GET", "/images"), action(Own, Some("GET, POST")));
        assert_eq!(
            d("GET", "/images/x"),
            action(Reject, Some("GET, PATCH, DELETE"))
        );
        assert_eq!(d("GET", "/schemas/task"), action(Unexpected, Some("GET")));
        assert_eq!(
            d("POST", "/images/x/actions/deactivate"),
            action(Reject, Some("POST"))
        );
        assert_eq!(
            d("GET", "/images/x/locations"),
            action(Unexpected, Some("POST"))
        );
        assert_eq!(d("GET", "/images/x/tasks"), action(Reject, None));
    }

    #[test]
    fn every_route_starts_with_a_literal_segment() {
        // What filing the routes by their first segment relies on.
        for route in ROUTES {
            let first = route.pattern.split('/').nth(1).expect("a first segment");
            assert!(
                !first.is_empty() && !first.starts_with('{'),
                "{}",
                route.pattern
            );
        }
    }

    #[test]
    fn unknown_paths_find_no_route() {
        for (m, p) in [
            ("GET", "/nothing-here"),
            ("GET", "/"),
            ("GET", "/images/"),
            ("GET", "/images/x/file/"),
            ("GET", "/versions"),
            ("GET", "/Images"),
            // Paths without a reject route.
            ("DELETE", "/images/x/tasks"),
            ("POST", "/info/usage"),
        ] {
            assert_eq!(d(m, p), Dispatch::NoRoute, "{m} {p}");
        }
    }

    #[test]
    fn bodies_as_webob_sees_them() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, header::HeaderValue::from_static(v));
            }
            h
        };
        assert!(has_body(&Method::GET, &h(&[("content-length", "1")])));
        assert!(!has_body(&Method::GET, &h(&[("content-length", "0")])));
        assert!(!has_body(
            &Method::GET,
            &h(&[("transfer-encoding", "chunked")])
        ));
        assert!(has_body(
            &Method::PUT,
            &h(&[("transfer-encoding", "Chunked")])
        ));
        assert!(!has_body(
            &Method::DELETE,
            &h(&[("transfer-encoding", "chunked")])
        ));
        assert!(!has_body(&Method::POST, &h(&[])));
    }
}
