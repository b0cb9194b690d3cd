//! Tokens: what one says (user, scope, roles, methods, times), and the
//! store that issues, validates and revokes them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use super::IdentityJournal;
use crate::domain::Identity;

/// A user, project or domain as a token names it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Named {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// A token's user: id, name and domain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenUser {
    /// The user.
    pub user: Named,
    /// The user's domain.
    pub domain: Named,
}

/// A token's project scope: id, name and domain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenProject {
    /// The project.
    pub project: Named,
    /// The project's domain.
    pub domain: Named,
}

/// Everything a token says, without its id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenData {
    /// Authentication methods, newest first (`["token", "password"]` after a rescope).
    pub methods: Vec<String>,
    /// Who.
    pub user: TokenUser,
    /// The project scope; `None` for an unscoped or system-scoped token.
    pub project: Option<TokenProject>,
    /// Whether the token is scoped to the system (`{"system": {"all": true}}`).
    pub system: bool,
    /// Roles on the project (empty when unscoped).
    pub roles: Vec<Named>,
    /// Audit ids: this token's, then the one it was made from.
    pub audit_ids: Vec<String>,
    /// Issue time (whole seconds).
    pub issued_at: OffsetDateTime,
    /// Expiry time.
    pub expires_at: OffsetDateTime,
    /// The application credential it was made with, if any.
    pub application_credential: Option<Named>,
}

/// An issued token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Token {
    /// The token string (`X-Subject-Token`, then `X-Auth-Token`).
    pub id: String,
    /// What it says.
    pub data: TokenData,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// Why a token the store issued no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Its `expires_at` has passed.
    Expired,
    /// It was revoked.
    Revoked,
}

/// The outcome of looking a token string up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Never issued by this store.
    Unknown,
    /// Issued, but expired or revoked.
    Invalid(Invalid),
    /// Issued and valid.
    Valid(Box<Token>),
}

/// Keystone's timestamp format: `2026-11-22T06:59:51.000000Z`.
pub fn format_time(t: OffsetDateTime) -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    t.format(&fmt).unwrap_or_default()
}

/// The current time in whole seconds, as Keystone stores token times.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(0).unwrap_or(t)
}

/// Unpadded URL-safe base64, the alphabet of Fernet tokens and audit ids.
fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn random_bytes(n: usize) -> Vec<u8> {
    std::iter::repeat_with(|| uuid::Uuid::new_v4().into_bytes())
        .flatten()
        .take(n)
        .collect()
}

/// A fresh audit id: 16 random bytes, 22 characters, as Keystone's.
pub fn new_audit_id() -> String {
    b64url(&random_bytes(16))
}

/// A fresh token string shaped like a Fernet token (`gAAAAAB...`).
pub fn new_token_id() -> String {
    format!("gAAAAAB{}", b64url(&random_bytes(132)))
}

impl TokenData {
    /// Whether the token has expired at `now`.
    pub fn expired_at(&self, now: OffsetDateTime) -> bool {
        self.expires_at <= now
    }

