//! The keystone-middleware step in front of `/v2`: a token this shim issued
//! becomes identity headers (the client's own are dropped, as
//! keystone-middleware drops them); an expired or revoked one gets Glance's
//! 401. Other tokens pass untouched (the mock's default identity), unless
//! [`crate::Config::require_auth`] is set: then only tokens issued here get
//! through.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::api::error::ApiError;
use crate::keystone::Lookup;
use crate::keystone::catalog::identity_url;
use crate::keystone::tokens::TokenData;
use crate::state::IdentityState;

/// Headers keystone-middleware removes from every incoming request before
/// it adds its own.
const IDENTITY_HEADERS: &[&str] = &[
    "x-identity-status",
    "x-service-identity-status",
    "x-domain-id",
    "x-domain-name",
    "x-project-id",
    "x-project-name",
    "x-project-domain-id",
    "x-project-domain-name",
    "x-user-id",
    "x-user-name",
    "x-user-domain-id",
    "x-user-domain-name",
    "x-roles",
    "x-service-roles",
    "x-service-catalog",
    "x-is-admin-project",
    "x-system-scope",
    "x-user",
    "x-tenant-id",
    "x-tenant-name",
    "x-tenant",
    "x-role",
];

pub use crate::api::versions::base_url;

/// The token a request carries (`X-Auth-Token`, or the older `X-Storage-Token`).
pub fn request_token(headers: &HeaderMap) -> Option<&str> {
    const NAMES: [HeaderName; 2] = [
        HeaderName::from_static("x-auth-token"),
        HeaderName::from_static("x-storage-token"),
    ];
    NAMES.iter().find_map(|n| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    })
}

/// Glance's 401 behind keystone-middleware, pointing at the shim.
pub fn unauthorized(headers: &HeaderMap) -> Response {
    ApiError::unauthorized()
        .header(
            header::WWW_AUTHENTICATE,
            &format!("Keystone uri=\"{}\"", identity_url(&base_url(headers))),
        )
        .into_response()
}

/// Replace the client's identity headers with what `token` says.
pub fn set_identity_headers(headers: &mut HeaderMap, token: &TokenData) {
    strip_identity_headers(headers);
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    set("x-identity-status", "Confirmed");
    set("x-user-id", &token.user.user.id);
    set("x-user-name", &token.user.user.name);
    set("x-user-domain-id", &token.user.domain.id);
    set("x-user-domain-name", &token.user.domain.name);
    if let Some(p) = &token.project {
        set("x-project-id", &p.project.id);
        set("x-project-name", &p.project.name);
        set("x-project-domain-id", &p.domain.id);
        set("x-project-domain-name", &p.domain.name);
    }
    if token.system {
        // keystone-middleware's header; Glance's view of the token has no
        // roles (see `TokenData::identity`).
        set("x-system-scope", "all");
        return;
    }
    let roles: Vec<&str> = token.roles.iter().map(|r| r.name.as_str()).collect();
    if !roles.is_empty() {
        set("x-roles", &roles.join(","));
    }
}

/// Remove every identity header a client may have sent.
pub fn strip_identity_headers(headers: &mut HeaderMap) {
    for name in IDENTITY_HEADERS {
        headers.remove(*name);
    }
}

/// The shim's answer for the request's token, found by an outer layer (the
/// fault layer, [`crate::api::control::intercept`]): the guard uses it
/// instead of looking the token up a second time.
#[derive(Debug, Clone)]
pub struct TokenLookup(pub Lookup);

