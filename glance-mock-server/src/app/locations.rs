//! The location API (Glance's `ImagesController.get_locations` and
//! `add_location`, 2024.2+): the image looked up as the caller sees it,
//! then the rules of [`crate::domain::locations`].

use serde_json::Value;

use crate::domain::locations::{self, NewLocation};
use crate::domain::{Fault, Identity, Image, policy};
use crate::state::AppState;

/// `image_repo.get`: the image if the caller can see it.
fn image(state: &AppState, who: &Identity, id: &str) -> Result<Image, Fault> {
    let img = super::records::find_image(state, id)?;
    Ok(policy::lookup(who, img.as_deref(), id)?.clone())
}

/// `ImagesController.get_locations`: image `id`'s locations, one per store
/// holding its data.
pub fn list(state: &AppState, who: &Identity, id: &str) -> Result<Value, Fault> {
    let img = image(state, who, id)?;
    locations::list(who, &img)
}

/// `ImagesController.add_location`: add `new` to image `id`. `Ok` is
/// Glance's 202; the image does not change (see
/// [`crate::domain::locations`]).
pub fn add(state: &AppState, who: &Identity, id: &str, new: &NewLocation) -> Result<(), Fault> {
    let img = image(state, who, id)?;
    locations::add(who, &img, new)
}
