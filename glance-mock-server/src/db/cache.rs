//! The image cache's records (`cached_images` and the queue of the
//! `centralized_db` cache driver) for this one node. The mock keeps no
//! second copy of the bytes: a cached image is served from its store.

use std::sync::Mutex;

use serde::Serialize;

/// One `cached_images` row, as `GET /v2/cache` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CachedImage {
    /// The row's id (a sequence, from 1).
    pub id: u64,
    /// The image.
    pub image_id: String,
    /// When the cache last served it (seconds since the epoch).
    pub last_accessed: f64,
    /// When it was written into the cache (seconds since the epoch).
    pub last_modified: f64,
    /// Bytes cached.
    pub size: u64,
    /// How often the cache served it.
    pub hits: u64,
    /// Glance leaves this `null`.
    pub checksum: Option<String>,
}

#[derive(Debug, Default)]
struct Rows {
    cached: Vec<CachedImage>,
    queued: Vec<String>,
    next_id: u64,
}

/// The node's cache records.
#[derive(Debug, Default)]
pub struct ImageCache {
    rows: Mutex<Rows>,
}

impl ImageCache {
    fn rows(&self) -> std::sync::MutexGuard<'_, Rows> {
        self.rows.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Cached images in the order they were cached, and the queue.
    pub fn state(&self) -> (Vec<CachedImage>, Vec<String>) {
        let rows = self.rows();
        (rows.cached.clone(), rows.queued.clone())
    }

    /// Whether the image is cached.
    pub fn is_cached(&self, image_id: &str) -> bool {
        self.rows().cached.iter().any(|c| c.image_id == image_id)
    }

    /// Whether the image is cached or queued.
    pub fn holds(&self, image_id: &str) -> bool {
        let rows = self.rows();
        rows.cached.iter().any(|c| c.image_id == image_id)
            || rows.queued.iter().any(|q| q == image_id)
    }

    /// `queue_image`: queue an image that is neither cached nor queued.
    pub fn queue(&self, image_id: &str) {
        let mut rows = self.rows();
        if !rows.cached.iter().any(|c| c.image_id == image_id)
            && !rows.queued.iter().any(|q| q == image_id)
        {
            rows.queued.push(image_id.to_owned());
        }
    }

    /// A complete read of the image went through the cache at `now`: the
    /// first one writes it into the cache (and off the queue), later ones
    /// are hits.
    pub fn read_through(&self, image_id: &str, size: u64, now: f64) {
        let mut rows = self.rows();
        rows.queued.retain(|q| q != image_id);
        if let Some(row) = rows.cached.iter_mut().find(|c| c.image_id == image_id) {
            row.hits += 1;
            row.last_accessed = now;
            return;
        }
        rows.next_id += 1;
        let id = rows.next_id;
        rows.cached.push(CachedImage {
            id,
            image_id: image_id.to_owned(),
            last_accessed: now,
            last_modified: now,
            size,
            hits: 0,
            checksum: None,
        });
    }

    /// `delete_cached_image` and `delete_queued_image`.
    pub fn remove(&self, image_id: &str) {
        let mut rows = self.rows();
        rows.cached.retain(|c| c.image_id != image_id);
        rows.queued.retain(|q| q != image_id);
    }

    /// `delete_all_cached_images`: how many were removed.
    pub fn clear_cached(&self) -> usize {
        std::mem::take(&mut self.rows().cached).len()
    }

    /// `delete_all_queued_images`: how many were removed.
    pub fn clear_queued(&self) -> usize {
        std::mem::take(&mut self.rows().queued).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fill_then_hit_and_empty_the_queue() {
        let cache = ImageCache::default();
        cache.queue("a");
        cache.queue("a");
        assert_eq!(cache.state().1, ["a"]);
        cache.read_through("a", 3, 1.0);
        cache.read_through("a", 3, 2.0);
        let (cached, queued) = cache.state();
        assert!(queued.is_empty());
        assert_eq!((cached[0].id, cached[0].hits), (1, 1));
        assert_eq!(
            (cached[0].last_modified, cached[0].last_accessed),
            (1.0, 2.0)
        );
        cache.queue("a");
        assert!(cache.state().1.is_empty(), "a cached image is not queued");
        cache.remove("a");
        assert!(!cache.holds("a"));
        cache.read_through("b", 1, 3.0);
        assert_eq!(cache.state().0[0].id, 2, "row ids are never reused");
    }
}
