//! Deactivating and reactivating images (`glance.domain.Image.deactivate`
//! and `reactivate`): only `active ⇄ deactivated`; asking for the state an
//! image is already in changes nothing.

use time::OffsetDateTime;

use super::{Fault, Image, ImageStatus};

/// `active → deactivated`. Returns whether the record changed (a repeated
/// deactivate is a no-op that Glance does not even save).
pub fn deactivate(img: &mut Image, now: OffsetDateTime) -> Result<bool, Fault> {
    switch(
        img,
        ImageStatus::Active,
        ImageStatus::Deactivated,
        "deactivate",
        now,
    )
}

/// `deactivated → active`, the reverse of [`deactivate`].
pub fn reactivate(img: &mut Image, now: OffsetDateTime) -> Result<bool, Fault> {
    switch(
        img,
        ImageStatus::Deactivated,
        ImageStatus::Active,
        "reactivate",
        now,
    )
}

fn switch(
    img: &mut Image,
    from: ImageStatus,
    to: ImageStatus,
    verb: &str,
    now: OffsetDateTime,
) -> Result<bool, Fault> {
    if img.status == to {
        return Ok(false);
    }
    if img.status != from {
        return Err(Fault::Forbidden(format!(
            "Not allowed to {verb} image in status '{}'",
            img.status.as_str()
        )));
    }
    img.status = to;
    img.updated_at = now;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::now;

    #[test]
    fn only_active_and_deactivated_switch() {
        let mut img = Image::new("i".into(), None, now());
        assert_eq!(
            deactivate(&mut img, now()),
            Err(Fault::Forbidden(
                "Not allowed to deactivate image in status 'queued'".into()
            ))
        );
        assert_eq!(
            reactivate(&mut img, now()),
            Err(Fault::Forbidden(
                "Not allowed to reactivate image in status 'queued'".into()
            ))
        );
        img.status = ImageStatus::Active;
        assert_eq!(reactivate(&mut img, now()), Ok(false));
        assert_eq!(deactivate(&mut img, now()), Ok(true));
        assert_eq!(img.status, ImageStatus::Deactivated);
        assert_eq!(deactivate(&mut img, now()), Ok(false));
        assert_eq!(reactivate(&mut img, now()), Ok(true));
        assert_eq!(img.status, ImageStatus::Active);
        img.status = ImageStatus::Saving;
        assert!(deactivate(&mut img, now()).is_err());
    }
}
