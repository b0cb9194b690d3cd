//! What the identity shim knows: domains, projects, roles, users (with
//! their role assignments) and application credentials, as a Keystone
//! deployment would hold them. The default equals the reference deployment
//! of `shared/real-keystone` (except that ids are the names, so a token of
//! project `admin` owns what a bare token's default identity owns).

use serde::{Deserialize, Serialize};

/// The `[token] expiration` Keystone ships with: one hour.
pub const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 3600;

fn default_domain_id() -> String {
    "default".into()
}

fn default_token_lifetime() -> u64 {
    DEFAULT_TOKEN_LIFETIME_SECS
}

fn default_region() -> String {
    "RegionOne".into()
}

/// An identity domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainConfig {
    /// Domain id (Keystone's default domain has id `default`).
    pub id: String,
    /// Domain name (`Default`).
    pub name: String,
}

/// A project a token can be scoped to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// Project id: what Glance sees as `X-Project-Id` and image `owner`.
    pub id: String,
    /// Project name, unique within its domain.
    pub name: String,
    /// The owning domain's id.
    #[serde(default = "default_domain_id")]
    pub domain_id: String,
}

/// A role. Tokens list roles by id and name; Glance sees the names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    /// Role id.
    pub id: String,
    /// Role name, e.g. `member`.
    pub name: String,
}

/// Roles a user holds on one project: the effective list, implied roles
/// included (Keystone's token lists admin's implied manager, member and
/// reader too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentConfig {
    /// The project's id.
    pub project_id: String,
    /// Role names, in the order tokens list them.
    pub roles: Vec<String>,
}

/// A user who can authenticate with a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// User id (`X-User-Id`).
    pub id: String,
    /// User name, unique within its domain.
    pub name: String,
    /// The user's domain id.
    #[serde(default = "default_domain_id")]
    pub domain_id: String,
    /// The password.
    pub password: String,
    /// A request without scope is scoped here, if the user has roles on it.
    #[serde(default)]
    pub default_project_id: Option<String>,
    /// Role assignments on projects.
    #[serde(default)]
    pub assignments: Vec<AssignmentConfig>,
    /// Role names held on the system (`{"system": {"all": true}}` tokens;
    /// implied roles follow, as in Keystone).
    #[serde(default)]
    pub system_roles: Vec<String>,
}

/// An application credential: a secret that authenticates as its user on
/// one project, with a fixed set of roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppCredentialConfig {
    /// Application credential id.
    pub id: String,
    /// Name, unique per user.
    pub name: String,
    /// The secret. Like Keystone (bcrypt), only its first 72 bytes count.
    pub secret: String,
    /// The owning user's id.
    pub user_id: String,
    /// The project every token of this credential is scoped to.
    pub project_id: String,
    /// Role names the tokens carry; `None`: the user's roles on the project.
    #[serde(default)]
    pub roles: Option<Vec<String>>,
}

/// The identity section of [`crate::Config`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityConfig {
    /// Domains.
    pub domains: Vec<DomainConfig>,
    /// Projects.
    pub projects: Vec<ProjectConfig>,
    /// Roles (a name assigned but missing here gets its name as id).
    pub roles: Vec<RoleConfig>,
    /// Users.
    pub users: Vec<UserConfig>,
    /// Application credentials.
    pub application_credentials: Vec<AppCredentialConfig>,
    /// Token lifetime in seconds (Keystone's `[token] expiration`).
    #[serde(default = "default_token_lifetime")]
    pub token_lifetime_secs: u64,
    /// Region of every catalog endpoint.
    #[serde(default = "default_region")]
    pub region: String,
}

fn user(name: &str, project: &str, roles: &[&str]) -> UserConfig {
    UserConfig {
        id: name.into(),
        name: name.into(),
        domain_id: default_domain_id(),
        password: format!("{name}-secret"),
        default_project_id: (name != "admin").then(|| project.into()),
        assignments: vec![AssignmentConfig {
            project_id: project.into(),
            roles: roles.iter().map(|r| (*r).into()).collect(),
        }],
        // As Keystone's bootstrap: the admin is also system admin.
        system_roles: if name == "admin" {
            vec!["admin".into()]
        } else {
            Vec::new()
        },
    }
}

