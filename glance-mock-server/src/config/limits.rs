//! Quotas: Glance's `user_storage_quota` notation and the unified limits
//! (`use_keystone_limits`) a project's images are counted against.

use serde::{Deserialize, Deserializer, Serialize};

use super::parse_storage_quota;

/// The per-project limits Glance reads from Keystone when
/// `use_keystone_limits` is on. The mock reports them with the project's
/// usage in `/v2/info/usage`; it does not refuse requests over them yet. Sizes are in MiB, as registered in
/// Keystone; a negative limit is unlimited (oslo.limit's `-1`). A limit
/// left out of the file is unlimited too (Keystone would have it
/// registered; the mock has no Keystone to ask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImageLimits {
    /// `image_size_total`: MiB of image data the project keeps, each
    /// store's copy counted.
    pub image_size_total: i64,
    /// `image_stage_total`: MiB of data in the staging area (images being
    /// uploaded, imported or copied).
    pub image_stage_total: i64,
    /// `image_count_total`: images the project owns (not deleted or killed).
    pub image_count_total: i64,
    /// `image_count_uploading`: images being uploaded, imported or copied.
    pub image_count_uploading: i64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            image_size_total: -1,
            image_stage_total: -1,
            image_count_total: -1,
            image_count_uploading: -1,
        }
    }
}

/// `user_storage_quota` from a file: a number of bytes, or a string in
/// Glance's notation (`"20B"`, `"5GB"`).
pub(super) fn storage_quota<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Quota {
        Bytes(u64),
        Notation(String),
    }
    match Quota::deserialize(d)? {
        Quota::Bytes(n) => Ok(n),
        Quota::Notation(s) => parse_storage_quota(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid user_storage_quota `{s}`: digits with an optional unit B, KB, MB, GB or TB, e.g. \"5GB\""
            ))
        }),
    }
}
