//! What the shim holds as Keystone's identity backend holds it: domains,
//! projects, users, roles, role assignments (grants, on a project or on
//! the system) and application credentials. It starts as the configured
//! identities ([`IdentityConfig`]) and changes through the admin API
//! ([`super::admin`]); `/_mock/reset` puts the configured ones back, and a
//! state dump carries it whole.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::config::{AppCredentialConfig, DomainConfig, IdentityConfig, RoleConfig};

/// The role implications Keystone's bootstrap creates: each role here
/// brings the next along in tokens and effective assignments.
const IMPLIES: &[(&str, &str)] = &[
    ("admin", "manager"),
    ("manager", "member"),
    ("member", "reader"),
];

fn yes() -> bool {
    true
}

/// A project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// Id (Glance's `X-Project-Id`, image `owner`).
    pub id: String,
    /// Name, unique within its domain.
    pub name: String,
    /// The owning domain's id (also the project's `parent_id`).
    pub domain_id: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Whether tokens can be scoped to it.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Other attributes given at creation, echoed back as Keystone does.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Id (`X-User-Id`).
    pub id: String,
    /// Name, unique within its domain.
    pub name: String,
    /// The user's domain id.
    pub domain_id: String,
    /// The password; `None`: the user cannot authenticate by password.
    #[serde(default)]
    pub password: Option<String>,
    /// Whether the user can authenticate.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where a token request without scope is scoped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_project_id: Option<String>,
    /// Other attributes given at creation (`email`, `description`, ...).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// Where a grant applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantScope {
    /// On the project with this id.
    Project(String),
    /// On the system (`{"system": {"all": true}}`).
    System,
}

/// A role assignment: a user holds a role on a project or on the system.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    /// The user's id.
    pub user_id: String,
    /// The role's id.
    pub role_id: String,
    /// Where.
    pub scope: GrantScope,
}

/// The identity backend's content (also the `identities` of a state dump).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Directory {
    /// Domains.
    pub domains: Vec<DomainConfig>,
    /// Projects.
    pub projects: Vec<Project>,
    /// Roles.
    pub roles: Vec<RoleConfig>,
    /// Users.
    pub users: Vec<User>,
    /// Role assignments, in the order they were made.
    pub grants: Vec<Grant>,
    /// Application credentials.
    pub application_credentials: Vec<AppCredentialConfig>,
}

impl From<&IdentityConfig> for Directory {
    fn from(c: &IdentityConfig) -> Self {
        let mut d = Directory {
            domains: c.domains.clone(),
            projects: c
                .projects
                .iter()
                .map(|p| Project {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    domain_id: p.domain_id.clone(),
                    description: String::new(),
                    enabled: true,
                    extra: Map::new(),
                })
                .collect(),
            roles: c.roles.clone(),
            users: Vec::new(),
            grants: Vec::new(),
            application_credentials: c.application_credentials.clone(),
        };
        for u in &c.users {
            d.users.push(User {
                id: u.id.clone(),
                name: u.name.clone(),
                domain_id: u.domain_id.clone(),
                password: Some(u.password.clone()),
                enabled: true,
                default_project_id: u.default_project_id.clone(),
                extra: Map::new(),
            });
            let on_projects = u.assignments.iter().flat_map(|a| {
                a.roles
                    .iter()
                    .map(|r| (r, GrantScope::Project(a.project_id.clone())))
            });
            let on_system = u.system_roles.iter().map(|r| (r, GrantScope::System));
            for (role, scope) in on_projects.chain(on_system) {
                let role_id = d.ensure_role(role);
                d.grant(&u.id, &role_id, scope);
            }
        }
        d
    }
}

impl Directory {
    /// The id of the role named `name`, added (id = name) if unknown, as
    /// the configuration allows assigning roles it does not list.
    fn ensure_role(&mut self, name: &str) -> String {
        if let Some(r) = self.roles.iter().find(|r| r.name == name) {
            return r.id.clone();
        }
        self.roles.push(RoleConfig {
            id: name.into(),
            name: name.into(),
        });
        name.into()
    }

