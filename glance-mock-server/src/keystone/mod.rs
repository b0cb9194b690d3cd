//! A Keystone v3 identity shim on the mock's own listener, under
//! `/identity`, answering as Keystone 30 does for what a Glance client
//! needs: the version documents, and issuing (`password`, `token`,
//! `application_credential`; project or system scope), validating and
//! revoking tokens whose catalog points at the mock itself; and for what
//! Tempest's dynamic credentials need: the identity admin API
//! ([`admin`], [`grants`]) under Keystone's default policies ([`policy`]).
//!
//! Image API requests carrying a token issued here act as that token's
//! identity, as keystone-middleware would tell Glance (see
//! [`crate::api::keystone::guard()`]); with
//! [`crate::Config::require_auth`] nothing else is accepted on `/v2`.
//!
//! Users, projects, roles and application credentials start as
//! [`crate::Config::identity`] ([`IdentityConfig`]) says, and live in a
//! [`Directory`] the admin API changes and a reset restores.

pub mod admin;
pub mod auth;
pub mod catalog;
pub mod config;
pub mod directory;
pub mod grants;
pub mod policy;
pub mod render;
pub mod tokens;

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::Value;
use time::OffsetDateTime;

pub use directory::Directory;

pub use config::IdentityConfig;
pub use tokens::{Lookup, Token, TokenData, TokenStore};

/// Keystone's text after a validation error's own sentence.
const NOT_COMPLY: &str = "The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.";

/// Keystone's text for a 401.
pub const UNAUTHORIZED: &str = "The request you have made requires authentication.";

/// Why Keystone refused, in the categories it renders as
/// `{"error": {"code", "message", "title"}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeystoneError {
    /// 400 with this message.
    #[error("{0}")]
    BadRequest(String),
    /// 401 with this message.
    #[error("{0}")]
    Unauthorized(String),
    /// 401: a method the shim does not implement (the body lists those it does).
    #[error("Attempted to authenticate with an unsupported method.")]
    UnsupportedMethod,
    /// 401: an application credential asked for a scope.
    #[error(
        "Error authenticating with application credential: Application credentials cannot request a scope."
    )]
    AppCredentialScope,
    /// 403: the `token` method was given a token made from a delegated
    /// credential (an application credential), which Keystone refuses to
    /// exchange for another token, whatever the scope asked for. The text
    /// is Keystone's, doubled full stop included.
    #[error(
        "You are not authorized to perform the requested action: Using a delegated token to create another token is not allowed.."
    )]
    DelegatedToken,
    /// 403 with this message (see [`KeystoneError::policy`]).
    #[error("{0}")]
    Forbidden(String),
    /// 404 with this message.
    #[error("{0}")]
    NotFound(String),
    /// 409 with this message (a duplicate name).
    #[error("{0}")]
    Conflict(String),
}

impl KeystoneError {
    /// 401 with Keystone's usual text.
    pub fn unauthorized() -> Self {
        KeystoneError::Unauthorized(UNAUTHORIZED.into())
    }

    /// Keystone's `ValidationError`: "Expecting to find {attribute} in {target}. ...".
    pub fn expecting(attribute: &str, target: &str) -> Self {
        KeystoneError::BadRequest(format!(
            "Expecting to find {attribute} in {target}. {NOT_COMPLY}"
        ))
    }

    /// 403: the policy `rule` (e.g. `identity:validate_token`) refused.
    pub fn policy(rule: &str) -> Self {
        KeystoneError::Forbidden(format!(
            "You are not authorized to perform the requested action: {rule}."
        ))
    }

    /// Keystone's 404 for a missing entity: "Could not find {kind}: {id}.".
    pub fn not_found(kind: &str, id: &str) -> Self {
        KeystoneError::NotFound(format!("Could not find {kind}: {id}."))
    }

