//! The caller's identity from keystone-middleware style headers, and
//! Glance's `ContextMiddleware` around the API: no identity → 401, and every
//! answer that got past it carries `x-openstack-request-id`.

use std::sync::{Arc, LazyLock};

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::domain::Identity;

/// Extractor: the identity a request acts as, or 401.
///
/// `X-Identity-Status: Confirmed` means the identity headers are
/// authoritative (project from `X-Project-Id`/`X-Tenant-Id`/`X-Tenant`, user
/// from `X-User-Id`/`X-User`, roles from `X-Roles`/`X-Role`). Otherwise any
/// `X-Auth-Token` acts as the default admin identity.
///
/// Shared, not owned: the identity is worked out once per request and the
/// default admin's is one value for the whole process.
///
/// Among a request's extensions, a `Caller` is what [`resolve`] made of
/// the request's headers as they are now: the first layer that reads them
/// (the fault layer, [`crate::api::control::intercept`], else [`context`])
/// puts it there and the later ones reuse it. A layer that changes the
/// identity headers must not leave one behind; the keystone guard changes
/// them only for a token the shim issued, for which none is put there
/// before it.
#[derive(Debug, Clone)]
pub struct Caller(pub Arc<Identity>);

/// The identity a bare token acts as, built once per process (building
/// and dropping it took six allocations per request).
static DEFAULT_ADMIN: LazyLock<Arc<Identity>> =
    LazyLock::new(|| Arc::new(Identity::default_admin()));

fn first(headers: &HeaderMap, names: &[HeaderName]) -> Option<String> {
    names.iter().find_map(|n| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    })
}

const fn h(name: &'static str) -> HeaderName {
    HeaderName::from_static(name)
}

/// Header names known at compile time: looking them up by `&str` parses
/// each name again (a tenth of the identity's cost, bench/profile show).
const IDENTITY_STATUS: HeaderName = h("x-identity-status");
const ROLES: [HeaderName; 2] = [h("x-roles"), h("x-role")];
const PROJECT: [HeaderName; 3] = [h("x-project-id"), h("x-tenant-id"), h("x-tenant")];
const USER: [HeaderName; 2] = [h("x-user-id"), h("x-user")];
const TOKEN: [HeaderName; 2] = [h("x-auth-token"), h("x-storage-token")];
const REQUEST_ID: HeaderName = h("x-openstack-request-id");
const SERVICE_CATALOG: HeaderName = h("x-service-catalog");

/// Work out the identity from request headers.
pub fn identify(headers: &HeaderMap) -> Option<Identity> {
    resolve(headers).map(Arc::unwrap_or_clone)
}

/// [`identify`], shared: a bare token's default admin is the one value
/// built once per process, not a new one.
pub fn resolve(headers: &HeaderMap) -> Option<Arc<Identity>> {
    let confirmed = headers
        .get(IDENTITY_STATUS)
        .is_some_and(|v| v.as_bytes() == b"Confirmed");
    if confirmed {
        let roles = first(headers, &ROLES)
            .map(|r| {
                r.split(',')
                    .map(|s| s.trim().to_ascii_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        return Some(Arc::new(Identity {
            project_id: first(headers, &PROJECT),
            user_id: first(headers, &USER),
            roles,
        }));
    }
    let token = TOKEN.iter().any(|n| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|s| !s.trim().is_empty())
    });
    token.then(|| DEFAULT_ADMIN.clone())
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // [`context`] worked it out already, unless a handler runs without it.
        if let Some(Caller(who)) = parts.extensions.get::<Caller>() {
            return Ok(Caller(who.clone()));
        }
        resolve(&parts.headers)
            .map(Caller)
            .ok_or_else(ApiError::unauthorized)
    }
}

/// The request id of the request's context (`req-...`), as handlers that
/// record it (tasks) find it among the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// oslo.context's `max_request_id_length` default.
const MAX_REQUEST_ID_LENGTH: usize = 64;

/// The request id an answer carries: the client's `X-Openstack-Request-ID`
/// (with `req-` prepended if missing), else a fresh `req-<uuid4>`.
///
/// A client id longer than 64 bytes gives `None`: Glance then goes on with
/// a broken request context, answering without a request id (and with a 500
/// wherever the context is used, which the mock does not imitate).
fn request_id(headers: &HeaderMap) -> Option<HeaderValue> {
    match headers.get(REQUEST_ID).map(HeaderValue::as_bytes) {
        Some(given) if given.len() > MAX_REQUEST_ID_LENGTH => None,
        Some(given) if !given.is_empty() => {
            let id = if given.starts_with(b"req-") {
                given.to_vec()
            } else {
                [b"req-".as_slice(), given].concat()
            };
            HeaderValue::from_bytes(&id).ok()
        }
        _ => {
            // Written in place: through `format!` it was most of a fresh
            // id's cost (callgrind, bench/profile show).
            let mut id = [0u8; 4 + uuid::fmt::Hyphenated::LENGTH];
            id[..4].copy_from_slice(b"req-");
            fresh_uuid().hyphenated().encode_lower(&mut id[4..]);
            HeaderValue::from_bytes(&id).ok()
        }
    }
}