impl Default for IdentityConfig {
    fn default() -> Self {
        let project = |name: &str| ProjectConfig {
            id: name.into(),
            name: name.into(),
            domain_id: default_domain_id(),
        };
        let role = |name: &str| RoleConfig {
            id: name.into(),
            name: name.into(),
        };
        IdentityConfig {
            domains: vec![DomainConfig {
                id: default_domain_id(),
                name: "Default".into(),
            }],
            projects: ["admin", "service", "demo", "alt"].map(project).to_vec(),
            roles: ["admin", "manager", "member", "reader", "service"]
                .map(role)
                .to_vec(),
            users: vec![
                user("admin", "admin", &["admin", "manager", "member", "reader"]),
                user(
                    "glance",
                    "service",
                    &["admin", "manager", "member", "reader"],
                ),
                user("demo", "demo", &["member", "reader"]),
                user("alt", "alt", &["member", "reader"]),
            ],
            application_credentials: vec![AppCredentialConfig {
                id: "ref-appcred-id".into(),
                name: "ref-appcred".into(),
                secret: "ref-appcred-secret".into(),
                user_id: "demo".into(),
                project_id: "demo".into(),
                roles: None,
            }],
            token_lifetime_secs: DEFAULT_TOKEN_LIFETIME_SECS,
            region: default_region(),
        }
    }
}

impl IdentityConfig {
    /// The domain with this id.
    pub fn domain(&self, id: &str) -> Option<&DomainConfig> {
        self.domains.iter().find(|d| d.id == id)
    }

    /// The domain a `{"id": ...}` or `{"name": ...}` reference names.
    pub fn domain_by(&self, id: Option<&str>, name: Option<&str>) -> Option<&DomainConfig> {
        match (id, name) {
            (Some(id), _) => self.domain(id),
            (None, Some(name)) => self.domains.iter().find(|d| d.name == name),
            (None, None) => None,
        }
    }

    /// The project with this id.
    pub fn project(&self, id: &str) -> Option<&ProjectConfig> {
        self.projects.iter().find(|p| p.id == id)
    }

    /// The project called `name` in domain `domain_id`.
    pub fn project_by_name(&self, name: &str, domain_id: &str) -> Option<&ProjectConfig> {
        self.projects
            .iter()
            .find(|p| p.name == name && p.domain_id == domain_id)
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<&UserConfig> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The user called `name` in domain `domain_id`.
    pub fn user_by_name(&self, name: &str, domain_id: &str) -> Option<&UserConfig> {
        self.users
            .iter()
            .find(|u| u.name == name && u.domain_id == domain_id)
    }

    /// The application credential with this id.
    pub fn app_credential(&self, id: &str) -> Option<&AppCredentialConfig> {
        self.application_credentials.iter().find(|a| a.id == id)
    }

    /// The application credential of `user_id` called `name`.
    pub fn app_credential_by_name(
        &self,
        name: &str,
        user_id: &str,
    ) -> Option<&AppCredentialConfig> {
        self.application_credentials
            .iter()
            .find(|a| a.name == name && a.user_id == user_id)
    }

    /// A role's id from its name (the name itself when not configured).
    pub fn role_id(&self, name: &str) -> String {
        self.roles
            .iter()
            .find(|r| r.name == name)
            .map_or_else(|| name.to_owned(), |r| r.id.clone())
    }

    /// The roles `user_id` holds on `project_id` (empty: none).
    pub fn roles_on(&self, user_id: &str, project_id: &str) -> Vec<String> {
        self.user(user_id)
            .into_iter()
            .flat_map(|u| &u.assignments)
            .filter(|a| a.project_id == project_id)
            .flat_map(|a| a.roles.iter().cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_mirror_the_reference_deployment() {
        let c = IdentityConfig::default();
        assert_eq!(c.token_lifetime_secs, 3600);
        assert_eq!(c.region, "RegionOne");
        let demo = c.user_by_name("demo", "default").expect("demo");
        assert_eq!(demo.password, "demo-secret");
        assert_eq!(c.roles_on("demo", "demo"), ["member", "reader"]);
        assert_eq!(c.roles_on("alt", "alt"), ["member", "reader"]);
        assert!(c.roles_on("demo", "alt").is_empty());
        assert!(c.roles_on("admin", "admin").contains(&"admin".to_owned()));
        let ac = c.app_credential_by_name("ref-appcred", "demo").expect("ac");
        assert_eq!(ac.project_id, "demo");
        assert_eq!(
            c.domain_by(None, Some("Default")).map(|d| d.id.as_str()),
            Some("default")
        );
    }

    #[test]
    fn a_partial_section_keeps_the_other_defaults() {
        let c: IdentityConfig =
            serde_json::from_str(r#"{"token_lifetime_secs": 5}"#).expect("parses");
        assert_eq!(c.token_lifetime_secs, 5);
        assert_eq!(c.users.len(), 4);
        let c: IdentityConfig =
            serde_json::from_str(r#"{"users": [{"id": "u", "name": "u", "password": "p"}]}"#)
                .expect("parses");
        assert_eq!(c.users[0].domain_id, "default");
        assert_eq!(c.region, "RegionOne");
    }
}
