//! The cache management API (Glance's `CacheController`): the admin-only
//! cache policies and the answers that do not depend on the cache's
//! contents are in [`crate::domain::cache`], the records in
//! [`crate::db::ImageCache`]. Each use case takes Glance's steps in its
//! order: some look the image up before the policy, some after.

use crate::db::CachedImage;
use crate::domain::cache::{self, ClearTarget, Rule};
use crate::domain::{Fault, Identity, ImageStatus, policy, time};
use crate::state::AppState;

/// What `POST /v2/cache/prune` removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Cached images removed.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// `CacheController._enforce`: the policy `rule`, then whether the
/// deployment has a cache.
fn enforce(state: &AppState, who: &Identity, rule: Rule) -> Result<(), Fault> {
    cache::enforce(who, rule, state.config.cache.enabled)
}

/// Whether the caller can see the image (Glance's `image_repo.get`), and
/// its status.
fn visible(state: &AppState, who: &Identity, id: &str) -> Option<ImageStatus> {
    state
        .repo
        .images
        .image_get(id, false)
        .ok()
        .filter(|img| policy::can_see(who, img))
        .map(|img| img.status)
}

/// `get_cache_state` (`GET /v2/cache`): the cached images, in the order
/// they were cached, and the queue.
pub fn list(state: &AppState, who: &Identity) -> Result<(Vec<CachedImage>, Vec<String>), Fault> {
    enforce(state, who, Rule::List)?;
    Ok(state.cache.state())
}

/// `clear_cache` (`DELETE /v2/cache`): empty the cache, the queue or both,
/// as `target` (the `x-image-cache-clear-target` header) says; the header
/// is read after the policy.
pub fn clear(state: &AppState, who: &Identity, target: Option<&str>) -> Result<(), Fault> {
    enforce(state, who, Rule::Delete)?;
    match ClearTarget::parse(target)? {
        ClearTarget::Both => {
            state.cache.clear_cached();
            state.cache.clear_queued();
        }
        ClearTarget::Cache => {
            state.cache.clear_cached();
        }
        ClearTarget::Queue => {
            state.cache.clear_queued();
        }
    }
    Ok(())
}

/// `queue_image_from_api` (`PUT /v2/cache/{id}`): queue an active image.
/// Glance's cache worker then prefetches it on a thread, usually within
/// milliseconds; the mock prefetches before answering, so the image is
/// listed as cached at once.
pub async fn queue(state: &AppState, who: &Identity, id: &str) -> Result<(), Fault> {
    let status = visible(state, who, id).ok_or_else(|| cache::image_not_found(id))?;
    enforce(state, who, Rule::Image)?;
    if status != ImageStatus::Active {
        return Err(cache::not_active());
    }
    state.cache.queue(id);
    prefetch(state, id).await;
    Ok(())
}

/// `Prefetcher.fetch_image_into_cache`: read the active image's data from
/// its first store that holds it into the cache.
async fn prefetch(state: &AppState, id: &str) {
    let Ok(img) = state.repo.images.image_get(id, false) else {
        return;
    };
    if img.status != ImageStatus::Active || state.cache.is_cached(id) {
        return;
    }
    for store_id in &img.stores {
        if let Some(store) = state.store.get(store_id)
            && let Ok(size) = store.get_size(id).await
        {
            state
                .cache
                .read_through(id, size, time::epoch_seconds(time::now()));
            return;
        }
    }
}

/// `delete_cache_entry` (`DELETE /v2/cache/{id}`): take the image out of
/// the cache and the queue. Without a cache, Glance asks its (missing)
/// cache whether it holds an image the caller cannot see, and fails.
pub fn remove(state: &AppState, who: &Identity, id: &str) -> Result<(), Fault> {
    let seen = visible(state, who, id).is_some();
    if !state.config.cache.enabled {
        if !seen {
            return Err(Fault::internal());
        }
        enforce(state, who, Rule::Delete)?;
    }
    if !seen && !state.cache.holds(id) {
        return Err(cache::image_not_found(id));
    }
    enforce(state, who, Rule::Delete)?;
    state.cache.remove(id);
    Ok(())
}

/// `list_cached_nodes` (`GET /v2/cache/nodes/{id}`): whether this node
/// caches the image (the only node; its `worker_self_reference_url` is
/// the URL it was reached at).
pub fn cached_here(state: &AppState, who: &Identity, id: &str) -> Result<bool, Fault> {
    enforce(state, who, Rule::ListCachedNodes)?;
    if visible(state, who, id).is_none() {
        return Err(cache::image_not_found(id));
    }
    Ok(state.cache.is_cached(id))
}

/// Cleaning and pruning take an external lock first, which fails without
/// a cache (no `lock_path` configured, as in the reference deployment).
fn locked(state: &AppState) -> Result<(), Fault> {
    if state.config.cache.enabled {
        Ok(())
    } else {
        Err(Fault::internal())
    }
}

/// `cache_clean` (`POST /v2/cache/clean`): nothing in the mock's cache is
/// ever invalid or stalled, so nothing to clean.
pub fn clean(state: &AppState, who: &Identity) -> Result<(), Fault> {
    locked(state)?;
    enforce(state, who, Rule::Clean)
}

/// `cache_prune` (`POST /v2/cache/prune`): the mock's cache holds no
/// copies, so it never exceeds `image_cache_max_size`: nothing pruned.
pub fn prune(state: &AppState, who: &Identity) -> Result<Pruned, Fault> {
    locked(state)?;
    enforce(state, who, Rule::Prune)?;
    Ok(Pruned { files: 0, bytes: 0 })
}
