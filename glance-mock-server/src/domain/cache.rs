//! The image cache API (`/v2/cache...`): who may call it, and the answers
//! that do not depend on the cache's contents.
//!
//! * The cache policies (`cache_list`, `cache_delete`, `cache_image`,
//!   `cache_clean`, `cache_prune`, `list_cached_nodes`) are admin-only and
//!   checked first: 403.
//! * Without a cache (the reference deployment: no `image_cache_dir`),
//!   then 404 `Caching via API is not supported at this site.`; there,
//!   `PUT`/`DELETE /v2/cache/{id}` first look the image up (by DB
//!   visibility only): `PUT` answers 404 `Image <id> not found.`, while
//!   `DELETE` then asks the missing cache whether it holds the image and
//!   fails (500); `POST /v2/cache/clean` and `/prune` take an external
//!   lock before anything else, which fails without a `lock_path` (500).
//! * With a cache (`config.cache.enabled`), the calls work as with the
//!   `centralized_db` driver: see [`crate::db::ImageCache`].

use super::{Fault, Identity};

/// The cache policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `cache_list`: `GET /v2/cache`.
    List,
    /// `cache_delete`: `DELETE /v2/cache` and `/v2/cache/{id}`.
    Delete,
    /// `cache_image`: `PUT /v2/cache/{id}`.
    Image,
    /// `cache_clean`: `POST /v2/cache/clean`.
    Clean,
    /// `cache_prune`: `POST /v2/cache/prune`.
    Prune,
    /// `list_cached_nodes`: `GET /v2/cache/nodes/{id}`.
    ListCachedNodes,
}

impl Rule {
    /// The policy's name.
    pub fn name(self) -> &'static str {
        match self {
            Rule::List => "cache_list",
            Rule::Delete => "cache_delete",
            Rule::Image => "cache_image",
            Rule::Clean => "cache_clean",
            Rule::Prune => "cache_prune",
            Rule::ListCachedNodes => "list_cached_nodes",
        }
    }
}

/// `CacheController._enforce`: the admin-only policy, then whether the
/// deployment has a cache at all.
pub fn enforce(who: &Identity, rule: Rule, enabled: bool) -> Result<(), Fault> {
    if !who.is_admin() {
        return Err(Fault::Forbidden(format!(
            "You are not authorized to complete {} action.",
            rule.name()
        )));
    }
    if !enabled {
        return Err(Fault::NotFound(
            "Caching via API is not supported at this site.".into(),
        ));
    }
    Ok(())
}

/// `PUT`, `DELETE` or `GET nodes/` on an image the caller cannot see (and,
/// for `DELETE`, that the cache does not hold).
pub fn image_not_found(id: &str) -> Fault {
    Fault::NotFound(format!("Image {id} not found."))
}

/// `PUT /v2/cache/{id}` of an image that is not active.
pub fn not_active() -> Fault {
    Fault::BadRequest("Only images with status active can be targeted for queueing".into())
}

/// What `DELETE /v2/cache` clears (`x-image-cache-clear-target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClearTarget {
    /// No header, or an empty one: cache and queue.
    Both,
    /// `cache`.
    Cache,
    /// `queue`.
    Queue,
}

impl ClearTarget {
    /// The header's value, compared case-insensitively.
    pub fn parse(header: Option<&str>) -> Result<ClearTarget, Fault> {
        match header.unwrap_or("").to_lowercase().as_str() {
            "" => Ok(ClearTarget::Both),
            "cache" => Ok(ClearTarget::Cache),
            "queue" => Ok(ClearTarget::Queue),
            _ => Err(Fault::BadRequest(
                "If provided 'x-image-cache-clear-target' must be 'cache', 'queue' or empty string."
                    .into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_comes_before_the_missing_cache() {
        let alice = Identity {
            project_id: Some("a".into()),
            user_id: None,
            roles: vec!["member".into(), "reader".into()],
        };
        assert_eq!(
            enforce(&alice, Rule::ListCachedNodes, true),
            Err(Fault::Forbidden(
                "You are not authorized to complete list_cached_nodes action.".into()
            ))
        );
        assert_eq!(
            enforce(&Identity::default_admin(), Rule::List, false),
            Err(Fault::NotFound(
                "Caching via API is not supported at this site.".into()
            ))
        );
        assert_eq!(
            enforce(&Identity::default_admin(), Rule::List, true),
            Ok(())
        );
    }

    #[test]
    fn clear_targets() {
        assert_eq!(ClearTarget::parse(None), Ok(ClearTarget::Both));
        assert_eq!(ClearTarget::parse(Some("")), Ok(ClearTarget::Both));
        assert_eq!(ClearTarget::parse(Some("CACHE")), Ok(ClearTarget::Cache));
        assert_eq!(ClearTarget::parse(Some("queue")), Ok(ClearTarget::Queue));
        assert!(ClearTarget::parse(Some("all")).is_err());
    }
}