    /// The 404 for a subject token that is not valid.
    pub fn token_not_found(lookup: &Lookup) -> Self {
        KeystoneError::NotFound(match lookup {
            Lookup::Unknown => "Could not recognize Fernet token".into(),
            _ => "Failed to validate token".into(),
        })
    }

    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            KeystoneError::BadRequest(_) => 400,
            KeystoneError::Unauthorized(_)
            | KeystoneError::UnsupportedMethod
            | KeystoneError::AppCredentialScope => 401,
            KeystoneError::Forbidden(_) | KeystoneError::DelegatedToken => 403,
            KeystoneError::NotFound(_) => 404,
            KeystoneError::Conflict(_) => 409,
        }
    }

    /// The `message`.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The `{"error": ...}` body.
    pub fn to_json(&self) -> Value {
        let title = match self.code() {
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            409 => "Conflict",
            _ => "Not Found",
        };
        let mut error = serde_json::json!({
            "code": self.code(),
            "message": self.message(),
            "title": title,
        });
        let identity = match self {
            KeystoneError::UnsupportedMethod => Some(serde_json::json!({"methods": auth::METHODS})),
            KeystoneError::AppCredentialScope => Some(serde_json::json!({})),
            _ => None,
        };
        if let (Some(identity), Some(obj)) = (identity, error.as_object_mut()) {
            obj.insert("identity".into(), identity);
        }
        serde_json::json!({ "error": error })
    }
}

/// The shim's state: its configuration, what its identity backend holds
/// now and the tokens it issued.
#[derive(Debug)]
pub struct Keystone {
    /// The configured identities (what a reset restores), token lifetime, region.
    pub config: IdentityConfig,
    /// The identities now: the configured ones plus what the admin API changed.
    directory: RwLock<Directory>,
    /// Issued tokens.
    pub tokens: TokenStore,
    /// Where changed identities are also written, if anywhere.
    journal: Option<Arc<dyn IdentityJournal>>,
}

/// Where the shim writes what must survive a restart (the durable
/// database, [`crate::db`]): the identities after every change, and every
/// token issued or revoked. A write that fails is logged by the journal;
/// the shim goes on.
pub trait IdentityJournal: std::fmt::Debug + Send + Sync {
    /// The identities are now `directory`.
    fn directory_changed(&self, directory: &Directory);
    /// `token` was issued, or changed (revoked).
    fn token_saved(&self, token: &Token);
    /// What other processes sharing the journal wrote since this one last
    /// asked: the identities if they changed, and the tokens written. By
    /// default (a journal no one else writes) nothing.
    fn changes(&self) -> SavedIdentities {
        SavedIdentities::default()
    }
    /// Whether the last [`IdentityJournal::changes`] could ask the journal
    /// (a registry node may be down): if not, a token this process has not
    /// seen may still be valid. By default (a local journal) always.
    fn reachable(&self) -> bool {
        true
    }
}

/// What an [`IdentityJournal`] read back: the identities (`None`: none
/// written yet, the configured ones apply) and the tokens.
#[derive(Debug, Default)]
pub struct SavedIdentities {
    /// The identities as last written.
    pub directory: Option<Directory>,
    /// Every token written (expired ones may be left out).
    pub tokens: Vec<Token>,
}

/// Write access to the identities; the change is journaled when it ends.
struct DirectoryWrite<'a> {
    guard: RwLockWriteGuard<'a, Directory>,
    journal: Option<&'a dyn IdentityJournal>,
}

impl std::ops::Deref for DirectoryWrite<'_> {
    type Target = Directory;
    fn deref(&self) -> &Directory {
        &self.guard
    }
}

impl std::ops::DerefMut for DirectoryWrite<'_> {
    fn deref_mut(&mut self) -> &mut Directory {
        &mut self.guard
    }
}

impl Drop for DirectoryWrite<'_> {
    fn drop(&mut self) {
        if let Some(journal) = self.journal {
            journal.directory_changed(&self.guard);
        }
    }
}

impl Default for Keystone {
    fn default() -> Self {
        Keystone::new(IdentityConfig::default())
    }
}

impl Keystone {
    /// A shim knowing `config`, with no tokens yet.
    pub fn new(config: IdentityConfig) -> Self {
        Keystone {
            directory: RwLock::new(Directory::from(&config)),
            config,
            tokens: TokenStore::default(),
            journal: None,
        }
    }

    /// A shim knowing `config` that starts from `saved` and writes every
    /// change of identities and tokens to `journal`.
    pub fn durable(
        config: IdentityConfig,
        journal: Arc<dyn IdentityJournal>,
        saved: SavedIdentities,
    ) -> Self {
        Keystone {
            directory: RwLock::new(saved.directory.unwrap_or_else(|| Directory::from(&config))),
            config,
            tokens: TokenStore::durable(journal.clone(), saved.tokens),
            journal: Some(journal),
        }
    }

    /// Take in what other processes sharing the journal wrote: their
    /// changes of the identities and the tokens they issued or revoked.
    fn catch_up(&self) {
        let Some(journal) = &self.journal else {
            return;
        };
        let changes = journal.changes();
        if let Some(directory) = changes.directory {
            // Not journaled again: it comes from the journal.
            *self
                .directory
                .write()
                .unwrap_or_else(PoisonError::into_inner) = directory;
        }
        self.tokens.restore(changes.tokens);
    }

