//! Glance's default policies (`enforce_new_defaults`), as predicates.

use super::{Fault, Identity, Image, Visibility};

/// `glance.db.utils.is_image_visible`: may `who` see `image` at all?
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

/// `get_image`/`get_images`: admin, or the reader role.
pub fn can_read(who: &Identity) -> bool {
    who.is_admin() || who.has_role("reader")
}

/// The rule behind modify/delete/upload/deactivate: admin, or a member of the owner project.
pub fn can_modify(who: &Identity, image: &Image) -> bool {
    who.is_admin() || (who.has_role("member") && is_owner(who, image))
}

/// `download_image`: admin, or a member who can see the image.
pub fn can_download(who: &Identity, image: &Image) -> bool {
    who.is_admin() || (who.has_role("member") && can_see(who, image))
}

/// Look an image up for `who`: 404 unless it exists, is not deleted, and is visible.
pub fn visible<'a>(who: &Identity, image: Option<&'a Image>, id: &str) -> Result<&'a Image, Fault> {
    match image {
        Some(img) if can_read(who) && can_see(who, img) => Ok(img),
        _ => Err(Fault::NotFound(format!("No image found with ID {id}"))),
    }
}

/// Check a modifying `action` (e.g. `modify_image`) on a visible image:
/// 403 with Glance's policy message when refused.
pub fn require_modify(who: &Identity, image: &Image, action: &str) -> Result<(), Fault> {
    if can_modify(who, image) {
        Ok(())
    } else {
        Err(Fault::Forbidden(format!(
            "You are not authorized to complete {action} action."
        )))
    }
}