    /// Add a grant (no-op if it exists, as Keystone's PUT).
    pub fn grant(&mut self, user_id: &str, role_id: &str, scope: GrantScope) {
        let g = Grant {
            user_id: user_id.into(),
            role_id: role_id.into(),
            scope,
        };
        if !self.grants.contains(&g) {
            self.grants.push(g);
        }
    }

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
    pub fn project(&self, id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }

    /// The project called `name` in domain `domain_id`.
    pub fn project_by_name(&self, name: &str, domain_id: &str) -> Option<&Project> {
        self.projects
            .iter()
            .find(|p| p.name == name && p.domain_id == domain_id)
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The user called `name` in domain `domain_id`.
    pub fn user_by_name(&self, name: &str, domain_id: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.name == name && u.domain_id == domain_id)
    }

    /// The role with this id.
    pub fn role(&self, id: &str) -> Option<&RoleConfig> {
        self.roles.iter().find(|r| r.id == id)
    }

    /// A role's id from its name (the name itself when unknown).
    pub fn role_id(&self, name: &str) -> String {
        self.roles
            .iter()
            .find(|r| r.name == name)
            .map_or_else(|| name.to_owned(), |r| r.id.clone())
    }

    /// A role's name from its id (the id itself when unknown).
    pub fn role_name(&self, id: &str) -> String {
        self.role(id)
            .map_or_else(|| id.to_owned(), |r| r.name.clone())
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

    /// Role names granted directly to `user_id` on `scope`, in grant order.
    pub fn direct_roles(&self, user_id: &str, scope: &GrantScope) -> Vec<String> {
        self.grants
            .iter()
            .filter(|g| g.user_id == user_id && &g.scope == scope)
            .map(|g| self.role_name(&g.role_id))
            .collect()
    }

    /// The roles a token of `user_id` on `scope` lists: the direct ones,
    /// then those they imply (empty: none).
    pub fn effective_roles(&self, user_id: &str, scope: &GrantScope) -> Vec<String> {
        let mut roles = self.direct_roles(user_id, scope);
        let mut i = 0;
        while i < roles.len() {
            for (prior, implied) in IMPLIES {
                if roles[i] == *prior && !roles.iter().any(|r| r == implied) {
                    roles.push((*implied).to_owned());
                }
            }
            i += 1;
        }
        roles
    }

    /// The role names `role` implies directly.
    pub fn implied_by(role: &str) -> impl Iterator<Item = &'static str> + '_ {
        IMPLIES
            .iter()
            .filter(move |(prior, _)| *prior == role)
            .map(|(_, implied)| *implied)
    }

    /// The roles `user_id` holds on `project_id`, implied ones included.
    pub fn roles_on(&self, user_id: &str, project_id: &str) -> Vec<String> {
        self.effective_roles(user_id, &GrantScope::Project(project_id.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_identities_become_grants() {
        let d = Directory::from(&IdentityConfig::default());
        assert_eq!(d.roles_on("demo", "demo"), ["member", "reader"]);
        assert!(d.roles_on("demo", "alt").is_empty());
        assert_eq!(
            d.effective_roles("admin", &GrantScope::System),
            ["admin", "manager", "member", "reader"]
        );
        assert!(d.effective_roles("demo", &GrantScope::System).is_empty());
        assert_eq!(
            d.user("demo").and_then(|u| u.password.as_deref()),
            Some("demo-secret")
        );
    }

    #[test]
    fn implied_roles_follow_keystones_bootstrap() {
        let mut d = Directory::from(&IdentityConfig::default());
        d.grant("demo", "manager", GrantScope::Project("alt".into()));
        assert_eq!(d.roles_on("demo", "alt"), ["manager", "member", "reader"]);
        d.grant("demo", "manager", GrantScope::Project("alt".into()));
        assert_eq!(
            d.direct_roles("demo", &GrantScope::Project("alt".into())),
            ["manager"]
        );
    }
}
