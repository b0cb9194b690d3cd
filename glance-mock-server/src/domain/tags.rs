//! `PUT` and `DELETE /v2/images/{id}/tags/{tag}` (Glance's `image_tags.py`):
//! one tag added or removed at a time, with Glance's checks in Glance's order.

use time::OffsetDateTime;

use super::create::TAG_QUOTA;
use super::policy::{self, NOT_FOUND_DEFAULT, Rule};
use super::{Fault, Identity, Image, python};

/// Longest tag the image schema allows, in characters.
pub const MAX_TAG_LENGTH: usize = 255;

/// The request's deserializer: the tag, validated as the image schema's
/// `tags` item (`{"tags": [tag]}`), before the image is even looked up.
pub fn validate(tag: &str) -> Result<(), Fault> {
    if tag.chars().count() <= MAX_TAG_LENGTH {
        return Ok(());
    }
    let repr = python::str_repr(tag);
    Err(Fault::BadRequest(format!(
        "Provided object does not match schema 'image': {repr} is too long\n\n\
         Failed validating 'maxLength' in schema['properties']['tags']['items']:\n    \
         {{'type': 'string', 'maxLength': {MAX_TAG_LENGTH}}}\n\n\
         On instance['tags'][0]:\n    {repr}"
    )))
}

/// What the tag routes answer for an image the caller cannot see.
pub fn image_not_found(image_id: &str) -> Fault {
    Fault::NotFound(format!("Image {image_id} not found."))
}

/// The checks both routes make on the image: the caller sees it, and
/// `modify_image` allows the change.
fn check(who: &Identity, image: &Image) -> Result<(), Fault> {
    if !policy::can_see(who, image) {
        return Err(image_not_found(&image.id));
    }
    policy::enforce(who, Rule::ModifyImage, image)
}

/// `PUT`: add `tag` (adding a present tag is no change but still saves the
/// image), enforcing `image_tag_quota`. Every save stamps `updated_at`.
pub fn add(who: &Identity, image: &mut Image, tag: &str, now: OffsetDateTime) -> Result<(), Fault> {
    check(who, image)?;
    image.tags.insert(tag.to_owned());
    if image.tags.len() > TAG_QUOTA {
        return Err(Fault::TooLarge(format!(
            "Image tag limit exceeded for image {}: The limit has been exceeded on the number of allowed image tags. Attempted: {}, Maximum: {TAG_QUOTA}:",
            image.id,
            image.tags.len()
        )));
    }
    image.updated_at = now;
    Ok(())
}

/// `DELETE`: remove `tag`; webob's bare 404 when the image does not have it.
pub fn remove(
    who: &Identity,
    image: &mut Image,
    tag: &str,
    now: OffsetDateTime,
) -> Result<(), Fault> {
    check(who, image)?;
    if !image.tags.remove(tag) {
        return Err(Fault::NotFound(NOT_FOUND_DEFAULT.into()));
    }
    image.updated_at = now;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Visibility;
    use time::Duration;

    fn who(project: &str, roles: &[&str]) -> Identity {
        Identity {
            project_id: Some(project.into()),
            user_id: None,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn image() -> Image {
        Image::new("i".into(), Some("p".into()), crate::domain::time::now())
    }

    #[test]
    fn tag_length_is_checked_in_characters() {
        assert!(validate(&"t".repeat(255)).is_ok());
        assert!(validate(&"é".repeat(255)).is_ok());
        let Err(Fault::BadRequest(msg)) = validate(&"t".repeat(256)) else {
            panic!("256 characters accepted");
        };
        assert!(msg.starts_with("Provided object does not match schema 'image': 'ttt"));
        assert!(msg.contains("Failed validating 'maxLength' in schema['properties']['tags']['items']:\n    {'type': 'string', 'maxLength': 255}\n\nOn instance['tags'][0]:\n    'ttt"));
    }

    #[test]
    fn add_is_idempotent_but_stamps_updated_at() {
        let owner = who("p", &["member"]);
        let mut img = image();
        let later = img.updated_at + Duration::seconds(5);
        add(&owner, &mut img, "blue", later).expect("added");
        add(&owner, &mut img, "blue", later + Duration::seconds(1)).expect("again");
        assert_eq!(img.tags.len(), 1);
        assert_eq!(img.updated_at, later + Duration::seconds(1));
    }

    #[test]
    fn quota_counts_the_tag_being_added() {
        let owner = who("p", &["member", "reader"]);
        let mut img = image();
        img.tags = (0..TAG_QUOTA).map(|i| format!("t{i}")).collect();
        let now = img.updated_at;
        add(&owner, &mut img, "t5", now).expect("present tag is no new tag");
        assert_eq!(
            add(&owner, &mut img, "new", now),
            Err(Fault::TooLarge(format!(
                "Image tag limit exceeded for image i: The limit has been exceeded on the number of allowed image tags. Attempted: 129, Maximum: {TAG_QUOTA}:"
            )))
        );
    }

    #[test]
    fn remove_needs_the_tag_and_the_owner() {
        let mut img = image();
        img.visibility = Visibility::Public;
        img.tags.insert("x".into());
        let now = img.updated_at;
        assert_eq!(
            remove(&who("bob", &["member", "reader"]), &mut img, "x", now),
            Err(Rule::ModifyImage.refusal())
        );
        assert_eq!(
            remove(&who("p", &["member"]), &mut img, "y", now),
            Err(Fault::NotFound(NOT_FOUND_DEFAULT.into()))
        );
        remove(&who("p", &["member"]), &mut img, "x", now).expect("removed");
        assert!(img.tags.is_empty());
    }

    #[test]
    fn invisible_images_are_not_found() {
        let mut img = image();
        img.visibility = Visibility::Private;
        let now = img.updated_at;
        assert_eq!(
            add(&who("bob", &["member", "reader"]), &mut img, "x", now),
            Err(image_not_found("i"))
        );
    }
}