    /// The identities now, for reading.
    pub fn directory(&self) -> RwLockReadGuard<'_, Directory> {
        self.catch_up();
        self.directory
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn directory_mut(&self) -> DirectoryWrite<'_> {
        self.catch_up();
        DirectoryWrite {
            guard: self
                .directory
                .write()
                .unwrap_or_else(PoisonError::into_inner),
            journal: self.journal.as_deref(),
        }
    }

    /// Replace the identities by `directory` (a seed), or by the
    /// configured ones when `None` (a reset, or a dump older than the
    /// identities section). Tokens of users or projects no longer there
    /// stop working; the others stay valid.
    pub fn restore(&self, directory: Option<Directory>) {
        let directory = directory.unwrap_or_else(|| Directory::from(&self.config));
        let mut d = self.directory_mut();
        *d = directory;
        self.tokens.revoke_matching(|t| {
            d.user(&t.user.user.id).is_none()
                || t.project
                    .as_ref()
                    .is_some_and(|p| d.project(&p.project.id).is_none())
        });
    }

    /// `POST /v3/auth/tokens` as of `now`: authenticate and issue a token.
    pub fn issue_at(&self, body: &Value, now: OffsetDateTime) -> Result<Token, KeystoneError> {
        let data = auth::authenticate(
            &self.directory(),
            self.config.token_lifetime_secs,
            &self.tokens,
            body,
            now,
        )?;
        Ok(self.tokens.issue(data))
    }

    /// `POST /v3/auth/tokens`: authenticate and issue a token.
    pub fn issue(&self, body: &Value) -> Result<Token, KeystoneError> {
        self.issue_at(body, tokens::now())
    }

    /// Whether other processes' tokens could not be read at the last look
    /// (the registry holding them is down): an unknown token is then not
    /// known to be invalid.
    pub fn journal_unreachable(&self) -> bool {
        self.journal.as_ref().is_some_and(|j| !j.reachable())
    }

    /// Look a token string up now.
    pub fn lookup(&self, token: &str) -> Lookup {
        self.catch_up();
        self.tokens.lookup(token, tokens::now())
    }

    /// The caller's token (`X-Auth-Token`) of a validate or revoke request,
    /// and the policy `identity:validate_token`/`identity:revoke_token`:
    /// admin, service, or the subject's own user.
    fn authorize(
        &self,
        caller: Option<&str>,
        subject: &TokenData,
        rule: &str,
        now: OffsetDateTime,
    ) -> Result<(), KeystoneError> {
        self.catch_up();
        let Some(Lookup::Valid(caller)) = caller.map(|c| self.tokens.lookup(c, now)) else {
            return Err(KeystoneError::unauthorized());
        };
        let who = &caller.data;
        if who.has_role("admin") || who.has_role("service") || who.user == subject.user {
            Ok(())
        } else {
            Err(KeystoneError::policy(rule))
        }
    }

    fn subject(
        &self,
        caller: Option<&str>,
        subject: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Lookup, KeystoneError> {
        if !matches!(
            caller.map(|c| self.tokens.lookup(c, now)),
            Some(Lookup::Valid(_))
        ) {
            return Err(KeystoneError::unauthorized());
        }
        let Some(subject) = subject else {
            return Err(KeystoneError::NotFound("No token in the request".into()));
        };
        Ok(self.tokens.lookup(subject, now))
    }

    /// `GET /v3/auth/tokens` as of `now`: the subject token, if the caller
    /// may see it.
    pub fn validate_at(
        &self,
        caller: Option<&str>,
        subject: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Token, KeystoneError> {
        match self.subject(caller, subject, now)? {
            Lookup::Valid(t) => {
                self.authorize(caller, &t.data, "identity:validate_token", now)?;
                Ok(*t)
            }
            other => Err(KeystoneError::token_not_found(&other)),
        }
    }

    /// `GET /v3/auth/tokens`.
    pub fn validate(
        &self,
        caller: Option<&str>,
        subject: Option<&str>,
    ) -> Result<Token, KeystoneError> {
        self.validate_at(caller, subject, tokens::now())
    }

    /// `DELETE /v3/auth/tokens` as of `now`: revoke the subject token.
    pub fn revoke_at(
        &self,
        caller: Option<&str>,
        subject: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), KeystoneError> {
        match self.subject(caller, subject, now)? {
            Lookup::Valid(t) => {
                self.authorize(caller, &t.data, "identity:revoke_token", now)?;
                match self.tokens.revoke(&t.id, now) {
                    Lookup::Valid(_) => Ok(()),
                    other => Err(KeystoneError::token_not_found(&other)),
                }
            }
            other => Err(KeystoneError::token_not_found(&other)),
        }
    }

    /// `DELETE /v3/auth/tokens`.
    pub fn revoke(&self, caller: Option<&str>, subject: Option<&str>) -> Result<(), KeystoneError> {
        self.revoke_at(caller, subject, tokens::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::Duration;

    fn login(k: &Keystone, user: &str, now: OffsetDateTime) -> Token {
        k.issue_at(
            &json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user": {"id": user, "password": format!("{user}-secret")}}},
                "scope": {"project": {"id": user}},
            }}),
            now,
        )
        .expect("login")
    }

    #[test]
    fn validate_and_revoke_follow_keystones_policy() {
        let k = Keystone::default();
        let t0 = tokens::now();
        let demo = login(&k, "demo", t0);
        let alt = login(&k, "alt", t0);
        let admin = login(&k, "admin", t0);
        let d = Some(demo.id.as_str());
        assert_eq!(k.validate_at(d, d, t0).expect("self").id, demo.id);
        assert_eq!(
            k.validate_at(Some(&admin.id), d, t0).expect("admin").id,
            demo.id
        );
        assert_eq!(
            k.validate_at(Some(&alt.id), d, t0).expect_err("403"),
            KeystoneError::policy("identity:validate_token")
        );
        assert_eq!(k.validate_at(None, d, t0).expect_err("401").code(), 401);
        assert_eq!(
            k.validate_at(Some("junk"), d, t0).expect_err("401").code(),
            401
        );
        assert_eq!(
            k.validate_at(d, None, t0).expect_err("404").message(),
            "No token in the request"
        );
        assert_eq!(
            k.validate_at(d, Some("junk"), t0)
                .expect_err("404")
                .message(),
            "Could not recognize Fernet token"
        );
        assert_eq!(
            k.revoke_at(Some(&alt.id), d, t0).expect_err("403"),
            KeystoneError::policy("identity:revoke_token")
        );
        k.revoke_at(Some(&admin.id), d, t0).expect("revoked");
        assert_eq!(
            k.validate_at(Some(&admin.id), d, t0)
                .expect_err("404")
                .message(),
            "Failed to validate token"
        );
        assert_eq!(
            k.revoke_at(Some(&admin.id), d, t0)
                .expect_err("404")
                .message(),
            "Failed to validate token"
        );
        assert_eq!(
            k.validate_at(d, Some(&admin.id), t0)
                .expect_err("401")
                .code(),
            401
        );
    }

    #[test]
    fn expired_tokens_fail_validation() {
        let k = Keystone::new(IdentityConfig {
            token_lifetime_secs: 60,
            ..IdentityConfig::default()
        });
        let t0 = tokens::now();
        let admin = login(&k, "admin", t0);
        let demo = login(&k, "demo", t0 + Duration::seconds(30));
        let at = t0 + Duration::seconds(60);
        // The caller's own token expired: 401.
        assert_eq!(
            k.validate_at(Some(&admin.id), Some(&demo.id), at)
                .expect_err("401")
                .code(),
            401
        );
        // The subject expired: 404.
        let fresh = login(&k, "admin", at);
        assert_eq!(
            k.validate_at(Some(&fresh.id), Some(&admin.id), at)
                .expect_err("404")
                .message(),
            "Failed to validate token"
        );
        assert!(matches!(k.tokens.lookup(&demo.id, at), Lookup::Valid(_)));
    }

    #[test]
    fn errors_render_as_keystone_json() {
        assert_eq!(
            KeystoneError::unauthorized().to_json(),
            json!({"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}})
        );
        assert_eq!(
            KeystoneError::UnsupportedMethod.to_json()["error"]["identity"]["methods"],
            json!(["password", "token", "application_credential"])
        );
        assert_eq!(
            KeystoneError::DelegatedToken.to_json(),
            json!({"error": {"code": 403, "message": "You are not authorized to perform the requested action: Using a delegated token to create another token is not allowed..", "title": "Forbidden"}})
        );
        assert_eq!(
            KeystoneError::policy("identity:revoke_token").to_json()["error"]["message"],
            "You are not authorized to perform the requested action: identity:revoke_token."
        );
    }
}
