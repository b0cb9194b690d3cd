//! Presentation kept between requests: each image's JSON as last rendered,
//! and whole list pages, so that a `GET` of an unchanged image or page
//! writes no JSON at all (BENCHMARKS.md, section 3).
//!
//! Both are checked against the repository before use, never trusted: a
//! record's JSON holds while the repository still hands out the very same
//! record (records are immutable `Arc`s, replaced on every change), a page
//! while the repository's change counter
//! ([`crate::db::ImageRepository::generation`]) has not moved.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};

use bytes::Bytes;

use crate::domain::Identity;
use crate::domain::image::{Image, LocationView};
use crate::domain::list::Page;

/// The cached renderings (an [`super::ApiState`] part).
#[derive(Debug, Default)]
pub struct Views {
    records: RwLock<HashMap<String, Rendered>>,
    pages: Mutex<Pages>,
}

/// One image's JSON as rendered for `view`, from the record `image`
/// points at (a weak pointer: it keeps the allocation, so no other record
/// can ever sit at that address while the entry exists).
#[derive(Debug)]
struct Rendered {
    image: Weak<Image>,
    view: LocationView,
    body: Bytes,
}

/// Pages rendered at one generation of the image table.
#[derive(Debug, Default)]
struct Pages {
    generation: u64,
    bytes: usize,
    pages: Vec<(Identity, String, Bytes)>,
}

/// How many bytes of pages are kept at most; past it they are dropped.
const MAX_PAGE_BYTES: usize = 16 << 20;

/// Past this many cached records, entries of records gone are dropped.
const PRUNE_AT: usize = 4096;

impl Views {
    /// `image` as JSON for `who`. Images that show `who` less than others
    /// (a deactivated image's locations) are rendered each time.
    pub fn image(&self, image: &Arc<Image>, who: &Identity, view: LocationView) -> Bytes {
        if image.hides_locations_from(who) {
            return render(image, who, view);
        }
        if let Some(body) = self.cached(image, view) {
            return body;
        }
        let body = render(image, who, view);
        self.keep(image, view, body.clone());
        body
    }

    fn cached(&self, image: &Arc<Image>, view: LocationView) -> Option<Bytes> {
        let records = self.records.read().unwrap_or_else(|p| p.into_inner());
        records
            .get(&image.id)
            .filter(|r| r.view == view && std::ptr::eq(r.image.as_ptr(), Arc::as_ptr(image)))
            .map(|r| r.body.clone())
    }

    fn keep(&self, image: &Arc<Image>, view: LocationView, body: Bytes) {
        let mut records = self.records.write().unwrap_or_else(|p| p.into_inner());
        if records.len() >= PRUNE_AT {
            records.retain(|_, r| r.image.strong_count() > 0);
        }
        records.insert(
            image.id.clone(),
            Rendered {
                image: Arc::downgrade(image),
                view,
                body,
            },
        );
    }

    /// A list page as JSON for `who`, each image's JSON spliced in as
    /// [`Views::image`] renders it (building a `Value` per image was
    /// almost all of a list request, bench/profile list25). Keys in the
    /// order serde_json's map would write them.
    pub fn page(&self, page: &Page<'_>, who: &Identity, view: LocationView) -> Bytes {
        let bodies: Vec<Bytes> = page
            .images
            .iter()
            .map(|img| self.image(img, who, view))
            .collect();
        let mut out = Vec::with_capacity(bodies.iter().map(Bytes::len).sum::<usize>() + 256);
        out.extend_from_slice(b"{\"first\":");
        write_json_str(&mut out, &page.first);
        out.extend_from_slice(b",\"images\":[");
        for (i, body) in bodies.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(body);
        }
        out.push(b']');
        if let Some(next) = &page.next {
            out.extend_from_slice(b",\"next\":");
            write_json_str(&mut out, next);
        }
        out.extend_from_slice(b",\"schema\":\"/v2/schemas/images\"}");
        Bytes::from(out)
    }

    fn pages(&self) -> std::sync::MutexGuard<'_, Pages> {
        self.pages.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The page rendered for `who` and `query` at `generation`, if any.
    pub fn cached_page(&self, generation: u64, who: &Identity, query: &str) -> Option<Bytes> {
        let pages = self.pages();
        if pages.generation != generation {
            return None;
        }
        pages
            .pages
            .iter()
            .find(|(w, q, _)| q == query && w == who)
            .map(|(_, _, body)| body.clone())
    }

    /// Keep a page rendered at `generation` (pages of older generations go).
    pub fn keep_page(&self, generation: u64, who: &Identity, query: &str, body: Bytes) {
        let mut pages = self.pages();
        if pages.generation != generation || pages.bytes + body.len() > MAX_PAGE_BYTES {
            *pages = Pages {
                generation,
                ..Pages::default()
            };
        }
        pages.bytes += body.len();
        pages.pages.push((who.clone(), query.to_owned(), body));
    }
}