    /// Whether the token lists `role` (case-insensitive, as oslo.policy).
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r.name.eq_ignore_ascii_case(role))
    }

    /// The identity an Image API request carrying this token acts as.
    /// Glance 33 (`enforce_scope`, every policy scoped to projects)
    /// answers a system-scoped token as an unscoped one (probed: 403 on
    /// list and create, 404 on show), so such a token shows no roles here.
    pub fn identity(&self) -> Identity {
        if self.system {
            return Identity {
                project_id: None,
                user_id: Some(self.user.user.id.clone()),
                roles: Vec::new(),
            };
        }
        Identity {
            project_id: self.project.as_ref().map(|p| p.project.id.clone()),
            user_id: Some(self.user.user.id.clone()),
            roles: self
                .roles
                .iter()
                .map(|r| r.name.to_ascii_lowercase())
                .collect(),
        }
    }

    /// The token body (`{"token": {...}}`); `catalog` is included for a
    /// project-scoped token when given.
    pub fn to_json(&self, catalog: Option<Value>) -> Value {
        let named = |n: &Named| json!({"id": n.id, "name": n.name});
        let mut token = json!({
            "methods": self.methods,
            "user": {
                "domain": named(&self.user.domain),
                "id": self.user.user.id,
                "name": self.user.user.name,
                "password_expires_at": null,
            },
            "audit_ids": self.audit_ids,
            "expires_at": format_time(self.expires_at),
            "issued_at": format_time(self.issued_at),
        });
        if let (Some(p), Some(obj)) = (&self.project, token.as_object_mut()) {
            obj.insert(
                "project".into(),
                json!({"domain": named(&p.domain), "id": p.project.id, "name": p.project.name}),
            );
            obj.insert("is_domain".into(), Value::Bool(false));
            obj.insert(
                "roles".into(),
                Value::Array(self.roles.iter().map(named).collect()),
            );
            if let Some(ac) = &self.application_credential {
                obj.insert(
                    "application_credential".into(),
                    json!({"id": ac.id, "name": ac.name, "restricted": true}),
                );
            }
            if let Some(catalog) = catalog {
                obj.insert("catalog".into(), catalog);
            }
        } else if let (true, Some(obj)) = (self.system, token.as_object_mut()) {
            obj.insert(
                "roles".into(),
                Value::Array(self.roles.iter().map(named).collect()),
            );
            obj.insert("system".into(), json!({"all": true}));
            if let Some(catalog) = catalog {
                obj.insert("catalog".into(), catalog);
            }
        }
        json!({ "token": token })
    }
}

/// Issued tokens by id. Expired and revoked ones are kept, so that they
/// are told apart from tokens never issued here.
#[derive(Debug, Default)]
pub struct TokenStore {
    tokens: Mutex<HashMap<String, Token>>,
    /// Where issued and revoked tokens are also written, if anywhere.
    journal: Option<Arc<dyn IdentityJournal>>,
}

impl TokenStore {
    /// A store holding `tokens` (read back from `journal`) that writes
    /// every token it issues or revokes to `journal`.
    pub fn durable(journal: Arc<dyn IdentityJournal>, tokens: Vec<Token>) -> Self {
        TokenStore {
            tokens: Mutex::new(tokens.into_iter().map(|t| (t.id.clone(), t)).collect()),
            journal: Some(journal),
        }
    }

