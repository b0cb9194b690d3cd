//! Keystone v3 documents, free of I/O: the `POST /v3/auth/tokens` body,
//! the token answer, and the version discovery document.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use url::Url;

use super::catalog::Catalog;
use super::{AppCredential, Credentials, Domain, Project, Scope, User};
use crate::error::{Error, Result};

fn domain_json(d: &Domain) -> Value {
    match d {
        Domain::Id(id) => json!({ "id": id }),
        Domain::Name(name) => json!({ "name": name }),
    }
}

fn user_json(u: &User) -> Map<String, Value> {
    let mut m = Map::new();
    match u {
        User::Id(id) => {
            m.insert("id".into(), json!(id));
        }
        User::Name { name, domain } => {
            m.insert("name".into(), json!(name));
            m.insert("domain".into(), domain_json(domain));
        }
    }
    m
}

fn project_json(p: &Project) -> Value {
    match p {
        Project::Id(id) => json!({ "id": id }),
        Project::Name { name, domain } => json!({ "name": name, "domain": domain_json(domain) }),
    }
}

/// The body of `POST /v3/auth/tokens`, as keystoneauth builds it. An
/// application credential never carries a scope (Keystone refuses one).
pub(crate) fn auth_request(credentials: &Credentials, scope: Option<&Scope>) -> Value {
    let (method, body) = match credentials {
        Credentials::Password { user, password } => {
            let mut u = user_json(user);
            u.insert("password".into(), json!(password.expose()));
            ("password", json!({ "user": u }))
        }
        Credentials::ApplicationCredential { credential, secret } => {
            let mut m = Map::new();
            match credential {
                AppCredential::Id(id) => {
                    m.insert("id".into(), json!(id));
                }
                AppCredential::Name { name, user } => {
                    m.insert("name".into(), json!(name));
                    m.insert("user".into(), Value::Object(user_json(user)));
                }
            }
            m.insert("secret".into(), json!(secret.expose()));
            ("application_credential", Value::Object(m))
        }
        Credentials::Token(token) => ("token", json!({ "id": token.expose() })),
    };
    let mut auth = json!({
        "identity": { "methods": [method], method: body },
    });
    let scoped = !matches!(credentials, Credentials::ApplicationCredential { .. });
    if let (Some(scope), true, Some(obj)) = (scope, scoped, auth.as_object_mut()) {
        let scope = match scope {
            Scope::Project(p) => json!({ "project": project_json(p) }),
            Scope::Domain(d) => json!({ "domain": domain_json(d) }),
            Scope::System => json!({ "system": { "all": true } }),
        };
        obj.insert("scope".into(), scope);
    }
    json!({ "auth": auth })
}

#[derive(Debug, Deserialize)]
struct NamedJson {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
}

#[derive(Debug, Deserialize)]
struct ScopedJson {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    domain: Option<NamedJson>,
}

#[derive(Debug, Deserialize)]
struct TokenJson {
    expires_at: String,
    #[serde(default)]
    issued_at: Option<String>,
    #[serde(default)]
    user: Option<ScopedJson>,
    #[serde(default)]
    project: Option<ScopedJson>,
    #[serde(default)]
    domain: Option<NamedJson>,
    #[serde(default)]
    system: Option<Value>,
    #[serde(default)]
    roles: Vec<NamedJson>,
    #[serde(default)]
    catalog: Option<Catalog>,
}

#[derive(Debug, Deserialize)]
struct TokenDoc {
    token: TokenJson,
}

/// What a token says about its holder (no secret in it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenInfo {
    /// The user's id.
    pub user_id: String,
    /// The user's name.
    pub user_name: String,
    /// The project the token is scoped to (`None`: unscoped).
    pub project_id: Option<String>,
    /// That project's name.
    pub project_name: Option<String>,
    /// That project's domain id.
    pub project_domain_id: Option<String>,
    /// The domain a domain-scoped token is scoped to.
    pub domain_id: Option<String>,
    /// Whether the token is system-scoped.
    pub system: bool,
    /// Role names on the project (the domain, the system).
    pub roles: Vec<String>,
    /// When Keystone stops accepting the token.
    pub expires_at: OffsetDateTime,
}

