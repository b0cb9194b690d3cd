//! Keystone v3 authentication: who the client is, and where the Image
//! service is.
//!
//! Give [`ClientBuilder`](crate::ClientBuilder) an auth URL and one of the
//! [`Credentials`], and the client
//!
//! * finds Keystone's `/v3` API below an unversioned auth URL (Keystone's
//!   root answers `300 Multiple Choices` with its versions; a URL ending in
//!   `/v3` is used as it is),
//! * asks for a token (`POST /v3/auth/tokens`) on the first request,
//! * takes the Image service endpoint from the token's service catalog
//!   (service type `image`, the [`Interface`] asked for, the region if one
//!   is given), unless an explicit endpoint was set,
//! * asks for a new token when the current one is about to expire (within
//!   two minutes of `expires_at`, or half its lifetime if that is shorter;
//!   measured on the local clock from Keystone's own `issued_at`, so clock
//!   skew does not matter), and when the Image service answers `401`: the
//!   request is then sent once more with the new token, never more.
//!
//! ```no_run
//! use glance_client::Client;
//! use glance_client::auth::{Domain, Interface, Project, User};
//!
//! # async fn demo() -> glance_client::Result<()> {
//! let client = Client::builder()
//!     .auth_url("https://keystone.example.org:5000")
//!     .password_auth(User::name("demo", Domain::name("Default")), "demo-secret")
//!     .project(Project::name("demo", Domain::name("Default")))
//!     .interface(Interface::Public)
//!     .region("RegionOne")
//!     .build()?;
//! client.authenticate().await?; // optional: fail early on wrong credentials
//! println!("images at {:?}", client.endpoint().map(|u| u.as_str()));
//! # Ok(()) }
//! ```
//!
//! Secrets (passwords, application credential secrets, tokens) are held in
//! [`Secret`], whose `Debug` shows `<redacted>`; they are never logged.

mod catalog;
mod keystone;
mod session;

use std::fmt;
use std::str::FromStr;

pub use catalog::{Catalog, CatalogEndpoint, CatalogService};
pub use keystone::TokenInfo;
pub(crate) use session::KeystoneSession;

use crate::error::Error;

/// A credential kept out of `Debug` output and logs.
///
/// ```
/// let s = glance_client::auth::Secret::from("hunter2");
/// assert_eq!(format!("{s:?}"), "<redacted>");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for sending it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

impl From<&String> for Secret {
    fn from(s: &String) -> Self {
        Secret(s.clone())
    }
}

/// An identity domain, by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Domain {
    /// By id, e.g. `default`.
    Id(String),
    /// By name, e.g. `Default`.
    Name(String),
}

impl Domain {
    /// A domain by id.
    pub fn id(id: impl Into<String>) -> Self {
        Domain::Id(id.into())
    }

    /// A domain by name.
    pub fn name(name: impl Into<String>) -> Self {
        Domain::Name(name.into())
    }
}

/// A user, by id or by name within a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum User {
    /// By id (unique across domains).
    Id(String),
    /// By name, unique within its domain.
    Name {
        /// The user name.
        name: String,
        /// The user's domain.
        domain: Domain,
    },
}

impl User {
    /// A user by id.
    pub fn id(id: impl Into<String>) -> Self {
        User::Id(id.into())
    }

    /// A user by name in `domain`.
    pub fn name(name: impl Into<String>, domain: Domain) -> Self {
        User::Name {
            name: name.into(),
            domain,
        }
    }
}

/// A project (the scope of a token), by id or by name within a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Project {
    /// By id.
    Id(String),
    /// By name, unique within its domain.
    Name {
        /// The project name.
        name: String,
        /// The project's domain.
        domain: Domain,
    },
}

impl Project {
    /// A project by id.
    pub fn id(id: impl Into<String>) -> Self {
        Project::Id(id.into())
    }

    /// A project by name in `domain`.
    pub fn name(name: impl Into<String>, domain: Domain) -> Self {
        Project::Name {
            name: name.into(),
            domain,
        }
    }
}

