//! Rendered list pages, kept while the image table does not change.

use std::sync::Mutex;

use bytes::Bytes;

use crate::domain::Identity;

/// The most bytes of pages kept; the cache starts over past it.
const MAX_BYTES: usize = 16 << 20;

/// `GET /v2/images` bodies by caller and query string, for one generation
/// of the image table ([`super::ImageRepository::generation`]).
///
/// A page depends on nothing else: the records (the generation), who asks
/// (visibility, policies, what a deactivated image shows) and the query.
/// Serving a page again instead of filtering, sorting and assembling it
/// took a list request from 2.4× a record request's cost to about the same
/// (BENCHMARKS.md, section 3) — what tests that poll a listing see.
#[derive(Debug, Default)]
pub struct PageCache {
    inner: Mutex<Pages>,
}

#[derive(Debug, Default)]
struct Pages {
    generation: u64,
    bytes: usize,
    pages: Vec<(Identity, String, Bytes)>,
}

impl PageCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pages> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The page `who` was given for `query` at `generation`, if kept.
    pub fn get(&self, generation: u64, who: &Identity, query: &str) -> Option<Bytes> {
        let pages = self.lock();
        if pages.generation != generation {
            return None;
        }
        pages
            .pages
            .iter()
            .find(|(w, q, _)| q == query && w == who)
            .map(|(_, _, body)| body.clone())
    }

    /// Keep `body` as the page `who` gets for `query` at `generation`
    /// (read before the records it was rendered from).
    pub fn put(&self, generation: u64, who: &Identity, query: &str, body: Bytes) {
        let mut pages = self.lock();
        if pages.generation != generation || pages.bytes + body.len() > MAX_BYTES {
            *pages = Pages {
                generation,
                ..Pages::default()
            };
        }
        pages.bytes += body.len();
        pages.pages.push((who.clone(), query.to_owned(), body));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_hold_for_their_generation_caller_and_query() {
        let cache = PageCache::default();
        let admin = Identity::default_admin();
        let other = Identity {
            project_id: Some("p".into()),
            user_id: None,
            roles: vec!["reader".into()],
        };
        cache.put(1, &admin, "limit=1", Bytes::from_static(b"a"));
        assert_eq!(cache.get(1, &admin, "limit=1").as_deref(), Some(&b"a"[..]));
        assert!(cache.get(1, &admin, "limit=2").is_none());
        assert!(cache.get(1, &other, "limit=1").is_none());
        assert!(cache.get(2, &admin, "limit=1").is_none());
        // A page of the next generation drops the older ones.
        cache.put(2, &other, "limit=1", Bytes::from_static(b"b"));
        assert!(cache.get(1, &admin, "limit=1").is_none());
        assert_eq!(cache.get(2, &other, "limit=1").as_deref(), Some(&b"b"[..]));
    }
}
