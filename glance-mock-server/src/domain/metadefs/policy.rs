//! Who may do what with metadata definitions: Glance's default metadef
//! policies (`glance/policies/metadef.py`), the DB layer's namespace
//! visibility, and `MetadefAPIPolicy`'s way of hiding what a caller may not
//! read.
//!
//! * Reads (`get_metadef_*`, `list_metadef_resource_types`): admin, or the
//!   reader role on the namespace's owner project or a public namespace.
//!   `get_metadef_namespaces` (the list): admin, or the reader role.
//! * Every change: admin only.
//!
//! A refused rule answers 403 with the rule's name, unless the caller could
//! not read the namespace either (`get_metadef_namespace`): then webob's
//! bare 404. A check without a namespace (creating one, listing) targets the
//! caller's own project, so a caller without the reader role gets the 404.

use super::records::Namespace;
use crate::domain::policy::NOT_FOUND_DEFAULT;
use crate::domain::{Fault, Identity};

/// The metadef policy rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `get_metadef_namespace`
    GetNamespace,
    /// `get_metadef_namespaces`
    GetNamespaces,
    /// `modify_metadef_namespace`
    ModifyNamespace,
    /// `add_metadef_namespace`
    AddNamespace,
    /// `delete_metadef_namespace`
    DeleteNamespace,
    /// `get_metadef_object`
    GetObject,
    /// `get_metadef_objects`
    GetObjects,
    /// `modify_metadef_object`
    ModifyObject,
    /// `add_metadef_object`
    AddObject,
    /// `delete_metadef_object`
    DeleteObject,
    /// `list_metadef_resource_types`
    ListResourceTypes,
    /// `get_metadef_resource_type`
    GetResourceType,
    /// `add_metadef_resource_type_association`
    AddResourceTypeAssociation,
    /// `remove_metadef_resource_type_association`
    RemoveResourceTypeAssociation,
    /// `get_metadef_property`
    GetProperty,
    /// `get_metadef_properties`
    GetProperties,
    /// `modify_metadef_property`
    ModifyProperty,
    /// `add_metadef_property`
    AddProperty,
    /// `remove_metadef_property`
    RemoveProperty,
    /// `get_metadef_tag`
    GetTag,
    /// `get_metadef_tags`
    GetTags,
    /// `modify_metadef_tag`
    ModifyTag,
    /// `add_metadef_tag`
    AddTag,
    /// `add_metadef_tags`
    AddTags,
    /// `delete_metadef_tag`
    DeleteTag,
    /// `delete_metadef_tags`
    DeleteTags,
}

impl Rule {
    /// The policy's name, as Glance's 403 prints it.
    pub fn name(self) -> &'static str {
        use Rule::*;
        match self {
            GetNamespace => "get_metadef_namespace",
            GetNamespaces => "get_metadef_namespaces",
            ModifyNamespace => "modify_metadef_namespace",
            AddNamespace => "add_metadef_namespace",
            DeleteNamespace => "delete_metadef_namespace",
            GetObject => "get_metadef_object",
            GetObjects => "get_metadef_objects",
            ModifyObject => "modify_metadef_object",
            AddObject => "add_metadef_object",
            DeleteObject => "delete_metadef_object",
            ListResourceTypes => "list_metadef_resource_types",
            GetResourceType => "get_metadef_resource_type",
            AddResourceTypeAssociation => "add_metadef_resource_type_association",
            RemoveResourceTypeAssociation => "remove_metadef_resource_type_association",
            GetProperty => "get_metadef_property",
            GetProperties => "get_metadef_properties",
            ModifyProperty => "modify_metadef_property",
            AddProperty => "add_metadef_property",
            RemoveProperty => "remove_metadef_property",
            GetTag => "get_metadef_tag",
            GetTags => "get_metadef_tags",
            ModifyTag => "modify_metadef_tag",
            AddTag => "add_metadef_tag",
            AddTags => "add_metadef_tags",
            DeleteTag => "delete_metadef_tag",
            DeleteTags => "delete_metadef_tags",
        }
    }

    fn is_read(self) -> bool {
        use Rule::*;
        matches!(
            self,
            GetNamespace
                | GetObject
                | GetObjects
                | ListResourceTypes
                | GetResourceType
                | GetProperty
                | GetProperties
                | GetTag
                | GetTags
        )
    }
}

/// What a rule is checked against: the namespace's owner and visibility,
/// or (without a namespace) the caller's own project and no visibility.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    project_id: Option<&'a str>,
    visibility: Option<&'a str>,
}

