//! HTTP for the shim's admin API ([`crate::keystone::admin`]): paths,
//! queries and bodies in, Keystone's statuses out (201 on create, 204 on
//! delete and on grants, `{"things": [...], "links": {...}}` lists).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::{error_response, json_response, not_allowed};
use crate::keystone::catalog::identity_url;
use crate::keystone::directory::GrantScope;
use crate::keystone::{KeystoneError, render};
use crate::state::IdentityState;

use super::guard::{base_url, request_token};

/// The admin routes, absolute paths under `/identity/v3`.
pub fn router() -> Router<crate::api::ApiState> {
    const V3: &str = "/identity/v3";
    let r = |p: &str| format!("{V3}{p}");
    Router::new()
        .route(&r("/domains"), get(list_domains).fallback(allow_get))
        .route(&r("/domains/{id}"), get(get_domain).fallback(allow_get))
        .route(
            &r("/projects"),
            get(list_projects)
                .post(create_project)
                .fallback(allow_get_post),
        )
        .route(
            &r("/projects/{id}"),
            get(get_project)
                .delete(delete_project)
                .fallback(allow_get_delete),
        )
        .route(
            &r("/users"),
            get(list_users).post(create_user).fallback(allow_get_post),
        )
        .route(
            &r("/users/{id}"),
            get(get_user).delete(delete_user).fallback(allow_get_delete),
        )
        .route(
            &r("/users/{id}/projects"),
            get(list_user_projects).fallback(allow_get),
        )
        .route(&r("/roles"), get(list_roles).fallback(allow_get))
        .route(&r("/roles/{id}"), get(get_role).fallback(allow_get))
        .route(
            &r("/role_assignments"),
            get(list_role_assignments).fallback(allow_get),
        )
        .route(
            &r("/projects/{p}/users/{u}/roles"),
            get(list_project_grants).fallback(allow_get),
        )
        .route(
            &r("/projects/{p}/users/{u}/roles/{r}"),
            get(check_project_grant)
                .put(add_project_grant)
                .delete(revoke_project_grant)
                .fallback(allow_grant),
        )
        .route(
            &r("/system/users/{u}/roles"),
            get(list_system_grants).fallback(allow_get),
        )
        .route(
            &r("/system/users/{u}/roles/{r}"),
            get(check_system_grant)
                .put(add_system_grant)
                .delete(revoke_system_grant)
                .fallback(allow_grant),
        )
}

async fn allow_get(method: Method) -> Response {
    not_allowed(&method, "GET, HEAD, OPTIONS")
}
async fn allow_get_post(method: Method) -> Response {
    not_allowed(&method, "GET, HEAD, POST, OPTIONS")
}
async fn allow_get_delete(method: Method) -> Response {
    not_allowed(&method, "GET, HEAD, OPTIONS, DELETE")
}
async fn allow_grant(method: Method) -> Response {
    not_allowed(&method, "GET, HEAD, PUT, OPTIONS, DELETE")
}

/// The identity service's URL as this request reached it.
fn base(headers: &HeaderMap) -> String {
    identity_url(&base_url(headers))
}

/// The request's own URL, for a list's `links.self`.
fn self_url(headers: &HeaderMap, uri: &Uri) -> String {
    let path = uri.path().strip_prefix("/identity").unwrap_or(uri.path());
    match uri.query() {
        Some(q) => format!("{}{path}?{q}", base(headers)),
        None => format!("{}{path}", base(headers)),
    }
}

fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn one(
    key: &str,
    result: Result<Value, KeystoneError>,
    status: StatusCode,
    headers: &HeaderMap,
) -> Response {
    match result {
        Ok(v) => json_response(status, &json!({ key: v })),
        Err(e) => error_response(&e, headers),
    }
}

fn many(
    key: &str,
    result: Result<Vec<Value>, KeystoneError>,
    headers: &HeaderMap,
    uri: &Uri,
) -> Response {
    match result {
        Ok(items) => json_response(
            StatusCode::OK,
            &render::list(key, items, &self_url(headers, uri)),
        ),
        Err(e) => error_response(&e, headers),
    }
}

fn empty(result: Result<(), KeystoneError>, headers: &HeaderMap) -> Response {
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(&e, headers),
    }
}

fn body_json(body: &Bytes) -> Result<Value, KeystoneError> {
    serde_json::from_slice(body).map_err(|_| KeystoneError::expecting("valid JSON", "request body"))
}

async fn list_domains(
    State(s): State<IdentityState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    uri: Uri,
) -> Response {
    let r = s
        .keystone
        .list_domains(request_token(&h), &pairs(q.as_deref()), &base(&h));
    many("domains", r, &h, &uri)
}

async fn get_domain(
    State(s): State<IdentityState>,
    Path(id): Path<String>,
    h: HeaderMap,
) -> Response {
    let r = s.keystone.get_domain(request_token(&h), &id, &base(&h));
    one("domain", r, StatusCode::OK, &h)
}

async fn list_projects(
    State(s): State<IdentityState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    uri: Uri,
) -> Response {
    let r = s
        .keystone
        .list_projects(request_token(&h), &pairs(q.as_deref()), &base(&h));
    many("projects", r, &h, &uri)
}

