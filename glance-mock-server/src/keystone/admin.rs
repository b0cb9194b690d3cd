//! The part of Keystone v3's identity API Tempest uses with dynamic
//! credentials: domains (get, list), projects and users (create, get, list,
//! delete), roles (get, list); grants and role assignments are in
//! [`super::grants`]. Each call
//! authenticates the caller's token (401), checks Keystone 30's default
//! policy ([`super::policy`], 403), then validates and acts, with Keystone's
//! messages. Deleting a user, a project or a grant revokes the tokens it
//! backed. Free of HTTP: bodies come in as JSON values, entities go out
//! rendered under `base`, the identity service's URL.

use serde_json::{Map, Value};

use super::directory::{GrantScope, Project, User};
use super::policy::{Rule, Target, enforce};
use super::tokens::TokenData;
use super::{Keystone, KeystoneError, Lookup, render};
use crate::domain::python::{Py, repr};

/// A list call's query, as `(key, value)` pairs in order.
pub type Query = [(String, String)];

pub(super) fn query<'q>(q: &'q Query, key: &str) -> Option<&'q str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

pub(super) fn has_flag(q: &Query, key: &str) -> bool {
    q.iter()
        .any(|(k, v)| k == key && !matches!(v.to_ascii_lowercase().as_str(), "0" | "false"))
}

fn invalid(field: &str, value: &Value, why: &str) -> KeystoneError {
    let shown = match value {
        Value::String(s) => s.clone(),
        other => repr(&Py::from(other)),
    };
    KeystoneError::BadRequest(format!(
        "Invalid input for field/attribute {field}. Value: {shown}. {why}"
    ))
}

/// oslo's boolean strings Keystone's schema accepts for `enabled`.
const BOOLEAN_STRINGS: &[(&str, bool)] = &[
    ("True", true),
    ("TRUE", true),
    ("true", true),
    ("False", false),
    ("FALSE", false),
    ("false", false),
    ("", false),
    ("1", true),
    ("0", false),
    ("y", true),
    ("Y", true),
    ("n", false),
    ("N", false),
    ("on", true),
    ("ON", true),
    ("off", false),
    ("OFF", false),
    ("yes", true),
    ("no", false),
];

fn enabled(v: Option<&Value>) -> Result<bool, KeystoneError> {
    match v {
        None => Ok(true),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) => BOOLEAN_STRINGS
            .iter()
            .find(|(t, _)| t == s)
            .map(|(_, b)| *b)
            .ok_or_else(|| {
                let listed: Vec<String> = BOOLEAN_STRINGS
                    .iter()
                    .map(|(t, _)| format!("'{t}'"))
                    .collect();
                invalid(
                    "enabled",
                    &Value::String(s.clone()),
                    &format!(
                        "'{s}' is not one of [True, {}, False, {}]",
                        listed[..3].join(", "),
                        listed[3..].join(", ")
                    ),
                )
            }),
        Some(other) => Err(invalid(
            "enabled",
            other,
            &format!("{} is not of type 'boolean'", repr(&Py::from(other))),
        )),
    }
}

/// The entity object of a create body (`{"project": {...}}`), with a
/// non-empty string `name`.
fn entity<'b>(
    body: &'b Value,
    key: &str,
) -> Result<(&'b Map<String, Value>, String), KeystoneError> {
    let Some(top) = body.as_object() else {
        return Err(KeystoneError::BadRequest(format!(
            "'{key}' is a required property"
        )));
    };
    if let Some(other) = top.keys().find(|k| *k != key) {
        if key == "project" {
            return Err(KeystoneError::BadRequest(format!(
                "Additional properties are not allowed ('{other}' was unexpected)"
            )));
        }
    }
    let Some(v) = top.get(key) else {
        return Err(KeystoneError::BadRequest(format!(
            "'{key}' is a required property"
        )));
    };
    let Some(obj) = v.as_object() else {
        return Err(invalid(
            key,
            v,
            &format!("{} is not of type 'object'", repr(&Py::from(v))),
        ));
    };
    let name = match obj.get("name") {
        None => return Err(invalid(key, v, "'name' is a required property")),
        Some(Value::String(s)) if s.is_empty() => {
            return Err(invalid(
                "name",
                &Value::String(String::new()),
                "'' should be non-empty",
            ));
        }
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(invalid(
                "name",
                other,
                &format!("{} is not of type 'string'", repr(&Py::from(other))),
            ));
        }
    };
    Ok((obj, name))
}

