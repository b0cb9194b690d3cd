//! One tag added to or removed from an image (Glance's
//! `glance.api.v2.image_tags.Controller`): the rules of
//! [`crate::domain::tags`] applied to the image as one update of its
//! record. The tag itself is validated by the request's deserializer,
//! before these run.

use super::records::save_image;
use crate::domain::{Fault, Identity, Image, tags, time};
use crate::state::AppState;

/// Apply a tag change to the live image `id` (Glance's
/// `image_repo.get`, the change, then `image_repo.save`).
fn change(
    state: &AppState,
    id: &str,
    f: impl FnMut(&mut Image) -> Result<(), Fault>,
) -> Result<(), Fault> {
    save_image(state, id, || tags::image_not_found(id), f).map(drop)
}

/// `Controller.update`: add `tag` to image `id`.
pub fn add(state: &AppState, who: &Identity, id: &str, tag: &str) -> Result<(), Fault> {
    change(state, id, |img| tags::add(who, img, tag, time::now()))
}

/// `Controller.delete`: remove `tag` from image `id`.
pub fn remove(state: &AppState, who: &Identity, id: &str, tag: &str) -> Result<(), Fault> {
    change(state, id, |img| tags::remove(who, img, tag, time::now()))
}