async fn create_project(State(s): State<IdentityState>, h: HeaderMap, body: Bytes) -> Response {
    let r = s.keystone.caller(request_token(&h)).and_then(|_| {
        let doc = body_json(&body)?;
        s.keystone
            .create_project(request_token(&h), &doc, &base(&h))
    });
    one("project", r, StatusCode::CREATED, &h)
}

async fn get_project(
    State(s): State<IdentityState>,
    Path(id): Path<String>,
    h: HeaderMap,
) -> Response {
    let r = s.keystone.get_project(request_token(&h), &id, &base(&h));
    one("project", r, StatusCode::OK, &h)
}

async fn delete_project(
    State(s): State<IdentityState>,
    Path(id): Path<String>,
    h: HeaderMap,
) -> Response {
    empty(s.keystone.delete_project(request_token(&h), &id), &h)
}

async fn list_users(
    State(s): State<IdentityState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    uri: Uri,
) -> Response {
    let r = s
        .keystone
        .list_users(request_token(&h), &pairs(q.as_deref()), &base(&h));
    many("users", r, &h, &uri)
}

async fn create_user(State(s): State<IdentityState>, h: HeaderMap, body: Bytes) -> Response {
    let r = s.keystone.caller(request_token(&h)).and_then(|_| {
        let doc = body_json(&body)?;
        s.keystone.create_user(request_token(&h), &doc, &base(&h))
    });
    one("user", r, StatusCode::CREATED, &h)
}

async fn get_user(
    State(s): State<IdentityState>,
    Path(id): Path<String>,
    h: HeaderMap,
) -> Response {
    let r = s.keystone.get_user(request_token(&h), &id, &base(&h));
    one("user", r, StatusCode::OK, &h)
}

async fn delete_user(
    State(s): State<IdentityState>,
    Path(id): Path<String>,
    h: HeaderMap,
) -> Response {
    empty(s.keystone.delete_user(request_token(&h), &id), &h)
}

async fn list_user_projects(
    State(s): State<IdentityState>,
    Path(id): Path<String>,
    h: HeaderMap,
    uri: Uri,
) -> Response {
    let r = s
        .keystone
        .list_user_projects(request_token(&h), &id, &base(&h));
    many("projects", r, &h, &uri)
}

async fn list_roles(
    State(s): State<IdentityState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    uri: Uri,
) -> Response {
    let r = s
        .keystone
        .list_roles(request_token(&h), &pairs(q.as_deref()), &base(&h));
    many("roles", r, &h, &uri)
}

async fn get_role(
    State(s): State<IdentityState>,
    Path(id): Path<String>,
    h: HeaderMap,
) -> Response {
    let r = s.keystone.get_role(request_token(&h), &id, &base(&h));
    one("role", r, StatusCode::OK, &h)
}

async fn list_role_assignments(
    State(s): State<IdentityState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    uri: Uri,
) -> Response {
    let r = s
        .keystone
        .list_role_assignments(request_token(&h), &pairs(q.as_deref()), &base(&h));
    many("role_assignments", r, &h, &uri)
}

async fn list_project_grants(
    State(s): State<IdentityState>,
    Path((p, u)): Path<(String, String)>,
    h: HeaderMap,
    uri: Uri,
) -> Response {
    let r = s
        .keystone
        .list_grants(request_token(&h), &u, GrantScope::Project(p), &base(&h));
    many("roles", r, &h, &uri)
}

async fn check_project_grant(
    State(s): State<IdentityState>,
    Path((p, u, r)): Path<(String, String, String)>,
    h: HeaderMap,
) -> Response {
    empty(
        s.keystone
            .check_grant(request_token(&h), &u, &r, GrantScope::Project(p)),
        &h,
    )
}

async fn add_project_grant(
    State(s): State<IdentityState>,
    Path((p, u, r)): Path<(String, String, String)>,
    h: HeaderMap,
) -> Response {
    empty(
        s.keystone
            .add_grant(request_token(&h), &u, &r, GrantScope::Project(p)),
        &h,
    )
}

async fn revoke_project_grant(
    State(s): State<IdentityState>,
    Path((p, u, r)): Path<(String, String, String)>,
    h: HeaderMap,
) -> Response {
    empty(
        s.keystone
            .revoke_grant(request_token(&h), &u, &r, GrantScope::Project(p)),
        &h,
    )
}

async fn list_system_grants(
    State(s): State<IdentityState>,
    Path(u): Path<String>,
    h: HeaderMap,
    uri: Uri,
) -> Response {
    let r = s
        .keystone
        .list_grants(request_token(&h), &u, GrantScope::System, &base(&h));
    many("roles", r, &h, &uri)
}

async fn check_system_grant(
    State(s): State<IdentityState>,
    Path((u, r)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    empty(
        s.keystone
            .check_grant(request_token(&h), &u, &r, GrantScope::System),
        &h,
    )
}

async fn add_system_grant(
    State(s): State<IdentityState>,
    Path((u, r)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    empty(
        s.keystone
            .add_grant(request_token(&h), &u, &r, GrantScope::System),
        &h,
    )
}

async fn revoke_system_grant(
    State(s): State<IdentityState>,
    Path((u, r)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    empty(
        s.keystone
            .revoke_grant(request_token(&h), &u, &r, GrantScope::System),
        &h,
    )
}
