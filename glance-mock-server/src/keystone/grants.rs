//! Role assignments: grants on projects and on the system (add, check,
//! list, revoke) and `GET /v3/role_assignments`, with Keystone 30's
//! default policies and messages. Revoking a grant revokes the tokens it
//! backed.

use super::admin::{Query, has_flag, query};
use super::directory::{Grant, GrantScope};
use super::policy::{Rule, Target, enforce};
use serde_json::Value;

use super::{Keystone, KeystoneError, render};

impl Keystone {
    /// Check that the user, the role and (for a project) the project exist.
    fn grant_parts(
        &self,
        user_id: &str,
        role_id: &str,
        scope: &GrantScope,
    ) -> Result<Grant, KeystoneError> {
        let d = self.directory();
        if let GrantScope::Project(p) = scope {
            if d.project(p).is_none() {
                return Err(KeystoneError::not_found("project", p));
            }
        }
        if d.user(user_id).is_none() {
            return Err(KeystoneError::not_found("user", user_id));
        }
        if d.role(role_id).is_none() {
            return Err(KeystoneError::not_found("role", role_id));
        }
        Ok(Grant {
            user_id: user_id.into(),
            role_id: role_id.into(),
            scope: scope.clone(),
        })
    }

    fn grant_rule(scope: &GrantScope, project: Rule, system: Rule) -> Rule {
        match scope {
            GrantScope::Project(_) => project,
            GrantScope::System => system,
        }
    }

    /// `PUT /v3/projects/{p}/users/{u}/roles/{r}` or
    /// `PUT /v3/system/users/{u}/roles/{r}` (idempotent).
    pub fn add_grant(
        &self,
        token: Option<&str>,
        user_id: &str,
        role_id: &str,
        scope: GrantScope,
    ) -> Result<(), KeystoneError> {
        let caller = self.caller(token)?;
        enforce(
            Self::grant_rule(&scope, Rule::CreateGrant, Rule::CreateSystemGrant),
            &caller,
            Target::None,
        )?;
        let g = self.grant_parts(user_id, role_id, &scope)?;
        self.directory_mut().grant(&g.user_id, &g.role_id, g.scope);
        Ok(())
    }

    fn missing_grant(g: &Grant) -> KeystoneError {
        let target = match &g.scope {
            GrantScope::Project(p) => p.as_str(),
            GrantScope::System => "system",
        };
        KeystoneError::NotFound(format!(
            "Could not find role assignment with role: {}, user or group: {}, project, domain, or system: {target}.",
            g.role_id, g.user_id
        ))
    }

    /// `GET`/`HEAD` of a grant: `Ok` (204) if it exists.
    pub fn check_grant(
        &self,
        token: Option<&str>,
        user_id: &str,
        role_id: &str,
        scope: GrantScope,
    ) -> Result<(), KeystoneError> {
        let caller = self.caller(token)?;
        enforce(
            Self::grant_rule(&scope, Rule::CheckGrant, Rule::CheckSystemGrant),
            &caller,
            Target::None,
        )?;
        let g = self.grant_parts(user_id, role_id, &scope)?;
        if self.directory().grants.contains(&g) {
            Ok(())
        } else {
            Err(Self::missing_grant(&g))
        }
    }

    /// `DELETE` of a grant; the user's tokens on that scope stop working.
    pub fn revoke_grant(
        &self,
        token: Option<&str>,
        user_id: &str,
        role_id: &str,
        scope: GrantScope,
    ) -> Result<(), KeystoneError> {
        let caller = self.caller(token)?;
        enforce(
            Self::grant_rule(&scope, Rule::RevokeGrant, Rule::RevokeSystemGrant),
            &caller,
            Target::None,
        )?;
        let g = self.grant_parts(user_id, role_id, &scope)?;
        let mut d = self.directory_mut();
        if !d.grants.contains(&g) {
            return Err(Self::missing_grant(&g));
        }
        d.grants.retain(|x| x != &g);
        self.tokens.revoke_matching(|t| {
            t.user.user.id == g.user_id
                && match &g.scope {
                    GrantScope::System => t.system,
                    GrantScope::Project(p) => {
                        t.project.as_ref().is_some_and(|tp| &tp.project.id == p)
                    }
                }
        });
        Ok(())
    }

    /// `GET /v3/projects/{p}/users/{u}/roles` or `GET /v3/system/users/{u}/roles`:
    /// the roles granted directly.
    pub fn list_grants(
        &self,
        token: Option<&str>,
        user_id: &str,
        scope: GrantScope,
        base: &str,
    ) -> Result<Vec<Value>, KeystoneError> {
        let caller = self.caller(token)?;
        enforce(
            Self::grant_rule(&scope, Rule::ListGrants, Rule::ListSystemGrants),
            &caller,
            Target::None,
        )?;
        let d = self.directory();
        if let GrantScope::Project(p) = &scope {
            if d.project(p).is_none() {
                return Err(KeystoneError::not_found("project", p));
            }
        }
        if d.user(user_id).is_none() {
            return Err(KeystoneError::not_found("user", user_id));
        }
        Ok(d.grants
            .iter()
            .filter(|g| g.user_id == user_id && g.scope == scope)
            .filter_map(|g| d.role(&g.role_id))
            .map(|r| render::role(r, base))
            .collect())
    }

    /// `GET /v3/role_assignments`, filtered by `user.id`, `role.id`,
    /// `scope.project.id`, `scope.system`; `scope.domain.id` and `group.id`
    /// match nothing (the shim has no domain grants and no groups);
    /// `effective` adds implied roles, `include_names` names everything.
    pub fn list_role_assignments(
        &self,
        token: Option<&str>,
        q: &Query,
        base: &str,
    ) -> Result<Vec<Value>, KeystoneError> {
        let caller = self.caller(token)?;
        enforce(Rule::ListRoleAssignments, &caller, Target::None)?;
        if query(q, "scope.domain.id").is_some() || query(q, "group.id").is_some() {
            return Ok(Vec::new());
        }
        let names = has_flag(q, "include_names");
        let effective = has_flag(q, "effective");
        let d = self.directory();
        let mut out = Vec::new();
        let scoped = |g: &Grant| {
            query(q, "scope.project.id").is_none_or(|p| g.scope == GrantScope::Project(p.into()))
                && (query(q, "scope.system").is_none() || g.scope == GrantScope::System)
                && query(q, "user.id").is_none_or(|u| g.user_id == u)
        };
        let mut implied_out = Vec::new();
        for g in d.grants.iter().filter(|g| scoped(g)) {
            let mut entries = vec![(g.clone(), None)];
            if effective {
                let mut i = 0;
                while i < entries.len() {
                    let prior_id = entries[i].0.role_id.clone();
                    for implied in super::Directory::implied_by(&d.role_name(&prior_id)) {
                        let implied_id = d.role_id(implied);
                        if d.role(&implied_id).is_some()
                            && !entries.iter().any(|(e, _)| e.role_id == implied_id)
                        {
                            let mut e = g.clone();
                            e.role_id = implied_id;
                            entries.push((e, Some(prior_id.clone())));
                        }
                    }
                    i += 1;
                }
            }
            for (e, prior) in entries {
                if query(q, "role.id").is_none_or(|r| e.role_id == r) {
                    let via = prior.as_deref().map(|p| (g, p));
                    let entry = render::assignment(&d, &e, via, names, base);
                    // Keystone lists the grants first, then what they imply.
                    if via.is_some() {
                        implied_out.push(entry);
                    } else {
                        out.push(entry);
                    }
                }
            }
        }
        out.extend(implied_out);
        Ok(out)
    }
}
