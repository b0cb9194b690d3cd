//! The caller's identity from keystone-middleware style headers.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::domain::Identity;

/// Extractor: the identity a request acts as, or 401.
///
/// `X-Identity-Status: Confirmed` means the identity headers are
/// authoritative (project from `X-Project-Id`/`X-Tenant-Id`/`X-Tenant`, user
/// from `X-User-Id`/`X-User`, roles from `X-Roles`/`X-Role`). Otherwise any
/// `X-Auth-Token` acts as the default admin identity.
#[derive(Debug, Clone)]
pub struct Caller(pub Identity);

fn first(headers: &HeaderMap, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        headers
            .get(*n)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    })
}

/// Work out the identity from request headers.
pub fn identify(headers: &HeaderMap) -> Option<Identity> {
    let confirmed = headers
        .get("x-identity-status")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "Confirmed");
    if confirmed {
        let roles = first(headers, &["x-roles", "x-role"])
            .map(|r| {
                r.split(',')
                    .map(|s| s.trim().to_ascii_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        return Some(Identity {
            project_id: first(headers, &["x-project-id", "x-tenant-id", "x-tenant"]),
            user_id: first(headers, &["x-user-id", "x-user"]),
            roles,
        });
    }
    first(headers, &["x-auth-token", "x-storage-token"]).map(|_| Identity::default_admin())
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        identify(&parts.headers)
            .map(Caller)
            .ok_or_else(ApiError::unauthorized)
    }
}