/// A random (version 4) UUID for a request id, from a fast non-cryptographic
/// generator: `Uuid::new_v4` asks the kernel for every one, a system call
/// per request. Ids that name records (images, tasks) still use it.
fn fresh_uuid() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid()
}

/// Middleware: Glance's `ContextMiddleware`. A request without identity gets
/// 401 and a confirmed one with an unparsable `X-Service-Catalog` a 500 (both
/// without request id); everything else is answered with
/// `x-openstack-request-id`.
pub async fn context<F: std::future::Future<Output = Response>>(
    req: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    let headers = req.headers();
    // The fault layer's reading of these same headers, when it made one.
    let known = req.extensions().get::<Caller>().is_some();
    let who = if known { None } else { resolve(headers) };
    if !known && who.is_none() {
        return ApiError::unauthorized().into_response();
    }
    let confirmed = headers
        .get(IDENTITY_STATUS)
        .is_some_and(|v| v.as_bytes() == b"Confirmed");
    if let Some(catalog) = confirmed.then(|| headers.get(SERVICE_CATALOG)).flatten() {
        if serde_json::from_slice::<serde_json::Value>(catalog.as_bytes()).is_err() {
            return ApiError::glance_crash(
                StatusCode::BAD_REQUEST,
                "Invalid service catalog json.",
            )
            .into_response();
        }
    }
    let id = request_id(headers);
    let mut req = req;
    if let Some(rid) = id.as_ref().and_then(|v| v.to_str().ok()) {
        req.extensions_mut().insert(RequestId(rid.to_owned()));
    }
    // For the [`Caller`] extractor: the headers do not change past here.
    if let Some(who) = who {
        req.extensions_mut().insert(Caller(who));
    }
    let mut resp = next(req).await;
    if let Some(id) = id {
        resp.headers_mut().insert(REQUEST_ID, id);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn identity_from_confirmed_headers() {
        let who = identify(&headers(&[
            ("x-identity-status", "Confirmed"),
            ("x-tenant-id", "p"),
            ("x-user", "u"),
            ("x-roles", " Member , reader,"),
        ]))
        .expect("confirmed");
        assert_eq!(who.project_id.as_deref(), Some("p"));
        assert_eq!(who.user_id.as_deref(), Some("u"));
        assert_eq!(who.roles, ["member", "reader"]);
        // Not exactly "Confirmed", no token: nobody.
        assert!(identify(&headers(&[("x-identity-status", "confirmed")])).is_none());
        assert!(identify(&HeaderMap::new()).is_none());
        // A bare token is the default admin.
        assert_eq!(
            identify(&headers(&[("x-auth-token", "t")])),
            Some(Identity::default_admin())
        );
    }

    #[test]
    fn a_bare_token_shares_one_default_admin() {
        let bare = headers(&[("x-auth-token", "t")]);
        let (a, b) = (
            resolve(&bare).expect("admin"),
            resolve(&bare).expect("admin"),
        );
        assert!(Arc::ptr_eq(&a, &b), "built again");
        assert_eq!(*a, Identity::default_admin());
    }

    /// What [`context`] hands the handlers, given a request whose
    /// extensions may already hold a `Caller`.
    async fn caller_past_context(req: Request) -> Option<Arc<Identity>> {
        let seen = std::sync::Mutex::new(None);
        let resp = context(req, |req: Request| {
            *seen.lock().expect("lock") = req.extensions().get::<Caller>().map(|c| c.0.clone());
            async { Response::default() }
        })
        .await;
        assert!(resp.headers().contains_key(REQUEST_ID));
        seen.into_inner().expect("lock")
    }

    #[tokio::test]
    async fn context_reuses_the_callers_identity_an_outer_layer_found() {
        let request = || {
            Request::builder()
                .header("x-auth-token", "t")
                .body(axum::body::Body::empty())
                .expect("request")
        };
        // Worked out here when no layer did.
        let fresh = caller_past_context(request()).await.expect("identified");
        assert_eq!(*fresh, Identity::default_admin());
        // Taken as it is, not worked out again, when one did.
        let found = Arc::new(Identity {
            project_id: Some("found".into()),
            user_id: None,
            roles: vec![],
        });
        let mut req = request();
        req.extensions_mut().insert(Caller(found.clone()));
        let seen = caller_past_context(req).await.expect("identified");
        assert!(Arc::ptr_eq(&seen, &found));
    }

    #[test]
    fn request_ids_follow_glance() {
        let id = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                "x-openstack-request-id",
                HeaderValue::from_str(v).expect("ascii"),
            );
            request_id(&h)
        };
        assert_eq!(id("abc").expect("kept"), "req-abc");
        assert_eq!(id("req-abc").expect("kept"), "req-abc");
        assert_eq!(id(&"a".repeat(64)).expect("kept").len(), 68);
        assert!(id(&"a".repeat(65)).is_none());
        let fresh = id("").expect("generated");
        let fresh = fresh.to_str().expect("ascii");
        assert!(fresh.starts_with("req-") && fresh.len() == 40, "{fresh}");
    }
}
