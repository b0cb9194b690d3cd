//! `POST /v3/auth/tokens`: the request body's methods and scope, resolved
//! against the configuration into what the new token says. Free of HTTP.

use serde_json::Value;
use time::{Duration, OffsetDateTime};

use super::KeystoneError;
use super::config::AppCredentialConfig;
use super::directory::{Directory, GrantScope, User};
use super::tokens::{
    Lookup, Named, Token, TokenData, TokenProject, TokenStore, TokenUser, new_audit_id,
};

/// Methods the shim implements, as a 401 for another method lists them.
pub const METHODS: &[&str] = &["password", "token", "application_credential"];

/// Methods that authenticate a user directly (Keystone's built-in primary
/// methods). A token that lists another method (`application_credential`),
/// or none at all, was made from a delegated credential.
const PRIMARY_METHODS: &[&str] = &[
    "external", "kerberos", "mapped", "openid", "password", "saml2", "token", "totp", "x509",
];

/// Whether `t` came from a delegated credential, so that the `token`
/// method must refuse it (Keystone's `is_delegated_method`, deny by
/// default; a token naming an application credential counts too).
fn is_delegated(t: &TokenData) -> bool {
    t.methods.is_empty()
        || t.methods
            .iter()
            .any(|m| !PRIMARY_METHODS.contains(&m.as_str()))
        || t.application_credential.is_some()
}

/// Keystone's bcrypt compares at most this many bytes of a secret.
const BCRYPT_MAX: usize = 72;

/// The requested scope.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope<'a> {
    /// No `scope`: the user's default project, if any (else unscoped);
    /// for the `token` method, the original token's scope.
    Default,
    /// `"scope": "unscoped"`.
    Unscoped,
    /// A project by id.
    ProjectId(&'a str),
    /// A project by name, in a domain given by id or name.
    ProjectName {
        name: &'a str,
        domain_id: Option<&'a str>,
        domain_name: Option<&'a str>,
    },
    /// `{"system": {"all": true}}` (any `system` object, as Keystone 30 takes it).
    System,
    /// Domain or trust scope, which the shim does not grant.
    Other,
}

/// What one method established.
struct Proof<'a> {
    user_id: String,
    base: Option<Token>,
    app_cred: Option<&'a AppCredentialConfig>,
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn object_at<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|o| o.is_object())
}

fn expecting(attribute: &str, target: &str) -> KeystoneError {
    KeystoneError::expecting(attribute, target)
}

fn parse_scope(auth: &Value) -> Result<Scope<'_>, KeystoneError> {
    let Some(scope) = auth.get("scope") else {
        return Ok(Scope::Default);
    };
    if scope.as_str() == Some("unscoped") {
        return Ok(Scope::Unscoped);
    }
    if !scope.is_object() {
        return Err(KeystoneError::BadRequest(
            "Invalid input for field 'scope': the value is not of type 'object', 'string'".into(),
        ));
    }
    if let Some(project) = object_at(scope, "project") {
        if let Some(id) = str_at(project, "id") {
            return Ok(Scope::ProjectId(id));
        }
        let Some(name) = str_at(project, "name") else {
            return Err(expecting("id or name", "project"));
        };
        let Some(domain) = object_at(project, "domain") else {
            return Err(expecting("domain", "project"));
        };
        let (domain_id, domain_name) = (str_at(domain, "id"), str_at(domain, "name"));
        if domain_id.is_none() && domain_name.is_none() {
            return Err(expecting("id or name", "domain"));
        }
        return Ok(Scope::ProjectName {
            name,
            domain_id,
            domain_name,
        });
    }
    if object_at(scope, "system").is_some() {
        return Ok(Scope::System);
    }
    if scope.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(Scope::Default);
    }
    Ok(Scope::Other)
}

