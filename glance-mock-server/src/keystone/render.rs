//! The admin API's entities as Keystone 30 renders them (fields probed on
//! the reference deployment), with `links` under `base`, the identity
//! service's URL (`http://HOST/identity`).

use serde_json::{Map, Value, json};

use super::config::{DomainConfig, RoleConfig};
use super::directory::{Directory, Grant, GrantScope, Project, User};

/// `{"domain": ...}`'s value.
pub fn domain(d: &DomainConfig, base: &str) -> Value {
    let description = if d.id == "default" {
        "The default domain"
    } else {
        ""
    };
    json!({
        "id": d.id,
        "name": d.name,
        "description": description,
        "enabled": true,
        "tags": [],
        "options": {},
        "links": {"self": format!("{base}/v3/domains/{}", d.id)},
    })
}

fn with_extra(extra: &Map<String, Value>, fields: Value) -> Value {
    let mut out = extra.clone();
    if let Value::Object(fields) = fields {
        out.extend(fields);
    }
    Value::Object(out)
}

/// `{"project": ...}`'s value.
pub fn project(p: &Project, base: &str) -> Value {
    with_extra(
        &p.extra,
        json!({
            "id": p.id,
            "name": p.name,
            "domain_id": p.domain_id,
            "description": p.description,
            "enabled": p.enabled,
            "parent_id": p.domain_id,
            "is_domain": false,
            "tags": [],
            "options": {},
            "links": {"self": format!("{base}/v3/projects/{}", p.id)},
        }),
    )
}

/// `{"user": ...}`'s value (never the password).
pub fn user(u: &User, base: &str) -> Value {
    let mut v = with_extra(
        &u.extra,
        json!({
            "id": u.id,
            "name": u.name,
            "domain_id": u.domain_id,
            "enabled": u.enabled,
        }),
    );
    if let Some(obj) = v.as_object_mut() {
        if let Some(p) = &u.default_project_id {
            obj.insert("default_project_id".into(), json!(p));
        }
        obj.insert("password_expires_at".into(), Value::Null);
        obj.insert("options".into(), json!({}));
        obj.insert(
            "links".into(),
            json!({"self": format!("{base}/v3/users/{}", u.id)}),
        );
    }
    v
}

/// `{"role": ...}`'s value (the bootstrap's roles are immutable).
pub fn role(r: &RoleConfig, base: &str) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "domain_id": null,
        "description": null,
        "options": {"immutable": true},
        "links": {"self": format!("{base}/v3/roles/{}", r.id)},
    })
}

/// The URL of a grant (`links.assignment`).
pub fn grant_url(g: &Grant, base: &str) -> String {
    match &g.scope {
        GrantScope::Project(p) => format!(
            "{base}/v3/projects/{p}/users/{}/roles/{}",
            g.user_id, g.role_id
        ),
        GrantScope::System => format!("{base}/v3/system/users/{}/roles/{}", g.user_id, g.role_id),
    }
}

/// One entry of `GET /v3/role_assignments`: `g`, or, with `prior`, the
/// role `g.role_id` implied by `prior` through the grant `via`.
pub fn assignment(
    d: &Directory,
    g: &Grant,
    via: Option<(&Grant, &str)>,
    names: bool,
    base: &str,
) -> Value {
    let named_domain = |id: &str| {
        let name = d.domain(id).map_or(id, |d| d.name.as_str());
        json!({"id": id, "name": name})
    };
    let mut links = json!({"assignment": grant_url(via.map_or(g, |(v, _)| v), base)});
    if let Some((_, prior)) = via {
        links["prior_role"] = json!(format!(
            "{base}/v3/prior_role/{}/implies/{prior}",
            g.role_id
        ));
    }
    let scope = match &g.scope {
        GrantScope::System => json!({"system": {"all": true}}),
        GrantScope::Project(p) => {
            let mut v = json!({"id": p});
            if let (true, Some(p)) = (names, d.project(p)) {
                v["name"] = json!(p.name);
                v["domain"] = named_domain(&p.domain_id);
            }
            json!({ "project": v })
        }
    };
    let mut user = json!({"id": g.user_id});
    let mut role = json!({"id": g.role_id});
    if names {
        if let Some(u) = d.user(&g.user_id) {
            user["name"] = json!(u.name);
            user["domain"] = named_domain(&u.domain_id);
        }
        role["name"] = json!(d.role_name(&g.role_id));
    }
    json!({"links": links, "scope": scope, "user": user, "role": role})
}

/// A list body: `{key: items, "links": {"next": null, "self": ..., "previous": null}}`.
pub fn list(key: &str, items: Vec<Value>, self_url: &str) -> Value {
    json!({
        key: items,
        "links": {"next": null, "self": self_url, "previous": null},
    })
}