/// Middleware for the whole API; acts on `/v2` only.
pub async fn guard<F: std::future::Future<Output = Response>>(
    state: &IdentityState,
    mut req: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    let path = req.uri().path();
    if path != "/v2" && !path.starts_with("/v2/") {
        return next(req).await;
    }
    let lookup = match req.extensions_mut().remove::<TokenLookup>() {
        Some(TokenLookup(found)) => Some(found),
        None => request_token(req.headers()).map(|t| state.keystone.lookup(t)),
    };
    match lookup {
        Some(Lookup::Valid(token)) => {
            set_identity_headers(req.headers_mut(), &token.data);
            // An outer layer's reading of the headers no longer holds (it
            // may have looked the token up before another node's issue of
            // it reached this one).
            req.extensions_mut()
                .remove::<crate::api::identity::Caller>();
        }
        Some(Lookup::Invalid(_)) => return unauthorized(req.headers()),
        // A token issued through another node cannot be checked while the
        // registry holding the tokens is down: not a 401, a 503.
        Some(Lookup::Unknown) if state.require_auth && state.keystone.journal_unreachable() => {
            return ApiError::from(crate::domain::Fault::unavailable()).into_response();
        }
        Some(Lookup::Unknown) | None if state.require_auth => {
            return unauthorized(req.headers());
        }
        Some(Lookup::Unknown) | None => {}
    }
    next(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::identity::identify;
    use crate::domain::Identity;
    use crate::keystone::tokens::{Named, TokenProject, TokenUser, now};

    fn named(s: &str) -> Named {
        Named {
            id: s.into(),
            name: s.into(),
        }
    }

    #[test]
    fn token_headers_replace_the_clients() {
        let t = now();
        let data = TokenData {
            methods: vec!["password".into()],
            user: TokenUser {
                user: named("demo"),
                domain: named("default"),
            },
            project: Some(TokenProject {
                project: named("demo"),
                domain: named("default"),
            }),
            system: false,
            roles: vec![named("member"), named("reader")],
            audit_ids: vec![],
            issued_at: t,
            expires_at: t,
            application_credential: None,
        };
        let mut headers = HeaderMap::new();
        headers.insert("x-roles", HeaderValue::from_static("admin"));
        headers.insert("x-tenant-id", HeaderValue::from_static("evil"));
        headers.insert("x-auth-token", HeaderValue::from_static("tok"));
        set_identity_headers(&mut headers, &data);
        assert_eq!(
            identify(&headers),
            Some(Identity {
                project_id: Some("demo".into()),
                user_id: Some("demo".into()),
                roles: vec!["member".into(), "reader".into()],
            })
        );
        assert!(headers.get("x-tenant-id").is_none());

        let mut unscoped = data.clone();
        unscoped.project = None;
        unscoped.roles.clear();
        set_identity_headers(&mut headers, &unscoped);
        assert_eq!(
            identify(&headers),
            Some(Identity {
                project_id: None,
                user_id: Some("demo".into()),
                roles: vec![],
            })
        );
    }

    #[tokio::test]
    async fn a_shim_token_drops_what_an_outer_layer_read_of_the_headers() {
        let keystone = std::sync::Arc::new(crate::keystone::Keystone::default());
        let t = now();
        let token = keystone.tokens.issue(TokenData {
            methods: vec!["password".into()],
            user: TokenUser {
                user: named("demo"),
                domain: named("default"),
            },
            project: None,
            system: false,
            roles: vec![],
            audit_ids: vec![],
            issued_at: t,
            expires_at: t + time::Duration::hours(1),
            application_credential: None,
        });
        let state = IdentityState {
            keystone,
            require_auth: false,
        };
        let mut req = Request::builder()
            .uri("/v2/images")
            .header("x-auth-token", token.id.as_str())
            .body(axum::body::Body::empty())
            .expect("a request");
        // What the fault layer read before the token was known here.
        let stale = crate::api::identity::Caller(std::sync::Arc::new(Identity::default_admin()));
        req.extensions_mut().insert(stale);
        let seen = std::sync::Mutex::new(None);
        guard(&state, req, |req: Request| {
            *seen.lock().expect("lock") = Some((
                req.extensions()
                    .get::<crate::api::identity::Caller>()
                    .is_some(),
                identify(req.headers()),
            ));
            async { Response::default() }
        })
        .await;
        let (stale_left, who) = seen.into_inner().expect("lock").expect("passed on");
        assert!(!stale_left, "the outer layer's identity stayed");
        assert_eq!(who.and_then(|w| w.user_id), Some("demo".into()));
    }

    #[test]
    fn request_token_and_base_url() {
        let mut headers = HeaderMap::new();
        assert_eq!(request_token(&headers), None);
        headers.insert("x-storage-token", HeaderValue::from_static(" t "));
        assert_eq!(request_token(&headers), Some("t"));
        headers.insert(header::HOST, HeaderValue::from_static("10.0.0.1:9292"));
        assert_eq!(base_url(&headers), "http://10.0.0.1:9292");
        let resp = unauthorized(&headers);
        assert_eq!(resp.status(), axum::http::StatusCode::UNAUTHORIZED);
        assert_eq!(
            resp.headers()
                .get(header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok()),
            Some("Keystone uri=\"http://10.0.0.1:9292/identity\"")
        );
    }
}