impl<'a> Target<'a> {
    /// `MetadefAPIPolicy(context)`: no resource.
    pub fn caller(who: &'a Identity) -> Self {
        Target {
            project_id: who.project_id.as_deref(),
            visibility: None,
        }
    }

    /// `MetadefAPIPolicy(context, md_resource=namespace)`.
    pub fn namespace(ns: &'a Namespace) -> Self {
        Target {
            project_id: ns.owner.as_deref(),
            visibility: Some(ns.visibility.as_str()),
        }
    }
}

/// Whether the policy `rule` lets `who` act on `target`.
pub fn allows(who: &Identity, rule: Rule, target: Target<'_>) -> bool {
    if who.is_admin() {
        return true;
    }
    let reader = who.has_role("reader");
    let own = who.project_id.as_deref() == target.project_id;
    if rule == Rule::GetNamespaces {
        return reader && own;
    }
    rule.is_read() && reader && (own || target.visibility == Some("public"))
}

/// `MetadefAPIPolicy._enforce`: 403 with the rule's name, or webob's bare
/// 404 when the caller may not read the namespace at all.
pub fn enforce(who: &Identity, rule: Rule, target: Target<'_>) -> Result<(), Fault> {
    if allows(who, rule, target) {
        Ok(())
    } else if rule == Rule::GetNamespace || !allows(who, Rule::GetNamespace, target) {
        Err(Fault::NotFound(NOT_FOUND_DEFAULT.into()))
    } else {
        Err(Fault::Forbidden(format!(
            "You are not authorized to complete {} action.",
            rule.name()
        )))
    }
}

/// `_is_namespace_visible`: the DB layer shows admins everything, others
/// public namespaces and those of their project.
pub fn can_see(who: &Identity, ns: &Namespace) -> bool {
    who.is_admin()
        || ns.owner.is_none()
        || ns.visibility == "public"
        || (who.project_id.is_some() && who.project_id == ns.owner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::now;

    fn who(project: &str, roles: &[&str]) -> Identity {
        Identity {
            project_id: Some(project.into()),
            user_id: None,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn ns(owner: &str, visibility: &str) -> Namespace {
        Namespace::new(1, "N".into(), Some(owner.into()), visibility.into(), now())
    }

    #[test]
    fn readers_read_their_own_and_public_namespaces() {
        let alice = who("alice", &["member", "reader"]);
        let public = ns("admin", "public");
        let private = ns("admin", "private");
        let mine = ns("alice", "private");
        assert!(allows(&alice, Rule::GetObjects, Target::namespace(&public)));
        assert!(allows(&alice, Rule::GetTag, Target::namespace(&mine)));
        assert!(!allows(&alice, Rule::GetTag, Target::namespace(&private)));
        assert!(!can_see(&alice, &private));
        assert!(can_see(&alice, &mine));
        assert!(can_see(&who("x", &["admin"]), &private));
    }

    #[test]
    fn only_admins_change_anything() {
        let alice = who("alice", &["member", "reader"]);
        let mine = ns("alice", "private");
        for rule in [
            Rule::AddNamespace,
            Rule::ModifyNamespace,
            Rule::DeleteNamespace,
            Rule::AddObject,
            Rule::AddTags,
            Rule::RemoveProperty,
            Rule::AddResourceTypeAssociation,
        ] {
            assert!(!allows(&alice, rule, Target::namespace(&mine)), "{rule:?}");
            assert!(allows(
                &who("x", &["admin"]),
                rule,
                Target::namespace(&mine)
            ));
        }
    }

    #[test]
    fn refusals_are_403_for_readers_and_404_otherwise() {
        let public = ns("admin", "public");
        assert_eq!(
            enforce(
                &who("alice", &["member", "reader"]),
                Rule::DeleteNamespace,
                Target::namespace(&public)
            ),
            Err(Fault::Forbidden(
                "You are not authorized to complete delete_metadef_namespace action.".into()
            ))
        );
        // Without the reader role nothing is visible, even a public namespace.
        let member = who("alice", &["member"]);
        assert_eq!(
            enforce(&member, Rule::GetObjects, Target::namespace(&public)),
            Err(Fault::NotFound(NOT_FOUND_DEFAULT.into()))
        );
        // Creating targets the caller's project: readers get the 403.
        let reader = who("alice", &["reader"]);
        assert!(matches!(
            enforce(&reader, Rule::AddNamespace, Target::caller(&reader)),
            Err(Fault::Forbidden(_))
        ));
        assert_eq!(
            enforce(&member, Rule::GetNamespaces, Target::caller(&member)),
            Err(Fault::NotFound(NOT_FOUND_DEFAULT.into()))
        );
    }
}