fn optional_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, KeystoneError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(invalid(
            key,
            other,
            &format!("{} is not of type 'string', 'null'", repr(&Py::from(other))),
        )),
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn extra(obj: &Map<String, Value>, known: &[&str]) -> Map<String, Value> {
    obj.iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

impl Keystone {
    /// The caller's token if valid, else Keystone's 401.
    pub fn caller(&self, token: Option<&str>) -> Result<TokenData, KeystoneError> {
        match token.map(|t| self.lookup(t)) {
            Some(Lookup::Valid(t)) => Ok(t.data),
            _ => Err(KeystoneError::unauthorized()),
        }
    }

    /// The domain new projects and users go to without `domain_id`: the
    /// caller's project's, else `default`.
    fn caller_domain(caller: &TokenData) -> String {
        caller
            .project
            .as_ref()
            .map_or_else(|| "default".into(), |p| p.domain.id.clone())
    }

    /// `GET /v3/domains/{id}`.
    pub fn get_domain(
        &self,
        token: Option<&str>,
        id: &str,
        base: &str,
    ) -> Result<Value, KeystoneError> {
        let caller = self.caller(token)?;
        enforce(Rule::GetDomain, &caller, Target::Domain(id))?;
        let d = self.directory();
        let domain = d
            .domain(id)
            .ok_or_else(|| KeystoneError::not_found("domain", id))?;
        Ok(render::domain(domain, base))
    }

    /// `GET /v3/domains` (filters `name`, `enabled`).
    pub fn list_domains(
        &self,
        token: Option<&str>,
        q: &Query,
        base: &str,
    ) -> Result<Vec<Value>, KeystoneError> {
        let caller = self.caller(token)?;
        enforce(Rule::ListDomains, &caller, Target::None)?;
        let d = self.directory();
        Ok(d.domains
            .iter()
            .filter(|x| query(q, "name").is_none_or(|n| x.name == n))
            .map(|x| render::domain(x, base))
            .collect())
    }

    /// `POST /v3/projects`.
    pub fn create_project(
        &self,
        token: Option<&str>,
        body: &Value,
        base: &str,
    ) -> Result<Value, KeystoneError> {
        let caller = self.caller(token)?;
        enforce(Rule::CreateProject, &caller, Target::None)?;
        let (obj, name) = entity(body, "project")?;
        let enabled = enabled(obj.get("enabled"))?;
        let description = optional_string(obj, "description")?.unwrap_or_default();
        let domain_id =
            optional_string(obj, "domain_id")?.unwrap_or_else(|| Self::caller_domain(&caller));
        let mut d = self.directory_mut();
        if d.domain(&domain_id).is_none() {
            return Err(KeystoneError::BadRequest(format!(
                "Could not find domain: {domain_id}."
            )));
        }
        let id = new_id();
        if d.project_by_name(&name, &domain_id).is_some() {
            return Err(KeystoneError::Conflict(format!(
                "Conflict occurred attempting to store project - it is not permitted to have two projects with either the same name or same id in the same domain: name is {name}, project id {id}."
            )));
        }
        let project = Project {
            id,
            name,
            domain_id,
            description,
            enabled,
            extra: extra(
                obj,
                &[
                    "id",
                    "name",
                    "domain_id",
                    "description",
                    "enabled",
                    "parent_id",
                    "is_domain",
                    "tags",
                    "options",
                ],
            ),
        };
        let out = render::project(&project, base);
        d.projects.push(project);
        Ok(out)
    }

    /// `GET /v3/projects/{id}`.
    pub fn get_project(
        &self,
        token: Option<&str>,
        id: &str,
        base: &str,
    ) -> Result<Value, KeystoneError> {
        let caller = self.caller(token)?;
        enforce(Rule::GetProject, &caller, Target::Project(id))?;
        let d = self.directory();
        let p = d
            .project(id)
            .ok_or_else(|| KeystoneError::not_found("project", id))?;
        Ok(render::project(p, base))
    }

    /// `GET /v3/projects` (filters `name`, `domain_id`, `enabled`).
    pub fn list_projects(
        &self,
        token: Option<&str>,
        q: &Query,
        base: &str,
    ) -> Result<Vec<Value>, KeystoneError> {
        let caller = self.caller(token)?;
        enforce(Rule::ListProjects, &caller, Target::None)?;
        let enabled = query(q, "enabled")
            .map(|v| enabled(Some(&Value::String(v.into()))))
            .transpose()?;
        let d = self.directory();
        Ok(d.projects
            .iter()
            .filter(|p| query(q, "name").is_none_or(|n| p.name == n))
            .filter(|p| query(q, "domain_id").is_none_or(|n| p.domain_id == n))
            .filter(|p| enabled.is_none_or(|e| p.enabled == e))
            .map(|p| render::project(p, base))
            .collect())
    }

    /// `GET /v3/users/{id}/projects`: the projects the user holds a role on.
    pub fn list_user_projects(
        &self,
        token: Option<&str>,
        user_id: &str,
        base: &str,
    ) -> Result<Vec<Value>, KeystoneError> {
        let caller = self.caller(token)?;
        enforce(Rule::ListUserProjects, &caller, Target::User(user_id))?;
        let d = self.directory();
        if d.user(user_id).is_none() {
            return Err(KeystoneError::not_found("user", user_id));
        }
        Ok(d.projects
            .iter()
            .filter(|p| !d.roles_on(user_id, &p.id).is_empty())
            .map(|p| render::project(p, base))
            .collect())
    }

    /// `DELETE /v3/projects/{id}`: with its grants; its tokens stop working.
    pub fn delete_project(&self, token: Option<&str>, id: &str) -> Result<(), KeystoneError> {
        let caller = self.caller(token)?;
        enforce(Rule::DeleteProject, &caller, Target::Project(id))?;
        let mut d = self.directory_mut();
        if d.project(id).is_none() {
            return Err(KeystoneError::not_found("project", id));
        }
        d.projects.retain(|p| p.id != id);
        d.grants
            .retain(|g| g.scope != GrantScope::Project(id.into()));
        d.application_credentials.retain(|a| a.project_id != id);
        self.tokens
            .revoke_matching(|t| t.project.as_ref().is_some_and(|p| p.project.id == id));
        Ok(())
    }

    /// `POST /v3/users`.
    pub fn create_user(
        &self,
        token: Option<&str>,
        body: &Value,
        base: &str,
    ) -> Result<Value, KeystoneError> {
        let caller = self.caller(token)?;
        enforce(Rule::CreateUser, &caller, Target::None)?;
        let (obj, name) = entity(body, "user")?;
        let enabled = enabled(obj.get("enabled"))?;
        let password = optional_string(obj, "password")?;
        let default_project_id = optional_string(obj, "default_project_id")?;
        let domain_id =
            optional_string(obj, "domain_id")?.unwrap_or_else(|| Self::caller_domain(&caller));
        let mut d = self.directory_mut();
        if d.domain(&domain_id).is_none() {
            return Err(KeystoneError::not_found("domain", &domain_id));
        }
        if d.user_by_name(&name, &domain_id).is_some() {
            return Err(KeystoneError::Conflict(format!(
                "Conflict occurred attempting to store user - Duplicate entry found with name {name} at domain ID {domain_id}."
            )));
        }
        let user = User {
            id: new_id(),
            name,
            domain_id,
            password,
            enabled,
            default_project_id,
            extra: extra(
                obj,
                &[
                    "id",
                    "name",
                    "domain_id",
                    "password",
                    "enabled",
                    "default_project_id",
                    "options",
                ],
            ),
        };
        let out = render::user(&user, base);
        d.users.push(user);
        Ok(out)
    }

    /// `GET /v3/users/{id}`.
    pub fn get_user(
        &self,
        token: Option<&str>,
        id: &str,
        base: &str,
    ) -> Result<Value, KeystoneError> {
        let caller = self.caller(token)?;
        enforce(Rule::GetUser, &caller, Target::User(id))?;
        let d = self.directory();
        let u = d
            .user(id)
            .ok_or_else(|| KeystoneError::not_found("user", id))?;
        Ok(render::user(u, base))
    }

    /// `GET /v3/users` (filters `name`, `domain_id`, `enabled`).
    pub fn list_users(
        &self,
        token: Option<&str>,
        q: &Query,
        base: &str,
    ) -> Result<Vec<Value>, KeystoneError> {
        let caller = self.caller(token)?;
        enforce(Rule::ListUsers, &caller, Target::None)?;
        let enabled = query(q, "enabled")
            .map(|v| enabled(Some(&Value::String(v.into()))))
            .transpose()?;
        let d = self.directory();
        Ok(d.users
            .iter()
            .filter(|u| query(q, "name").is_none_or(|n| u.name == n))
            .filter(|u| query(q, "domain_id").is_none_or(|n| u.domain_id == n))
            .filter(|u| enabled.is_none_or(|e| u.enabled == e))
            .map(|u| render::user(u, base))
            .collect())
    }

    /// `DELETE /v3/users/{id}`: with its grants and application
    /// credentials; its tokens stop working.
    pub fn delete_user(&self, token: Option<&str>, id: &str) -> Result<(), KeystoneError> {
        let caller = self.caller(token)?;
        enforce(Rule::DeleteUser, &caller, Target::User(id))?;
        let mut d = self.directory_mut();
        if d.user(id).is_none() {
            return Err(KeystoneError::not_found("user", id));
        }
        d.users.retain(|u| u.id != id);
        d.grants.retain(|g| g.user_id != id);
        d.application_credentials.retain(|a| a.user_id != id);
        self.tokens.revoke_matching(|t| t.user.user.id == id);
        Ok(())
    }

    /// `GET /v3/roles/{id}`.
    pub fn get_role(
        &self,
        token: Option<&str>,
        id: &str,
        base: &str,
    ) -> Result<Value, KeystoneError> {
        let caller = self.caller(token)?;
        enforce(Rule::GetRole, &caller, Target::None)?;
        let d = self.directory();
        let r = d
            .role(id)
            .ok_or_else(|| KeystoneError::not_found("role", id))?;
        Ok(render::role(r, base))
    }

    /// `GET /v3/roles` (filter `name`).
    pub fn list_roles(
        &self,
        token: Option<&str>,
        q: &Query,
        base: &str,
    ) -> Result<Vec<Value>, KeystoneError> {
        let caller = self.caller(token)?;
        enforce(Rule::ListRoles, &caller, Target::None)?;
        let d = self.directory();
        Ok(d.roles
            .iter()
            .filter(|r| query(q, "name").is_none_or(|n| r.name == n))
            .map(|r| render::role(r, base))
            .collect())
    }
}