/// `image` as JSON, written now.
fn render(image: &Image, who: &Identity, view: LocationView) -> Bytes {
    Bytes::from(serde_json::to_vec(&image.to_json_for(who, view)).unwrap_or_default())
}

/// `s` as a JSON string, appended to `out`.
fn write_json_str(out: &mut Vec<u8>, s: &str) {
    // Writing a `&str` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
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
    fn cached_bytes_match_a_fresh_rendering_until_the_record_changes() {
        let views = Views::default();
        let mut img = Image::new("i".into(), Some("p".into()), now());
        img.properties.insert("os_distro".into(), "debian".into());
        img.stores = vec!["fast".into()];
        img.status = ImageStatus::Active;
        let record = Arc::new(img.clone());
        let view = LocationView {
            multiple_locations: true,
            direct_url: true,
        };
        let first = views.image(&record, &member(), view);
        let again = views.image(&record, &Identity::default_admin(), view);
        assert_eq!(first, again);
        assert_eq!(
            first.as_ref(),
            serde_json::to_vec(&record.to_json_for(&member(), view))
                .expect("serialises")
                .as_slice()
        );
        let plain = parsed(&views.image(&record, &member(), LocationView::default()));
        assert!(plain.get("locations").is_none());
        assert_eq!(
            parsed(&first)["direct_url"],
            "file:///var/lib/glance-mock/fast/i"
        );
        // A changed record (a new `Arc`) is rendered anew.
        img.name = Some("renamed".into());
        let changed = Arc::new(img);
        assert_eq!(
            parsed(&views.image(&changed, &member(), view))["name"],
            "renamed"
        );
        drop(record);
        assert_eq!(
            parsed(&views.image(&changed, &member(), view))["name"],
            "renamed"
        );
    }

    #[test]
    fn a_deactivated_image_is_rendered_per_caller() {
        let views = Views::default();
        let mut img = Image::new("i".into(), Some("p".into()), now());
        img.stores = vec!["fast".into()];
        img.status = ImageStatus::Deactivated;
        let record = Arc::new(img);
        let view = LocationView::default();
        let admin = parsed(&views.image(&record, &Identity::default_admin(), view));
        let hidden = parsed(&views.image(&record, &member(), view));
        assert_eq!(admin["stores"], "fast");
        assert!(hidden.get("stores").is_none());
    }

    #[test]
    fn pages_hold_for_their_generation_caller_and_query() {
        let views = Views::default();
        let admin = Identity::default_admin();
        let other = member();
        views.keep_page(1, &admin, "limit=1", Bytes::from_static(b"a"));
        assert_eq!(
            views.cached_page(1, &admin, "limit=1").as_deref(),
            Some(&b"a"[..])
        );
        assert!(views.cached_page(1, &admin, "limit=2").is_none());
        assert!(views.cached_page(1, &other, "limit=1").is_none());
        assert!(views.cached_page(2, &admin, "limit=1").is_none());
        views.keep_page(2, &other, "limit=1", Bytes::from_static(b"b"));
        assert!(views.cached_page(1, &admin, "limit=1").is_none());
        assert_eq!(
            views.cached_page(2, &other, "limit=1").as_deref(),
            Some(&b"b"[..])
        );
    }
}
