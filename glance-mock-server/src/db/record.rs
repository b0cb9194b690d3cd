//! A stored image record, with its JSON rendered once.

use std::ops::Deref;
use std::sync::OnceLock;

use bytes::Bytes;

use crate::domain::Identity;
use crate::domain::image::{Image, LocationView};

/// An image as the repository keeps it: immutable once stored (a change
/// replaces the whole record, copy-on-write), so its JSON can be rendered
/// once and served to every later read.
///
/// Rendering a record (a `serde_json::Value` of ~25 fields, timestamps
/// formatted, then serialised) was the largest part of a
/// `GET /v2/images/{id}` and almost all of a list page (BENCHMARKS.md,
/// section 3); reads now copy the cached bytes.
///
/// ```
/// use glance_mock_server::db::Record;
/// use glance_mock_server::domain::{Identity, Image};
/// use glance_mock_server::domain::image::LocationView;
///
/// let now = glance_mock_server::domain::time::now();
/// let record = Record::new(Image::new("i".into(), Some("p".into()), now));
/// let who = Identity::default_admin();
/// let body = record.json_for(&who, LocationView::default());
/// let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
/// assert_eq!(value, record.to_json_for(&who, LocationView::default()));
/// ```
#[derive(Debug)]
pub struct Record {
    image: Image,
    /// The JSON of the image as everyone is shown it, and the deployment
    /// switches it was rendered under.
    rendered: OnceLock<(LocationView, Bytes)>,
}

impl Record {
    /// A record of `image`, not yet rendered.
    pub fn new(image: Image) -> Self {
        Record {
            image,
            rendered: OnceLock::new(),
        }
    }

    /// The image.
    pub fn image(&self) -> &Image {
        &self.image
    }

    /// The image's JSON body as `who` is shown it: the same bytes as
    /// serialising [`Image::to_json_for`]. Rendered on the first read;
    /// the one view that differs by caller (a deactivated image's
    /// locations, hidden from non-admins) is rendered each time.
    pub fn json_for(&self, who: &Identity, view: LocationView) -> Bytes {
        if self.image.hides_locations_from(who) {
            return render(&self.image, who, view);
        }
        match self.rendered.get() {
            Some((v, body)) if *v == view => body.clone(),
            Some(_) => render(&self.image, who, view),
            None => self
                .rendered
                .get_or_init(|| (view, render(&self.image, who, view)))
                .1
                .clone(),
        }
    }
}

fn render(image: &Image, who: &Identity, view: LocationView) -> Bytes {
    // A `Value` with string keys always serialises.
    Bytes::from(serde_json::to_vec(&image.to_json_for(who, view)).unwrap_or_default())
}

impl Deref for Record {
    type Target = Image;

    fn deref(&self) -> &Image {
        &self.image
    }
}

impl From<Image> for Record {
    fn from(image: Image) -> Self {
        Record::new(image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ImageStatus;
    use crate::domain::time::now;

    fn member() -> Identity {
        Identity {
            project_id: Some("p".into()),
            user_id: None,
            roles: vec!["member".into(), "reader".into()],
        }
    }

    fn parsed(b: &Bytes) -> serde_json::Value {
        serde_json::from_slice(b).expect("rendered JSON parses")
    }

    #[test]
    fn cached_bytes_match_a_fresh_rendering() {
        let mut img = Image::new("i".into(), Some("p".into()), now());
        img.properties.insert("os_distro".into(), "debian".into());
        img.stores = vec!["fast".into()];
        img.status = ImageStatus::Active;
        let record = Record::new(img);
        let view = LocationView {
            multiple_locations: true,
            direct_url: true,
        };
        let first = record.json_for(&member(), view);
        let again = record.json_for(&Identity::default_admin(), view);
        assert_eq!(first, again);
        assert_eq!(
            first.as_ref(),
            serde_json::to_vec(&record.to_json_for(&member(), view))
                .expect("serialises")
                .as_slice()
        );
        // Another view is rendered for itself, not served from the cache.
        let plain = parsed(&record.json_for(&member(), LocationView::default()));
        assert!(plain.get("locations").is_none());
        assert_eq!(
            parsed(&first)["direct_url"],
            "file:///var/lib/glance-mock/fast/i"
        );
    }

    #[test]
    fn a_deactivated_image_is_rendered_per_caller() {
        let mut img = Image::new("i".into(), Some("p".into()), now());
        img.stores = vec!["fast".into()];
        img.status = ImageStatus::Deactivated;
        let record = Record::new(img);
        let view = LocationView::default();
        let admin = parsed(&record.json_for(&Identity::default_admin(), view));
        let hidden = parsed(&record.json_for(&member(), view));
        assert_eq!(admin["stores"], "fast");
        assert!(hidden.get("stores").is_none());
        // The admin's rendering, now cached, is not what a member gets.
        assert!(
            parsed(&record.json_for(&member(), view))
                .get("stores")
                .is_none()
        );
    }
}
