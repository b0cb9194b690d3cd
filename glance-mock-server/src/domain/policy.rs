//! Glance's default policies (`enforce_new_defaults`), as predicates, and
//! the way its API layer turns a refusal into 403 or 404.
//!
//! Two checks are at work on every image route, in this order:
//!
//! 1. the DB layer's visibility ([`can_see`], `glance.db.utils.is_image_visible`):
//!    an image the caller cannot see does not exist for it (404 with the
//!    route's own message);
//! 2. the policy rule of the route ([`allows`] a [`Rule`]), evaluated with the
//!    image as target. `ImageAPIPolicy` answers a refusal with 403 and the
//!    policy's message, unless the caller also fails `get_image`: then the
//!    image is hidden with webob's bare 404 ([`enforce`]).

use super::{Fault, Identity, Image, Visibility};

/// webob's default 404 text, what `ImageAPIPolicy` answers when it hides an image.
pub const NOT_FOUND_DEFAULT: &str = "The resource could not be found.";

/// The policy rules checked against an image, by their names in Glance's
/// policy file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `get_image`: admin, or reader of the owner project, or reader when the
    /// image is not private.
    GetImage,
    /// `modify_image`: admin, or member of the owner project.
    ModifyImage,
    /// `delete_image`: admin, or member of the owner project.
    DeleteImage,
    /// `upload_image`: admin, or member of the owner project.
    UploadImage,
    /// `download_image`: admin, or member role when the image is owned or not private.
    DownloadImage,
    /// `deactivate`: admin, or member of the owner project.
    Deactivate,
    /// `reactivate`: admin, or member of the owner project.
    Reactivate,
    /// `add_member`: admin, or member of the owner project.
    AddMember,
    /// `delete_member`: admin, or member of the owner project.
    DeleteMember,
    /// `get_member`: admin, or reader of the owner project or of the image's member project.
    GetMember,
    /// `get_members`: admin, or reader of the owner project or of the image's member project.
    GetMembers,
    /// `modify_member`: admin, or member role in the image's member project.
    ModifyMember,
}

impl Rule {
    /// The rule's name, as Glance's messages print it.
    pub fn name(self) -> &'static str {
        match self {
            Rule::GetImage => "get_image",
            Rule::ModifyImage => "modify_image",
            Rule::DeleteImage => "delete_image",
            Rule::UploadImage => "upload_image",
            Rule::DownloadImage => "download_image",
            Rule::Deactivate => "deactivate",
            Rule::Reactivate => "reactivate",
            Rule::AddMember => "add_member",
            Rule::DeleteMember => "delete_member",
            Rule::GetMember => "get_member",
            Rule::GetMembers => "get_members",
            Rule::ModifyMember => "modify_member",
        }
    }

    /// The rule with that policy name, if it is one checked against images.
    pub fn from_name(name: &str) -> Option<Rule> {
        use Rule::*;
        [
            GetImage,
            ModifyImage,
            DeleteImage,
            UploadImage,
            DownloadImage,
            Deactivate,
            Reactivate,
            AddMember,
            DeleteMember,
            GetMember,
            GetMembers,
            ModifyMember,
        ]
        .into_iter()
        .find(|r| r.name() == name)
    }

    /// The 403 Glance answers when this rule refuses.
    pub fn refusal(self) -> Fault {
        Fault::Forbidden(format!(
            "You are not authorized to complete {} action.",
            self.name()
        ))
    }
}

/// `glance.db.utils.is_image_visible`: may `who` see `image` at all?
/// Membership in any status (pending, accepted, rejected) counts.
pub fn can_see(who: &Identity, image: &Image) -> bool {
    if who.is_admin() || image.owner.is_none() {
        return true;
    }
    if matches!(image.visibility, Visibility::Public | Visibility::Community) {
        return true;
    }
    let Some(project) = who.project_id.as_deref() else {
        return false;
    };
    if image.owner.as_deref() == Some(project) {
        return true;
    }
    image.visibility == Visibility::Shared && image.member(project).is_some()
}

/// Whether `who` owns `image` (same project).
pub fn is_owner(who: &Identity, image: &Image) -> bool {
    who.project_id.is_some() && who.project_id == image.owner
}