/// A user reference: `{"id": ...}` or `{"name": ..., "domain": {...}}`.
fn find_user<'c>(
    config: &'c Directory,
    user: &Value,
    target: &str,
) -> Result<Option<&'c User>, KeystoneError> {
    if let Some(id) = str_at(user, "id") {
        return Ok(config.user(id));
    }
    let Some(name) = str_at(user, "name") else {
        return Err(expecting("id or name", target));
    };
    let Some(domain) = object_at(user, "domain") else {
        return Err(expecting("domain", target));
    };
    let (domain_id, domain_name) = (str_at(domain, "id"), str_at(domain, "name"));
    if domain_id.is_none() && domain_name.is_none() {
        return Err(expecting("id or name", "domain"));
    }
    Ok(config
        .domain_by(domain_id, domain_name)
        .and_then(|d| config.user_by_name(name, &d.id)))
}

fn secret_matches(given: &str, expected: &str) -> bool {
    let cut = |s: &str| s.as_bytes()[..s.len().min(BCRYPT_MAX)].to_vec();
    cut(given) == cut(expected)
}

fn password<'c>(config: &'c Directory, m: &Value) -> Result<Proof<'c>, KeystoneError> {
    let Some(user) = object_at(m, "user") else {
        return Err(expecting("user", "password"));
    };
    let found = find_user(config, user, "user")?;
    let given = str_at(user, "password");
    match (found, given) {
        (Some(u), Some(p)) if u.enabled && u.password.as_deref() == Some(p) => Ok(Proof {
            user_id: u.id.clone(),
            base: None,
            app_cred: None,
        }),
        _ => Err(KeystoneError::unauthorized()),
    }
}

fn token<'c>(
    store: &TokenStore,
    m: &Value,
    now: OffsetDateTime,
) -> Result<Proof<'c>, KeystoneError> {
    let Some(id) = str_at(m, "id") else {
        return Err(KeystoneError::BadRequest(
            "Invalid input for field 'identity/token': 'id' is a required property".into(),
        ));
    };
    match store.lookup(id, now) {
        // Keystone checks this before anything about the requested scope:
        // a delegated token buys no other token, rescoped or not.
        Lookup::Valid(t) if is_delegated(&t.data) => Err(KeystoneError::DelegatedToken),
        Lookup::Valid(t) => Ok(Proof {
            user_id: t.data.user.user.id.clone(),
            base: Some(*t),
            app_cred: None,
        }),
        other => Err(KeystoneError::token_not_found(&other)),
    }
}

fn application_credential<'c>(
    config: &'c Directory,
    m: &Value,
) -> Result<Proof<'c>, KeystoneError> {
    let Some(secret) = str_at(m, "secret") else {
        return Err(KeystoneError::BadRequest(
            "Invalid input for field 'identity/application_credential': 'secret' is a required property"
                .into(),
        ));
    };
    let found = if let Some(id) = str_at(m, "id") {
        config.app_credential(id).ok_or_else(|| {
            KeystoneError::NotFound(format!("Could not find Application Credential: {id}."))
        })?
    } else {
        let Some(name) = str_at(m, "name") else {
            return Err(expecting("id or name", "application credential"));
        };
        let Some(user) = object_at(m, "user") else {
            return Err(expecting("user", "application credential"));
        };
        let Some(user) = find_user(config, user, "user")? else {
            return Err(KeystoneError::unauthorized());
        };
        config
            .app_credential_by_name(name, &user.id)
            .ok_or_else(|| {
                KeystoneError::NotFound(format!("Could not find Application Credential: {name}."))
            })?
    };
    if !secret_matches(secret, &found.secret) {
        return Err(KeystoneError::unauthorized());
    }
    Ok(Proof {
        user_id: found.user_id.clone(),
        base: None,
        app_cred: Some(found),
    })
}

fn named(id: &str, name: &str) -> Named {
    Named {
        id: id.into(),
        name: name.into(),
    }
}

fn domain_named(config: &Directory, id: &str) -> Named {
    config
        .domain(id)
        .map_or_else(|| named(id, id), |d| named(&d.id, &d.name))
}