/// A token answer, parsed.
#[derive(Debug, Clone)]
pub(crate) struct IssuedToken {
    pub info: TokenInfo,
    /// The catalog (empty for unscoped tokens).
    pub catalog: Catalog,
    /// How long the token lives from now: `expires_at - issued_at` when
    /// Keystone gives both (immune to clock skew), else `expires_at` minus
    /// the local clock.
    pub lifetime: Duration,
}

fn parse_time(what: &str, s: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).map_err(|e| {
        Error::Decode {
            path: format!("token.{what}"),
            message: format!("{s:?} is not an RFC 3339 time: {e}"),
            response: None,
        }
    })
}

/// Parse the body of a token answer, `now` being the local time.
pub(crate) fn parse_token(body: &[u8], now: OffsetDateTime) -> Result<IssuedToken> {
    let doc: TokenDoc = crate::transport::decode(body)?;
    let t = doc.token;
    let expires_at = parse_time("expires_at", &t.expires_at)?;
    let since = match t.issued_at.as_deref() {
        Some(issued) => parse_time("issued_at", issued)?,
        None => now,
    };
    let lifetime = Duration::try_from(expires_at - since).unwrap_or(Duration::ZERO);
    let user = t.user.unwrap_or(ScopedJson {
        id: String::new(),
        name: String::new(),
        domain: None,
    });
    let info = TokenInfo {
        user_id: user.id,
        user_name: user.name,
        project_id: t.project.as_ref().map(|p| p.id.clone()),
        project_name: t.project.as_ref().map(|p| p.name.clone()),
        project_domain_id: t
            .project
            .as_ref()
            .and_then(|p| p.domain.as_ref())
            .map(|d| d.id.clone()),
        domain_id: t.domain.map(|d| d.id),
        system: t.system.is_some(),
        roles: t.roles.into_iter().map(|r| r.name).collect(),
        expires_at,
    };
    Ok(IssuedToken {
        info,
        catalog: t.catalog.unwrap_or_default(),
        lifetime,
    })
}

/// How long before its end a token is replaced: two minutes
/// (keystoneauth's), or half the lifetime of a shorter-lived token.
pub(crate) fn refresh_margin(lifetime: Duration) -> Duration {
    Duration::from_secs(120).min(lifetime / 2)
}

/// Whether an auth URL already names the v3 API (`…/v3`, `…/v3/`, `…/v3.14`).
pub(crate) fn is_v3_url(url: &Url) -> bool {
    url.path_segments()
        .and_then(|mut s| s.rfind(|seg| !seg.is_empty()))
        .is_some_and(|last| last == "v3" || last.starts_with("v3."))
}

/// Whether an auth URL names Keystone's removed v2.0 API.
pub(crate) fn is_v2_url(url: &Url) -> bool {
    url.path_segments()
        .and_then(|mut s| s.rfind(|seg| !seg.is_empty()))
        .is_some_and(|last| last == "v2.0" || last == "v2")
}

#[derive(Debug, Deserialize)]
struct VersionEntry {
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    links: Vec<LinkJson>,
}

