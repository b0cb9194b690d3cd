//! The image cache API (`/v2/cache...`) of a deployment without an image
//! cache, as the reference deployment is (no `image_cache_dir`): every call
//! is refused, and the order of the checks decides with which answer.
//!
//! * The cache policies (`cache_list`, `cache_delete`, `cache_image`,
//!   `list_cached_nodes`, ...) are admin-only and checked first: 403.
//! * Then 404 `Caching via API is not supported at this site.`
//! * `PUT`/`DELETE /v2/cache/{id}` first look the image up (by DB
//!   visibility only): `PUT` answers 404 `Image <id> not found.`, while
//!   `DELETE` then asks the missing cache whether it holds the image and
//!   fails (500).
//! * `POST /v2/cache/clean` and `/prune` take an external lock before
//!   anything else; without a `lock_path` configured (as in the reference
//!   deployment) that fails for everyone (500).

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
            Rule::ListCachedNodes => "list_cached_nodes",
        }
    }
}

/// `CacheController._enforce`: the admin-only policy, then the missing
/// cache. Never `Ok`: the mock has no cache.
pub fn enforce(who: &Identity, rule: Rule) -> Result<(), Fault> {
    if !who.is_admin() {
        return Err(Fault::Forbidden(format!(
            "You are not authorized to complete {} action.",
            rule.name()
        )));
    }
    Err(Fault::NotFound(
        "Caching via API is not supported at this site.".into(),
    ))
}

/// `PUT /v2/cache/{id}` for an image the caller cannot see.
pub fn image_not_found(id: &str) -> Fault {
    Fault::NotFound(format!("Image {id} not found."))
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
            enforce(&alice, Rule::ListCachedNodes),
            Err(Fault::Forbidden(
                "You are not authorized to complete list_cached_nodes action.".into()
            ))
        );
        assert_eq!(
            enforce(&Identity::default_admin(), Rule::List),
            Err(Fault::NotFound(
                "Caching via API is not supported at this site.".into()
            ))
        );
    }
}