    /// Take in `tokens` as written elsewhere (issued or revoked by another
    /// process sharing the journal), replacing what this store has of them.
    pub fn restore(&self, tokens: Vec<Token>) {
        if tokens.is_empty() {
            return;
        }
        self.with(|t| {
            for token in tokens {
                t.insert(token.id.clone(), token);
            }
        });
    }

    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, Token>) -> R) -> R {
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut tokens)
    }

    /// Write `token` to the journal (under the store's lock, so writes of
    /// one token keep their order).
    fn journal(&self, token: &Token) {
        if let Some(journal) = &self.journal {
            journal.token_saved(token);
        }
    }

    /// Store `data` under a fresh token id and return the token.
    pub fn issue(&self, data: TokenData) -> Token {
        let token = Token {
            id: new_token_id(),
            data,
            revoked: false,
        };
        self.with(|t| {
            self.journal(&token);
            t.insert(token.id.clone(), token.clone())
        });
        token
    }

    /// Look `id` up as of `now`.
    pub fn lookup(&self, id: &str, now: OffsetDateTime) -> Lookup {
        self.with(|t| match t.get(id) {
            None => Lookup::Unknown,
            Some(tok) if tok.revoked => Lookup::Invalid(Invalid::Revoked),
            Some(tok) if tok.data.expired_at(now) => Lookup::Invalid(Invalid::Expired),
            Some(tok) => Lookup::Valid(Box::new(tok.clone())),
        })
    }

    /// Revoke `id` if it is valid at `now`; the lookup before revoking.
    pub fn revoke(&self, id: &str, now: OffsetDateTime) -> Lookup {
        self.with(|t| match t.get_mut(id) {
            None => Lookup::Unknown,
            Some(tok) if tok.revoked => Lookup::Invalid(Invalid::Revoked),
            Some(tok) if tok.data.expired_at(now) => Lookup::Invalid(Invalid::Expired),
            Some(tok) => {
                tok.revoked = true;
                self.journal(tok);
                Lookup::Valid(Box::new(tok.clone()))
            }
        })
    }

    /// Revoke every token whose contents match `pred` (Keystone's revocation
    /// events on deleting a user, a project or a grant).
    pub fn revoke_matching(&self, pred: impl Fn(&TokenData) -> bool) {
        self.with(|t| {
            for tok in t.values_mut() {
                if !tok.revoked && pred(&tok.data) {
                    tok.revoked = true;
                    self.journal(tok);
                }
            }
        });
    }

    /// How many tokens were issued.
    pub fn len(&self) -> usize {
        self.with(|t| t.len())
    }

    /// Whether none was issued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn named(s: &str) -> Named {
        Named {
            id: s.into(),
            name: s.into(),
        }
    }

    fn data(issued: OffsetDateTime, lifetime: i64) -> TokenData {
        TokenData {
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
            audit_ids: vec![new_audit_id()],
            issued_at: issued,
            expires_at: issued + Duration::seconds(lifetime),
            application_credential: None,
        }
    }

    #[test]
    fn ids_look_like_keystones() {
        let a = new_audit_id();
        assert_eq!(a.len(), 22);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        let t = new_token_id();
        assert!(t.starts_with("gAAAAAB"));
        assert_eq!(t.len(), 183);
        assert_ne!(new_token_id(), t);
        assert_eq!(b64url(b"Man"), "TWFu");
        assert_eq!(b64url(b"Ma"), "TWE");
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn issue_validate_revoke() {
        let store = TokenStore::default();
        let t0 = now();
        let tok = store.issue(data(t0, 3600));
        assert_eq!(
            store.lookup(&tok.id, t0),
            Lookup::Valid(Box::new(tok.clone()))
        );
        assert_eq!(store.lookup("nope", t0), Lookup::Unknown);
        assert!(matches!(store.revoke(&tok.id, t0), Lookup::Valid(t) if t.id == tok.id));
        assert_eq!(store.lookup(&tok.id, t0), Lookup::Invalid(Invalid::Revoked));
        assert_eq!(store.revoke(&tok.id, t0), Lookup::Invalid(Invalid::Revoked));
        assert_eq!(store.revoke("nope", t0), Lookup::Unknown);
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn tokens_expire_at_expires_at() {
        let store = TokenStore::default();
        let t0 = now();
        let tok = store.issue(data(t0, 60));
        let just_before = t0 + Duration::seconds(59);
        assert!(matches!(
            store.lookup(&tok.id, just_before),
            Lookup::Valid(_)
        ));
        assert_eq!(
            store.lookup(&tok.id, t0 + Duration::seconds(60)),
            Lookup::Invalid(Invalid::Expired)
        );
        assert_eq!(
            store.revoke(&tok.id, t0 + Duration::seconds(61)),
            Lookup::Invalid(Invalid::Expired)
        );
    }

    #[test]
    fn body_is_keystones() {
        let t0 = OffsetDateTime::from_unix_timestamp(1_795_327_191).expect("time");
        let d = data(t0, 3600);
        let body = d.to_json(Some(json!([])));
        let tok = &body["token"];
        assert_eq!(tok["methods"], json!(["password"]));
        assert_eq!(tok["issued_at"], "2026-11-22T05:59:51.000000Z");
        assert_eq!(tok["expires_at"], "2026-11-22T06:59:51.000000Z");
        assert_eq!(tok["project"]["domain"]["id"], "default");
        assert_eq!(tok["is_domain"], false);
        assert_eq!(tok["roles"][0], json!({"id": "member", "name": "member"}));
        assert_eq!(tok["user"]["password_expires_at"], Value::Null);
        assert_eq!(tok["catalog"], json!([]));
        assert!(tok.get("application_credential").is_none());
        let mut unscoped = d.clone();
        unscoped.project = None;
        unscoped.roles.clear();
        let body = unscoped.to_json(Some(json!([])));
        for key in ["project", "roles", "catalog", "is_domain"] {
            assert!(body["token"].get(key).is_none(), "{key}");
        }
        assert_eq!(
            d.identity(),
            Identity {
                project_id: Some("demo".into()),
                user_id: Some("demo".into()),
                roles: vec!["member".into(), "reader".into()],
            }
        );
    }
}