#[derive(Debug, Deserialize)]
struct LinkJson {
    #[serde(default)]
    rel: String,
    #[serde(default)]
    href: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Versions {
    /// Keystone's root: `{"versions": {"values": [...]}}`.
    Values { values: Vec<VersionEntry> },
    /// A plain list.
    List(Vec<VersionEntry>),
}

#[derive(Debug, Deserialize)]
struct DiscoveryDoc {
    #[serde(default)]
    versions: Option<Versions>,
    #[serde(default)]
    version: Option<VersionEntry>,
}

/// The v3 API's URL from a version discovery document (Keystone's root
/// answers `300` with `{"versions": {"values": [...]}}`; a versioned URL
/// answers with `{"version": {...}}`). `None` when it lists no usable v3.
pub(crate) fn v3_from_discovery(body: &[u8], base: &Url) -> Option<Url> {
    let doc: DiscoveryDoc = serde_json::from_slice(body).ok()?;
    let mut entries = match doc.versions {
        Some(Versions::Values { values }) => values,
        Some(Versions::List(list)) => list,
        None => Vec::new(),
    };
    entries.extend(doc.version);
    entries
        .into_iter()
        .filter(|e| e.id.starts_with("v3") && !e.status.eq_ignore_ascii_case("deprecated"))
        .filter_map(|e| {
            let href = e.links.iter().find(|l| l.rel == "self")?.href.clone();
            base.join(&href).ok()
        })
        .next()
}

/// `base` with `/v3` appended (the fallback when discovery says nothing).
pub(crate) fn append_v3(base: &Url) -> Url {
    let mut url = base.clone();
    let path = format!("{}/v3", url.path().trim_end_matches('/'));
    url.set_path(&path);
    url
}

/// `POST …/auth/tokens` below a v3 URL.
pub(crate) fn tokens_url(v3: &Url) -> Result<Url> {
    let mut url = v3.clone();
    url.set_query(None);
    url.path_segments_mut()
        .map_err(|_| Error::Config(format!("invalid auth URL {v3}")))?
        .pop_if_empty()
        .extend(["auth", "tokens"]);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Secret;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn domain_and_system_scopes_as_keystoneauth_sends_them() {
        let c = Credentials::Password {
            user: User::id("u1"),
            password: Secret::from("pw"),
        };
        let identity =
            json!({"methods": ["password"], "password": {"user": {"id": "u1", "password": "pw"}}});
        assert_eq!(
            auth_request(&c, Some(&Scope::Domain(Domain::name("Default")))),
            json!({"auth": {"identity": identity, "scope": {"domain": {"name": "Default"}}}})
        );
        assert_eq!(
            auth_request(&c, Some(&Scope::System)),
            json!({"auth": {"identity": identity, "scope": {"system": {"all": true}}}})
        );
    }

    #[test]
    fn password_bodies_by_name_and_by_id() {
        let c = Credentials::Password {
            user: User::name("demo", Domain::name("Default")),
            password: Secret::from("demo-secret"),
        };
        let p = Project::name("demo", Domain::id("default"));
        assert_eq!(
            auth_request(&c, Some(&Scope::Project(p.clone()))),
            json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": "demo", "domain": {"name": "Default"}, "password": "demo-secret"}}},
                "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}
            }})
        );
        let c = Credentials::Password {
            user: User::id("u1"),
            password: Secret::from("pw"),
        };
        assert_eq!(
            auth_request(&c, Some(&Scope::Project(Project::id("p1")))),
            json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user": {"id": "u1", "password": "pw"}}},
                "scope": {"project": {"id": "p1"}}
            }})
        );
        assert_eq!(
            auth_request(&c, None),
            json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": "u1", "password": "pw"}}}}})
        );
    }

    #[test]
    fn application_credential_bodies_never_carry_a_scope() {
        let c = Credentials::ApplicationCredential {
            credential: AppCredential::id("ac1"),
            secret: Secret::from("s"),
        };
        assert_eq!(
            auth_request(&c, Some(&Scope::Project(Project::id("ignored")))),
            json!({"auth": {"identity": {"methods": ["application_credential"],
                "application_credential": {"id": "ac1", "secret": "s"}}}})
        );
        let c = Credentials::ApplicationCredential {
            credential: AppCredential::name("ref", User::name("demo", Domain::id("default"))),
            secret: Secret::from("s"),
        };
        assert_eq!(
            auth_request(&c, None),
            json!({"auth": {"identity": {"methods": ["application_credential"],
                "application_credential": {"name": "ref",
                    "user": {"name": "demo", "domain": {"id": "default"}}, "secret": "s"}}}})
        );
    }

    #[test]
    fn token_bodies() {
        let c = Credentials::Token(Secret::from("gAAA"));
        assert_eq!(
            auth_request(&c, Some(&Scope::Project(Project::id("p")))),
            json!({"auth": {"identity": {"methods": ["token"], "token": {"id": "gAAA"}},
                "scope": {"project": {"id": "p"}}}})
        );
    }

    #[test]
    fn token_answers_parse_with_keystones_fractional_seconds() {
        let body = br#"{"token": {"methods": ["password"],
            "user": {"domain": {"id": "default", "name": "Default"}, "id": "u", "name": "demo"},
            "expires_at": "2026-11-22T07:46:14.000000Z", "issued_at": "2026-11-22T06:46:14.000000Z",
            "project": {"domain": {"id": "default", "name": "Default"}, "id": "p", "name": "demo"},
            "roles": [{"id": "r1", "name": "member"}, {"id": "r2", "name": "reader"}],
            "catalog": [{"type": "image", "name": "glance", "id": "s", "endpoints": [
                {"id": "e", "interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": "http://g:9292"}]}]}}"#;
        // A local clock far off does not change the lifetime.
        let t = parse_token(body, OffsetDateTime::UNIX_EPOCH).expect("parses");
        assert_eq!(t.lifetime, Duration::from_secs(3600));
        assert_eq!(t.info.project_id.as_deref(), Some("p"));
        assert_eq!(t.info.project_domain_id.as_deref(), Some("default"));
        assert_eq!(t.info.user_name, "demo");
        assert_eq!(t.info.roles, ["member", "reader"]);
        assert_eq!(t.catalog.services.len(), 1);

        let unscoped =
            br#"{"token": {"expires_at": "2026-11-22T07:46:14Z", "methods": ["password"],
            "user": {"id": "u", "name": "demo"}}}"#;
        let now = parse_time("now", "2026-11-22T07:45:14Z").expect("time");
        let t = parse_token(unscoped, now).expect("parses");
        assert_eq!(t.lifetime, Duration::from_secs(60));
        assert!(t.catalog.services.is_empty());
        assert_eq!(t.info.project_id, None);

        let err = parse_token(br#"{"token": {"expires_at": "tomorrow"}}"#, now).expect_err("bad");
        assert!(matches!(err, Error::Decode { .. }), "{err}");
    }

    #[test]
    fn margins() {
        assert_eq!(
            refresh_margin(Duration::from_secs(3600)),
            Duration::from_secs(120)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(60)),
            Duration::from_secs(30)
        );
        assert_eq!(refresh_margin(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn versioned_auth_urls() {
        assert!(is_v3_url(&url("http://k:5000/v3")));
        assert!(is_v3_url(&url("http://k:5000/identity/v3/")));
        assert!(is_v3_url(&url("http://k:5000/v3.14")));
        assert!(!is_v3_url(&url("http://k:5000")));
        assert!(!is_v3_url(&url("http://k/identity")));
        assert!(is_v2_url(&url("http://k:5000/v2.0/")));
        assert!(!is_v2_url(&url("http://k:5000/v3")));
    }

    #[test]
    fn discovery_documents() {
        let base = url("http://127.0.0.1:5609");
        // Keystone 30's root (300 Multiple Choices).
        let root = br#"{"versions": {"values": [{"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": "http://127.0.0.1:5609/v3/"}],
            "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}]}}"#;
        assert_eq!(
            v3_from_discovery(root, &base).map(String::from).as_deref(),
            Some("http://127.0.0.1:5609/v3/")
        );
        let with_v2 = br#"{"versions": {"values": [
            {"id": "v2.0", "status": "deprecated", "links": [{"rel": "self", "href": "/v2.0/"}]},
            {"id": "v3.10", "status": "stable", "links": [{"rel": "self", "href": "/identity/v3/"}]}]}}"#;
        assert_eq!(
            v3_from_discovery(with_v2, &base)
                .map(String::from)
                .as_deref(),
            Some("http://127.0.0.1:5609/identity/v3/")
        );
        let single = br#"{"version": {"id": "v3.14", "status": "stable", "links": [{"rel": "self", "href": "http://k/v3/"}]}}"#;
        assert_eq!(
            v3_from_discovery(single, &base)
                .map(String::from)
                .as_deref(),
            Some("http://k/v3/")
        );
        assert_eq!(v3_from_discovery(b"<html>", &base), None);
        assert_eq!(
            v3_from_discovery(br#"{"versions": {"values": []}}"#, &base),
            None
        );
        assert_eq!(
            append_v3(&url("http://k/identity/")).as_str(),
            "http://k/identity/v3"
        );
        assert_eq!(
            tokens_url(&url("http://k/v3/")).expect("url").as_str(),
            "http://k/v3/auth/tokens"
        );
        assert_eq!(
            tokens_url(&url("http://k/v3")).expect("url").as_str(),
            "http://k/v3/auth/tokens"
        );
    }
}
