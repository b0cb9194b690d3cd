//! Keystone 30's default policies for the admin API the shim implements,
//! as their outcome for project- and system-scoped tokens (the shim grants
//! no domain scope, so the domain-manager and domain-reader branches never
//! match). `admin` is `role:admin` in any scope; a system reader is
//! `role:reader and system_scope:all`.

use super::KeystoneError;
use super::tokens::TokenData;

/// What a rule is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// Nothing in particular (lists, creations, grants).
    None,
    /// A project, by id.
    Project(&'a str),
    /// A user, by id.
    User(&'a str),
    /// A domain, by id.
    Domain(&'a str),
}

/// The rules, by their names in Keystone's policy file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `identity:get_domain`: admin, system reader, or a token whose project is in the domain.
    GetDomain,
    /// `identity:list_domains`: admin or system reader.
    ListDomains,
    /// `identity:get_project`: admin, system reader, or a token on that project.
    GetProject,
    /// `identity:list_projects`: admin or system reader.
    ListProjects,
    /// `identity:list_user_projects`: admin, system reader, or the user itself.
    ListUserProjects,
    /// `identity:create_project`: admin.
    CreateProject,
    /// `identity:delete_project`: admin.
    DeleteProject,
    /// `identity:get_user`: admin, system reader, or the user itself.
    GetUser,
    /// `identity:list_users`: admin or system reader.
    ListUsers,
    /// `identity:create_user`: admin.
    CreateUser,
    /// `identity:delete_user`: admin.
    DeleteUser,
    /// `identity:get_role`: admin or system reader.
    GetRole,
    /// `identity:list_roles`: admin or system reader.
    ListRoles,
    /// `identity:check_grant`: admin or system reader.
    CheckGrant,
    /// `identity:list_grants`: admin or system reader.
    ListGrants,
    /// `identity:create_grant`: admin.
    CreateGrant,
    /// `identity:revoke_grant`: admin.
    RevokeGrant,
    /// `identity:check_system_grant_for_user`: admin or system reader.
    CheckSystemGrant,
    /// `identity:list_system_grants_for_user`: admin or system reader.
    ListSystemGrants,
    /// `identity:create_system_grant_for_user`: admin.
    CreateSystemGrant,
    /// `identity:revoke_system_grant_for_user`: admin.
    RevokeSystemGrant,
    /// `identity:list_role_assignments`: admin or system reader.
    ListRoleAssignments,
}

impl Rule {
    /// The rule's name in Keystone's messages.
    pub fn name(self) -> &'static str {
        use Rule::*;
        match self {
            GetDomain => "identity:get_domain",
            ListDomains => "identity:list_domains",
            GetProject => "identity:get_project",
            ListProjects => "identity:list_projects",
            ListUserProjects => "identity:list_user_projects",
            CreateProject => "identity:create_project",
            DeleteProject => "identity:delete_project",
            GetUser => "identity:get_user",
            ListUsers => "identity:list_users",
            CreateUser => "identity:create_user",
            DeleteUser => "identity:delete_user",
            GetRole => "identity:get_role",
            ListRoles => "identity:list_roles",
            CheckGrant => "identity:check_grant",
            ListGrants => "identity:list_grants",
            CreateGrant => "identity:create_grant",
            RevokeGrant => "identity:revoke_grant",
            CheckSystemGrant => "identity:check_system_grant_for_user",
            ListSystemGrants => "identity:list_system_grants_for_user",
            CreateSystemGrant => "identity:create_system_grant_for_user",
            RevokeSystemGrant => "identity:revoke_system_grant_for_user",
            ListRoleAssignments => "identity:list_role_assignments",
        }
    }
}

/// Whether `caller` passes `rule` on `target`.
pub fn allows(rule: Rule, caller: &TokenData, target: Target<'_>) -> bool {
    use Rule::*;
    let admin = caller.has_role("admin");
    let system_reader = caller.system && caller.has_role("reader");
    let project = caller.project.as_ref();
    match rule {
        CreateProject | DeleteProject | CreateUser | DeleteUser | CreateGrant | RevokeGrant
        | CreateSystemGrant | RevokeSystemGrant => admin,
        ListDomains | ListProjects | ListUsers | GetRole | ListRoles | CheckGrant | ListGrants
        | CheckSystemGrant | ListSystemGrants | ListRoleAssignments => admin || system_reader,
        GetDomain => {
            admin
                || system_reader
                || matches!(target, Target::Domain(d) if project.is_some_and(|p| p.domain.id == d))
        }
        GetProject => {
            admin
                || system_reader
                || matches!(target, Target::Project(id) if project.is_some_and(|p| p.project.id == id))
        }
        GetUser | ListUserProjects => {
            admin
                || system_reader
                || matches!(target, Target::User(id) if caller.user.user.id == id)
        }
    }
}

/// [`allows`], or Keystone's 403 naming the rule.
pub fn enforce(rule: Rule, caller: &TokenData, target: Target<'_>) -> Result<(), KeystoneError> {
    if allows(rule, caller, target) {
        Ok(())
    } else {
        Err(KeystoneError::policy(rule.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystone::tokens::{Named, TokenProject, TokenUser, now};

    fn named(s: &str) -> Named {
        Named {
            id: s.into(),
            name: s.into(),
        }
    }

    fn token(user: &str, project: Option<&str>, system: bool, roles: &[&str]) -> TokenData {
        TokenData {
            methods: vec!["password".into()],
            user: TokenUser {
                user: named(user),
                domain: named("default"),
            },
            project: project.map(|p| TokenProject {
                project: named(p),
                domain: named("default"),
            }),
            system,
            roles: roles.iter().map(|r| named(r)).collect(),
            audit_ids: vec![],
            issued_at: now(),
            expires_at: now(),
            application_credential: None,
        }
    }

    #[test]
    fn personas_against_keystones_defaults() {
        let admin = token(
            "admin",
            Some("admin"),
            false,
            &["admin", "member", "reader"],
        );
        let member = token("demo", Some("demo"), false, &["member", "reader"]);
        let system_reader = token("auditor", None, true, &["reader"]);
        let system_admin = token("admin", None, true, &["admin", "reader"]);
        for rule in [
            Rule::CreateProject,
            Rule::DeleteUser,
            Rule::CreateGrant,
            Rule::CreateSystemGrant,
        ] {
            assert!(allows(rule, &admin, Target::None), "{rule:?}");
            assert!(allows(rule, &system_admin, Target::None), "{rule:?}");
            assert!(!allows(rule, &member, Target::None), "{rule:?}");
            assert!(!allows(rule, &system_reader, Target::None), "{rule:?}");
        }
        for rule in [
            Rule::ListProjects,
            Rule::ListRoles,
            Rule::ListRoleAssignments,
            Rule::CheckGrant,
        ] {
            assert!(allows(rule, &system_reader, Target::None), "{rule:?}");
            assert!(!allows(rule, &member, Target::None), "{rule:?}");
        }
        assert!(allows(Rule::GetProject, &member, Target::Project("demo")));
        assert!(!allows(Rule::GetProject, &member, Target::Project("alt")));
        assert!(allows(Rule::GetUser, &member, Target::User("demo")));
        assert!(!allows(Rule::GetUser, &member, Target::User("alt")));
        assert!(allows(Rule::GetDomain, &member, Target::Domain("default")));
        assert!(!allows(Rule::GetDomain, &member, Target::Domain("other")));
        assert_eq!(
            enforce(Rule::ListUsers, &member, Target::None),
            Err(KeystoneError::policy("identity:list_users"))
        );
    }
}