/// The `member_id` of the policy target: Glance sets the image's `member`
/// to the caller's project when the image is shared and the caller does not
/// own it (it could only have found the image as a member).
fn is_image_member(who: &Identity, image: &Image) -> bool {
    image.visibility == Visibility::Shared && who.project_id.is_some() && !is_owner(who, image)
}

/// Whether the policy `rule` lets `who` act on `image`.
pub fn allows(who: &Identity, rule: Rule, image: &Image) -> bool {
    if who.is_admin() {
        return true;
    }
    let reader = who.has_role("reader");
    let member = who.has_role("member");
    let owner = is_owner(who, image);
    // `project_id`, `member_id`, or a community/public/shared visibility.
    let reachable = owner || is_image_member(who, image) || image.visibility != Visibility::Private;
    match rule {
        Rule::GetImage => reader && reachable,
        Rule::DownloadImage => member && reachable,
        Rule::GetMember | Rule::GetMembers => reader && (owner || is_image_member(who, image)),
        Rule::ModifyMember => member && is_image_member(who, image),
        Rule::ModifyImage
        | Rule::DeleteImage
        | Rule::UploadImage
        | Rule::Deactivate
        | Rule::Reactivate
        | Rule::AddMember
        | Rule::DeleteMember => member && owner,
    }
}

/// `ImageAPIPolicy._enforce`: check `rule` on an image the caller can see.
/// A refusal is a 403 with the policy's message, or webob's bare 404 when
/// the caller fails `get_image` too, so that images it may not read stay
/// hidden.
pub fn enforce(who: &Identity, rule: Rule, image: &Image) -> Result<(), Fault> {
    if allows(who, rule, image) {
        Ok(())
    } else if rule == Rule::GetImage || !allows(who, Rule::GetImage, image) {
        Err(Fault::NotFound(NOT_FOUND_DEFAULT.into()))
    } else {
        Err(rule.refusal())
    }
}

/// `ImageRepo.get`: the image if it exists, is not deleted and `who` can
/// see it; otherwise 404 `No image found with ID <id>`. No policy is checked.
pub fn lookup<'a>(who: &Identity, image: Option<&'a Image>, id: &str) -> Result<&'a Image, Fault> {
    match image {
        Some(img) if can_see(who, img) => Ok(img),
        _ => Err(Fault::NotFound(format!("No image found with ID {id}"))),
    }
}

/// `get_images`: admin, or the reader role.
pub fn can_read(who: &Identity) -> bool {
    who.is_admin() || who.has_role("reader")
}

/// The rule behind modify/delete/upload/deactivate: admin, or a member of the owner project.
pub fn can_modify(who: &Identity, image: &Image) -> bool {
    allows(who, Rule::ModifyImage, image)
}

/// `download_image`: admin, or a member who can see the image.
pub fn can_download(who: &Identity, image: &Image) -> bool {
    allows(who, Rule::DownloadImage, image)
}

/// `GET /v2/images/{id}`: [`lookup`], then `get_image` (webob's bare 404
/// for a caller without the reader role).
pub fn visible<'a>(who: &Identity, image: Option<&'a Image>, id: &str) -> Result<&'a Image, Fault> {
    let img = lookup(who, image, id)?;
    enforce(who, Rule::GetImage, img)?;
    Ok(img)
}

