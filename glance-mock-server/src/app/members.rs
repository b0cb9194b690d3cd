//! Sharing an image with other projects (Glance's
//! `glance.api.v2.image_members.ImageMembersController`): each use case
//! looks the image up and applies the rules of [`crate::domain::members`]
//! to it; changes are saved as one update of the image's record.

use serde_json::Value;

use crate::domain::image::Member;
use crate::domain::members::{self, NewMember};
use crate::domain::{Fault, Identity, Image, time};
use crate::state::AppState;

/// Apply a membership change to the live image `id` atomically (Glance's
/// `image_repo.get`, the change, then `image_repo.save`), and return what
/// the change returned.
fn change<T>(
    state: &AppState,
    id: &str,
    mut f: impl FnMut(&mut Image) -> Result<T, Fault>,
) -> Result<T, Fault> {
    let mut out = None;
    state
        .db
        .update(id, &mut |img| {
            out = Some(f(img)?);
            Ok(())
        })
        .ok_or_else(|| members::image_not_found(id))??;
    out.ok_or_else(|| members::image_not_found(id))
}

/// `ImageMembersController.index`: the memberships of image `id` the
/// caller may see.
pub fn list(state: &AppState, who: &Identity, id: &str) -> Result<Vec<Member>, Fault> {
    let image = state.db.get(id, false);
    members::list(who, image.as_deref(), id)
}

/// `ImageMembersController.show`: the caller's view of `member_id`'s
/// membership of image `id`.
pub fn show(state: &AppState, who: &Identity, id: &str, member_id: &str) -> Result<Member, Fault> {
    let image = state.db.get(id, false);
    members::show(who, image.as_deref(), id, member_id)
}

/// `ImageMembersController.create`: share image `id` with the project in
/// `new`, as a `pending` membership.
pub fn add(state: &AppState, who: &Identity, id: &str, new: &NewMember) -> Result<Member, Fault> {
    change(state, id, |img| members::add(who, img, new, time::now()))
}

/// `ImageMembersController.update`: set `member_id`'s `status` for image
/// `id` (as the request body gave it, checked here).
pub fn set_status(
    state: &AppState,
    who: &Identity,
    id: &str,
    member_id: &str,
    status: &Value,
) -> Result<Member, Fault> {
    change(state, id, |img| {
        members::set_status(who, img, member_id, status, time::now())
    })
}

/// `ImageMembersController.delete`: end `member_id`'s membership of image
/// `id`.
pub fn remove(state: &AppState, who: &Identity, id: &str, member_id: &str) -> Result<(), Fault> {
    change(state, id, |img| members::remove(who, img, member_id))
}