/// What a Keystone token is scoped to: a project (what Glance's calls
/// need), a domain, or the whole deployment (`system`, for the system
/// administrators of policies that ask for it).
///
/// ```
/// use glance_client::auth::{Domain, Project, Scope, User};
/// use glance_client::Client;
/// let admin = Client::builder()
///     .auth_url("http://keystone:5000")
///     .password_auth(User::name("admin", Domain::name("Default")), "secret")
///     .system_scope();
/// let domain_admin = Client::builder()
///     .auth_url("http://keystone:5000")
///     .password_auth(User::name("dadmin", Domain::name("Default")), "secret")
///     .domain_scope(Domain::name("Default"));
/// let member = Client::builder().scope(Scope::from(Project::id("p1")));
/// # let _ = (admin, domain_admin, member);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scope {
    /// A project (`{"project": …}`).
    Project(Project),
    /// A domain (`{"domain": …}`).
    Domain(Domain),
    /// The whole deployment (`{"system": {"all": true}}`).
    System,
}

impl From<Project> for Scope {
    fn from(project: Project) -> Self {
        Scope::Project(project)
    }
}

/// An application credential, by id or by name of its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppCredential {
    /// By id.
    Id(String),
    /// By name, unique per user.
    Name {
        /// The credential's name.
        name: String,
        /// Its owner.
        user: User,
    },
}

impl AppCredential {
    /// An application credential by id.
    pub fn id(id: impl Into<String>) -> Self {
        AppCredential::Id(id.into())
    }

    /// An application credential by name, of `user`.
    pub fn name(name: impl Into<String>, user: User) -> Self {
        AppCredential::Name {
            name: name.into(),
            user,
        }
    }
}

/// How the client proves who it is to Keystone.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// The `password` method.
    Password {
        /// Who.
        user: User,
        /// The password.
        password: Secret,
    },
    /// The `application_credential` method (the scope is the credential's
    /// own project).
    ApplicationCredential {
        /// Which credential.
        credential: AppCredential,
        /// Its secret.
        secret: Secret,
    },
    /// The `token` method: an existing token, exchanged for a (re)scoped
    /// one with a catalog.
    Token(Secret),
}

impl Credentials {
    /// The Keystone method name.
    pub fn method(&self) -> &'static str {
        match self {
            Credentials::Password { .. } => "password",
            Credentials::ApplicationCredential { .. } => "application_credential",
            Credentials::Token(_) => "token",
        }
    }
}

/// Which of a service's catalog endpoints to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interface {
    /// `public` (the default).
    #[default]
    Public,
    /// `internal`.
    Internal,
    /// `admin`.
    Admin,
}

impl Interface {
    /// As the catalog spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Interface::Public => "public",
            Interface::Internal => "internal",
            Interface::Admin => "admin",
        }
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Interface {
    type Err = Error;

    /// `public`, `internal`, `admin`, and the v2-era `publicURL`,
    /// `internalURL`, `adminURL` (`--os-endpoint-type`), in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        match lower.strip_suffix("url").unwrap_or(&lower) {
            "public" => Ok(Interface::Public),
            "internal" => Ok(Interface::Internal),
            "admin" => Ok(Interface::Admin),
            _ => Err(Error::Config(format!(
                "invalid interface {s:?}: expected public, internal or admin"
            ))),
        }
    }
}

/// Everything Keystone authentication needs (held by the builder).
#[derive(Debug, Clone, Default)]
pub(crate) struct AuthOptions {
    pub auth_url: Option<String>,
    pub credentials: Option<Credentials>,
    pub scope: Option<Scope>,
    pub interface: Interface,
    pub region: Option<String>,
    pub service_type: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interfaces_parse_in_every_spelling() {
        for (s, i) in [
            ("public", Interface::Public),
            ("publicURL", Interface::Public),
            ("Internal", Interface::Internal),
            ("internalURL", Interface::Internal),
            ("adminURL", Interface::Admin),
        ] {
            assert_eq!(s.parse::<Interface>().expect("parses"), i, "{s}");
        }
        assert!("private".parse::<Interface>().is_err());
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let c = Credentials::Password {
            user: User::name("demo", Domain::name("Default")),
            password: Secret::from("demo-secret"),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("demo-secret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        let ac = Credentials::ApplicationCredential {
            credential: AppCredential::id("x"),
            secret: "s3cr3t".into(),
        };
        assert!(!format!("{ac:?}").contains("s3cr3t"));
        assert!(!format!("{:?}", Credentials::Token("gAAAAAB".into())).contains("gAAAAAB"));
    }
}