/// Check a modifying `action` (a policy name such as `modify_image`) on a
/// visible image, as [`enforce`] does: 403 with Glance's policy message, or
/// 404 when the caller cannot read the image either.
pub fn require_modify(who: &Identity, image: &Image, action: &str) -> Result<(), Fault> {
    match Rule::from_name(action) {
        Some(rule) => enforce(who, rule, image),
        None if can_modify(who, image) => Ok(()),
        None if !allows(who, Rule::GetImage, image) => {
            Err(Fault::NotFound(NOT_FOUND_DEFAULT.into()))
        }
        None => Err(Fault::Forbidden(format!(
            "You are not authorized to complete {action} action."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::image::Member;
    use crate::domain::time::now;

    fn who(project: &str, roles: &[&str]) -> Identity {
        Identity {
            project_id: Some(project.into()),
            user_id: Some(format!("{project}-user")),
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn image(visibility: Visibility) -> Image {
        let mut img = Image::new("i".into(), Some("owner".into()), now());
        img.visibility = visibility;
        img
    }

    fn shared_with(project: &str) -> Image {
        let mut img = image(Visibility::Shared);
        img.members.push(Member::new(project.into(), now()));
        img
    }

    #[test]
    fn members_see_shared_images_in_any_status_and_only_while_shared() {
        let bob = who("bob", &["member", "reader"]);
        let mut img = shared_with("bob");
        for status in ["pending", "rejected", "accepted"] {
            img.members[0].status = status.into();
            assert!(can_see(&bob, &img), "{status}");
        }
        assert!(!can_see(&who("carol", &["reader"]), &img));
        img.visibility = Visibility::Private;
        assert!(!can_see(&bob, &img));
        let mut gone = shared_with("bob");
        gone.members[0].deleted = true;
        assert!(!can_see(&bob, &gone));
    }

    #[test]
    fn only_owner_members_and_admins_change_images() {
        let img = image(Visibility::Public);
        assert!(allows(&who("owner", &["member"]), Rule::ModifyImage, &img));
        assert!(!allows(&who("owner", &["reader"]), Rule::ModifyImage, &img));
        assert!(!allows(
            &who("bob", &["member", "reader"]),
            Rule::DeleteImage,
            &img
        ));
        assert!(allows(&who("x", &["admin"]), Rule::UploadImage, &img));
    }

    #[test]
    fn refusals_hide_images_the_caller_cannot_read() {
        let img = image(Visibility::Community);
        // bob can read it: the policy's own 403
        assert_eq!(
            enforce(&who("bob", &["member", "reader"]), Rule::ModifyImage, &img),
            Err(Fault::Forbidden(
                "You are not authorized to complete modify_image action.".into()
            ))
        );
        // without the reader role it does not exist for him
        assert_eq!(
            enforce(&who("bob", &["member"]), Rule::ModifyImage, &img),
            Err(Fault::NotFound(NOT_FOUND_DEFAULT.into()))
        );
        // a member-only owner may change it without reading it
        assert_eq!(
            enforce(&who("owner", &["member"]), Rule::ModifyImage, &img),
            Ok(())
        );
        assert!(visible(&who("owner", &["member"]), Some(&img), "i").is_err());
    }

    #[test]
    fn download_needs_the_member_role_not_the_reader_role() {
        let img = image(Visibility::Public);
        assert!(allows(&who("bob", &["member"]), Rule::DownloadImage, &img));
        assert!(!allows(&who("bob", &["reader"]), Rule::DownloadImage, &img));
        let private = image(Visibility::Private);
        assert!(allows(
            &who("owner", &["member"]),
            Rule::DownloadImage,
            &private
        ));
    }

    #[test]
    fn member_rules_follow_the_image_member_target() {
        let img = shared_with("bob");
        let owner = who("owner", &["member", "reader"]);
        let bob = who("bob", &["member", "reader"]);
        assert!(allows(&owner, Rule::GetMembers, &img));
        assert!(allows(&bob, Rule::GetMembers, &img));
        assert!(!allows(&who("bob", &["member"]), Rule::GetMember, &img));
        // only the member itself changes its status, never the owner
        assert!(allows(&bob, Rule::ModifyMember, &img));
        assert!(!allows(&owner, Rule::ModifyMember, &img));
        assert!(!allows(&who("bob", &["reader"]), Rule::ModifyMember, &img));
        // only the owner adds and removes members
        assert!(allows(&owner, Rule::AddMember, &img));
        assert!(!allows(&bob, Rule::AddMember, &img));
        assert!(!allows(&bob, Rule::DeleteMember, &img));
    }

    #[test]
    fn legacy_action_names_map_to_rules() {
        let img = image(Visibility::Public);
        let bob = who("bob", &["member", "reader"]);
        assert_eq!(
            require_modify(&bob, &img, "delete_image"),
            Err(Rule::DeleteImage.refusal())
        );
        assert_eq!(Rule::from_name("upload_image"), Some(Rule::UploadImage));
        assert_eq!(Rule::from_name("nope"), None);
    }
}
