//! Who is calling, as keystone-middleware would have told Glance.

/// The caller's identity: project, user and (lower-cased) roles.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    /// The project the request is scoped to (`X-Project-Id`); owns what it creates.
    pub project_id: Option<String>,
    /// The user (`X-User-Id`).
    pub user_id: Option<String>,
    /// Roles (`X-Roles`), lower-cased.
    pub roles: Vec<String>,
}

impl Identity {
    /// The identity a bare token acts as: user `admin` in project `admin`
    /// with roles admin, member and reader.
    pub fn default_admin() -> Self {
        Identity {
            project_id: Some("admin".into()),
            user_id: Some("admin".into()),
            roles: vec!["admin".into(), "member".into(), "reader".into()],
        }
    }

    /// Whether the caller holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Glance's `context_is_admin`: the admin role, in any project.
    pub fn is_admin(&self) -> bool {
        self.has_role("admin")
    }
}