/// Project scope and roles for `user_id` on `project_id`, or 401 when the
/// project is unknown or the user holds no role there.
fn scope_to(
    config: &Directory,
    user_id: &str,
    project_id: &str,
    roles: Option<&[String]>,
) -> Result<(TokenProject, Vec<Named>), KeystoneError> {
    let project = config
        .project(project_id)
        .filter(|p| p.enabled)
        .ok_or_else(KeystoneError::unauthorized)?;
    let roles = roles.map_or_else(|| config.roles_on(user_id, project_id), <[String]>::to_vec);
    if roles.is_empty() {
        return Err(KeystoneError::unauthorized());
    }
    Ok((
        TokenProject {
            project: named(&project.id, &project.name),
            domain: domain_named(config, &project.domain_id),
        },
        roles.iter().map(|r| named(&config.role_id(r), r)).collect(),
    ))
}

/// Resolve an `{"auth": {...}}` request body into the new token's contents,
/// as of `now`. Tokens named by the `token` method are looked up in `store`.
pub fn authenticate(
    config: &Directory,
    lifetime_secs: u64,
    store: &TokenStore,
    body: &Value,
    now: OffsetDateTime,
) -> Result<TokenData, KeystoneError> {
    let Some(auth) = object_at(body, "auth") else {
        return Err(expecting("auth", "request body"));
    };
    let Some(identity) = object_at(auth, "identity") else {
        return Err(KeystoneError::BadRequest(
            "'identity' is a required property".into(),
        ));
    };
    let Some(methods) = identity.get("methods").and_then(Value::as_array) else {
        return Err(KeystoneError::BadRequest(
            "Invalid input for field 'identity': 'methods' is a required property".into(),
        ));
    };
    let mut names: Vec<&str> = Vec::new();
    for m in methods {
        let Some(m) = m.as_str() else {
            return Err(KeystoneError::BadRequest(
                "Invalid input for field 'identity/methods': the value is not of type 'string'"
                    .into(),
            ));
        };
        if !names.contains(&m) {
            names.push(m);
        }
    }
    if names.is_empty() {
        return Err(KeystoneError::unauthorized());
    }
    for m in &names {
        if identity.get(*m).is_none() {
            return Err(expecting(m, "identity"));
        }
    }
    if let Some(m) = names.iter().find(|m| !METHODS.contains(m)) {
        tracing::debug!("unsupported auth method {m}");
        return Err(KeystoneError::UnsupportedMethod);
    }
    let scope = parse_scope(auth)?;

    let mut proofs = Vec::new();
    for m in &names {
        let obj = identity.get(*m).unwrap_or(&Value::Null);
        proofs.push(match *m {
            "password" => password(config, obj)?,
            "token" => token(store, obj, now)?,
            _ => application_credential(config, obj)?,
        });
    }
    let user_id = proofs[0].user_id.clone();
    if proofs.iter().any(|p| p.user_id != user_id) {
        return Err(KeystoneError::unauthorized());
    }
    let base = proofs.iter().find_map(|p| p.base.clone());
    let app_cred = proofs.iter().find_map(|p| p.app_cred);
    let user = config
        .user(&user_id)
        .filter(|u| u.enabled)
        .ok_or_else(KeystoneError::unauthorized)?;

    let system = app_cred.is_none()
        && (scope == Scope::System
            || (scope == Scope::Default && base.as_ref().is_some_and(|b| b.data.system)));
    let (project, roles) = if system {
        let roles = config.effective_roles(&user_id, &GrantScope::System);
        if roles.is_empty() {
            return Err(KeystoneError::unauthorized());
        }
        let roles = roles.iter().map(|r| named(&config.role_id(r), r)).collect();
        (None, roles)
    } else if let Some(ac) = app_cred {
        if scope != Scope::Default {
            return Err(KeystoneError::AppCredentialScope);
        }
        let (p, r) = scope_to(config, &user_id, &ac.project_id, ac.roles.as_deref())?;
        (Some(p), r)
    } else {
        let project_id = match scope {
            Scope::Unscoped => None,
            Scope::ProjectId(id) => Some(id.to_owned()),
            Scope::ProjectName {
                name,
                domain_id,
                domain_name,
            } => Some(
                config
                    .domain_by(domain_id, domain_name)
                    .and_then(|d| config.project_by_name(name, &d.id))
                    .map(|p| p.id.clone())
                    .ok_or_else(KeystoneError::unauthorized)?,
            ),
            Scope::Other | Scope::System => return Err(KeystoneError::unauthorized()),
            Scope::Default => match &base {
                // A rescope without scope keeps the original's (never an
                // application credential's: `token` refused those).
                Some(b) => b.data.project.as_ref().map(|p| p.project.id.clone()),
                None => user
                    .default_project_id
                    .clone()
                    .filter(|p| !config.roles_on(&user_id, p).is_empty()),
            },
        };
        match project_id {
            None => (None, Vec::new()),
            Some(pid) => {
                let (p, r) = scope_to(config, &user_id, &pid, None)?;
                (Some(p), r)
            }
        }
    };

    let mut token_methods: Vec<String> = names.iter().map(|m| (*m).to_owned()).collect();
    let mut audit_ids = vec![new_audit_id()];
    let mut expires_at =
        now + Duration::seconds(i64::try_from(lifetime_secs).unwrap_or(i64::MAX / 2));
    if let Some(b) = &base {
        for m in &b.data.methods {
            if !token_methods.contains(m) {
                token_methods.push(m.clone());
            }
        }
        if let Some(chain) = b.data.audit_ids.last() {
            audit_ids.push(chain.clone());
        }
        expires_at = expires_at.min(b.data.expires_at);
    }
    Ok(TokenData {
        methods: token_methods,
        user: TokenUser {
            user: named(&user.id, &user.name),
            domain: domain_named(config, &user.domain_id),
        },
        project,
        system,
        roles,
        audit_ids,
        issued_at: now,
        expires_at,
        application_credential: app_cred.map(|a| named(&a.id, &a.name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystone::tokens::now;
    use serde_json::json;

    fn cfg() -> Directory {
        Directory::from(&crate::keystone::IdentityConfig::default())
    }

    fn pw(user: Value, scope: Option<Value>) -> Value {
        let mut auth = json!({"identity": {"methods": ["password"], "password": {"user": user}}});
        if let Some(s) = scope {
            auth["scope"] = s;
        }
        json!({ "auth": auth })
    }

    fn auth(body: &Value) -> Result<TokenData, KeystoneError> {
        authenticate(&cfg(), 3600, &TokenStore::default(), body, now())
    }

    fn project_of(t: &TokenData) -> Option<&str> {
        t.project.as_ref().map(|p| p.project.id.as_str())
    }

    #[test]
    fn password_by_name_scoped_by_name() {
        let t = auth(&pw(
            json!({"name": "demo", "domain": {"name": "Default"}, "password": "demo-secret"}),
            Some(json!({"project": {"name": "demo", "domain": {"id": "default"}}})),
        ))
        .expect("token");
        assert_eq!(t.methods, ["password"]);
        assert_eq!(t.user.user.id, "demo");
        assert_eq!(t.user.domain.name, "Default");
        assert_eq!(project_of(&t), Some("demo"));
        let roles: Vec<&str> = t.roles.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(roles, ["member", "reader"]);
        assert_eq!(t.expires_at - t.issued_at, Duration::hours(1));
        assert_eq!(t.audit_ids.len(), 1);
    }

    #[test]
    fn password_by_id_scoped_by_id() {
        let t = auth(&pw(
            json!({"id": "admin", "password": "admin-secret"}),
            Some(json!({"project": {"id": "admin"}})),
        ))
        .expect("token");
        assert!(t.identity().is_admin());
        assert_eq!(project_of(&t), Some("admin"));
    }

    #[test]
    fn no_scope_means_the_default_project_or_unscoped() {
        let demo = json!({"id": "demo", "password": "demo-secret"});
        let t = auth(&pw(demo.clone(), None)).expect("token");
        assert_eq!(project_of(&t), Some("demo"));
        let t = auth(&pw(demo, Some(json!("unscoped")))).expect("token");
        assert_eq!(project_of(&t), None);
        assert!(t.roles.is_empty());
        // admin has no default project
        let t = auth(&pw(
            json!({"id": "admin", "password": "admin-secret"}),
            None,
        ))
        .expect("token");
        assert_eq!(project_of(&t), None);
    }

    #[test]
    fn wrong_credentials_and_scopes_are_401() {
        let cases = [
            pw(json!({"id": "demo", "password": "nope"}), None),
            pw(json!({"id": "nobody", "password": "demo-secret"}), None),
            pw(
                json!({"name": "demo", "domain": {"name": "Other"}, "password": "demo-secret"}),
                None,
            ),
            pw(json!({"id": "demo"}), None),
            pw(
                json!({"id": "demo", "password": "demo-secret"}),
                Some(json!({"project": {"id": "alt"}})),
            ),
            pw(
                json!({"id": "demo", "password": "demo-secret"}),
                Some(json!({"project": {"id": "nope"}})),
            ),
            pw(
                json!({"id": "demo", "password": "demo-secret"}),
                Some(json!({"domain": {"id": "default"}})),
            ),
        ];
        for body in cases {
            assert!(
                matches!(auth(&body), Err(KeystoneError::Unauthorized(_))),
                "{body}"
            );
        }
    }

    #[test]
    fn malformed_requests_are_400_with_keystones_text() {
        let e = auth(&json!({})).expect_err("400");
        assert_eq!(
            e.message(),
            "Expecting to find auth in request body. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."
        );
        let e = auth(&pw(
            json!({"name": "demo", "password": "demo-secret"}),
            None,
        ))
        .expect_err("400");
        assert!(e.message().starts_with("Expecting to find domain in user."));
        let e = auth(&pw(
            json!({"id": "demo", "password": "demo-secret"}),
            Some(json!({"project": {"name": "demo"}})),
        ))
        .expect_err("400");
        assert!(
            e.message()
                .starts_with("Expecting to find domain in project.")
        );
        let e = auth(&json!({"auth": {"identity": {"methods": ["password"]}}})).expect_err("400");
        assert!(
            e.message()
                .starts_with("Expecting to find password in identity.")
        );
        let e = auth(&json!({"auth": {"identity": {"methods": ["totp"], "totp": {}}}}))
            .expect_err("401");
        assert_eq!(e, KeystoneError::UnsupportedMethod);
    }

    #[test]
    fn token_method_rescopes_and_keeps_expiry() {
        let store = TokenStore::default();
        let c = cfg();
        let t0 = now();
        let first = authenticate(
            &c,
            3600,
            &store,
            &pw(json!({"id": "admin", "password": "admin-secret"}), None),
            t0,
        )
        .expect("unscoped");
        assert_eq!(project_of(&first), None);
        let first = store.issue(first);
        let later = t0 + Duration::minutes(10);
        let body = json!({"auth": {
            "identity": {"methods": ["token"], "token": {"id": first.id}},
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}},
        }});
        let second = authenticate(&c, 3600, &store, &body, later).expect("rescoped");
        assert_eq!(second.methods, ["token", "password"]);
        assert_eq!(project_of(&second), Some("admin"));
        assert_eq!(second.expires_at, first.data.expires_at);
        assert_eq!(second.issued_at, later);
        assert_eq!(second.audit_ids[1], first.data.audit_ids[0]);
        // Without scope, the original's scope stays.
        let keep = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": first.id}}}});
        assert_eq!(
            project_of(&authenticate(&c, 3600, &store, &keep, later).expect("same")),
            None
        );
        // A revoked or unknown token cannot be exchanged.
        store.revoke(&first.id, later);
        assert_eq!(
            authenticate(&c, 3600, &store, &keep, later).expect_err("revoked"),
            KeystoneError::NotFound("Failed to validate token".into())
        );
        let unknown = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": "x"}}}});
        assert_eq!(
            authenticate(&c, 3600, &store, &unknown, later).expect_err("unknown"),
            KeystoneError::NotFound("Could not recognize Fernet token".into())
        );
    }

    #[test]
    fn application_credentials_by_id_and_by_name() {
        let ac = |m: Value| json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": m}}});
        for m in [
            json!({"id": "ref-appcred-id", "secret": "ref-appcred-secret"}),
            json!({"name": "ref-appcred", "user": {"id": "demo"}, "secret": "ref-appcred-secret"}),
            json!({"name": "ref-appcred", "user": {"name": "demo", "domain": {"id": "default"}}, "secret": "ref-appcred-secret"}),
        ] {
            let t = auth(&ac(m)).expect("token");
            assert_eq!(t.methods, ["application_credential"]);
            assert_eq!(project_of(&t), Some("demo"));
            assert_eq!(
                t.application_credential.as_ref().map(|a| a.name.as_str()),
                Some("ref-appcred")
            );
        }
        assert!(matches!(
            auth(&ac(
                json!({"id": "ref-appcred-id", "secret": "Ref-appcred-secret"})
            )),
            Err(KeystoneError::Unauthorized(_))
        ));
        assert_eq!(
            auth(&ac(json!({"id": "nope", "secret": "x"}))).expect_err("404"),
            KeystoneError::NotFound("Could not find Application Credential: nope.".into())
        );
        let mut scoped = ac(json!({"id": "ref-appcred-id", "secret": "ref-appcred-secret"}));
        scoped["auth"]["scope"] = json!({"project": {"id": "demo"}});
        assert_eq!(
            auth(&scoped).expect_err("401"),
            KeystoneError::AppCredentialScope
        );
    }

    #[test]
    fn tokens_of_application_credentials_are_not_exchanged() {
        let store = TokenStore::default();
        let mut c = cfg();
        c.application_credentials[0].roles = Some(vec!["reader".into()]);
        let t0 = now();
        let ac = json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": "ref-appcred-id", "secret": "ref-appcred-secret"}}}});
        let first = store.issue(authenticate(&c, 3600, &store, &ac, t0).expect("app cred token"));
        let names = |t: &TokenData| t.roles.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&first.data), ["reader"]);
        let rescope = |scope: Option<Value>| {
            let mut body =
                json!({"auth": {"identity": {"methods": ["token"], "token": {"id": first.id}}}});
            if let Some(s) = scope {
                body["auth"]["scope"] = s;
            }
            authenticate(&c, 3600, &store, &body, t0)
        };
        for scope in [
            None,
            Some(json!("unscoped")),
            Some(json!({"project": {"id": "demo"}})),
            Some(json!({"project": {"name": "demo", "domain": {"id": "default"}}})),
            Some(json!({"project": {"id": "alt"}})),
            Some(json!({"domain": {"id": "default"}})),
        ] {
            assert_eq!(
                rescope(scope.clone()),
                Err(KeystoneError::DelegatedToken),
                "{scope:?}"
            );
        }
        // Keystone's rule is deny by default: no methods, or one it does
        // not know as primary, or an application credential named.
        let mut data = first.data.clone();
        assert!(is_delegated(&data));
        data.methods = vec!["password".into()];
        assert!(is_delegated(&data), "application credential named");
        data.application_credential = None;
        assert!(!is_delegated(&data));
        data.methods = vec!["token".into(), "password".into()];
        assert!(!is_delegated(&data));
        data.methods = vec![];
        assert!(is_delegated(&data), "no methods");
        data.methods = vec!["password".into(), "oauth1".into()];
        assert!(is_delegated(&data));
    }

    #[test]
    fn only_72_bytes_of_an_app_credential_secret_count() {
        let long = "s".repeat(72);
        assert!(secret_matches(&format!("{long}A"), &format!("{long}B")));
        assert!(!secret_matches("abc", "abd"));
        assert!(!secret_matches("abc", "abcd"));
    }
}
