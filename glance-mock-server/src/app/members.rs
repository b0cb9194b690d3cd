//! Sharing an image with other projects (Glance's
//! `glance.api.v2.image_members.ImageMembersController`): each use case
//! looks the image up and applies the rules of [`crate::domain::members`]
//! to it; each change is saved as one `image_member_*` write.

use serde_json::Value;

use super::records;
use crate::db::{RepoError, Row};
use crate::domain::image::Member;
use crate::domain::members::{self, NewMember};
use crate::domain::{Fault, Identity, Image, time};
use crate::state::AppState;

/// The live image `id` as read for a membership change, and what a
/// failed membership write answers (its rows are checked by the rules of
/// [`members`] first, so a failure here means the image or the row
/// changed under the request).
fn read(state: &AppState, id: &str) -> Result<Image, Fault> {
    records::image(state, id, || members::image_not_found(id)).map(|img| Image::clone(&img))
}

fn refused(e: RepoError, id: &str) -> Fault {
    match e {
        RepoError::Duplicate { key, .. } => {
            Fault::Conflict(format!("Member {key} is duplicated for image {id}"))
        }
        RepoError::NotFound {
            row: Row::Member, ..
        } => members::image_not_found(id),
        other => records::fault(other, || members::image_not_found(id)),
    }
}

/// `ImageMembersController.index`: the memberships of image `id` the
/// caller may see.
pub fn list(state: &AppState, who: &Identity, id: &str) -> Result<Vec<Member>, Fault> {
    let image = records::find_image(state, id)?;
    members::list(who, image.as_deref(), id)
}

/// `ImageMembersController.show`: the caller's view of `member_id`'s
/// membership of image `id`.
pub fn show(state: &AppState, who: &Identity, id: &str, member_id: &str) -> Result<Member, Fault> {
    let image = records::find_image(state, id)?;
    members::show(who, image.as_deref(), id, member_id)
}

/// `ImageMembersController.create`: share image `id` with the project in
/// `new`, as a `pending` membership.
pub fn add(state: &AppState, who: &Identity, id: &str, new: &NewMember) -> Result<Member, Fault> {
    let mut image = read(state, id)?;
    let row = members::add(who, &mut image, new, time::now())?;
    state
        .repo
        .images
        .image_member_create(id, &row)
        .map_err(|e| refused(e, id))
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
    let mut image = read(state, id)?;
    let row = members::set_status(who, &mut image, member_id, status, time::now())?;
    state
        .repo
        .images
        .image_member_update(id, member_id, &row.status, row.updated_at)
        .map_err(|e| refused(e, id))
}

/// `ImageMembersController.delete`: end `member_id`'s membership of image
/// `id`.
pub fn remove(state: &AppState, who: &Identity, id: &str, member_id: &str) -> Result<(), Fault> {
    let mut image = read(state, id)?;
    members::remove(who, &mut image, member_id)?;
    state
        .repo
        .images
        .image_member_delete(id, member_id)
        .map_err(|e| refused(e, id))
}
