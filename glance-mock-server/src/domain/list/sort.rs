//! Sorting an image list: the sort keys as resolved once per query, their
//! values per record, and `_get_sorting_params` with `image_get_all`'s
//! tie-breakers.

use super::{SORT_KEYS, bad};
use crate::domain::Fault;
use crate::domain::Image;
use crate::domain::metadefs::query::Params;

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum SortValue<'a> {
    Null,
    Int(u64),
    Str(&'a str),
    /// The instant, as `OffsetDateTime` compares them.
    Time(i128),
}

/// A sort key, resolved from its name once per query (matching the name for
/// every comparison was a third of a list request, bench/profile list25).
#[derive(Debug, Clone, Copy)]
pub(super) enum SortKey {
    Name,
    Status,
    ContainerFormat,
    DiskFormat,
    Size,
    Id,
    CreatedAt,
    UpdatedAt,
    /// Not one of [`SORT_KEYS`] (refused when parsed).
    Other,
}

impl SortKey {
    pub(super) fn of(key: &str) -> Self {
        match key {
            "name" => SortKey::Name,
            "status" => SortKey::Status,
            "container_format" => SortKey::ContainerFormat,
            "disk_format" => SortKey::DiskFormat,
            "size" => SortKey::Size,
            "id" => SortKey::Id,
            "created_at" => SortKey::CreatedAt,
            "updated_at" => SortKey::UpdatedAt,
            _ => SortKey::Other,
        }
    }

    pub(super) fn value(self, img: &Image) -> SortValue<'_> {
        fn opt(s: &Option<String>) -> SortValue<'_> {
            s.as_deref().map_or(SortValue::Null, SortValue::Str)
        }
        match self {
            SortKey::Name => opt(&img.name),
            SortKey::Status => SortValue::Str(img.status.as_str()),
            SortKey::ContainerFormat => opt(&img.container_format),
            SortKey::DiskFormat => opt(&img.disk_format),
            SortKey::Size => img.size.map_or(SortValue::Null, SortValue::Int),
            SortKey::Id => SortValue::Str(&img.id),
            SortKey::CreatedAt => SortValue::Time(img.created_at.unix_timestamp_nanos()),
            SortKey::UpdatedAt => SortValue::Time(img.updated_at.unix_timestamp_nanos()),
            SortKey::Other => SortValue::Null,
        }
    }
}

/// `_get_sorting_params`, then `image_get_all`'s tie-breakers: the new
/// syntax (`sort`, its first value popped) or the classic one (every
/// `sort_key` and `sort_dir` popped), values stripped. The tie-breakers
/// `created_at` and `id` take the direction when exactly one was given
/// (or defaulted), `desc` otherwise.
pub(super) fn parse_sort(params: &mut Params) -> Result<Vec<(String, bool)>, Fault> {
    let check_key = |k: &str| {
        if SORT_KEYS.contains(&k) {
            Ok(k.to_owned())
        } else {
            Err(bad(format!(
                "Invalid sort key: {k}. It must be one of the following: {}.",
                SORT_KEYS.join(", ")
            )))
        }
    };
    let dir = |d: &str| match d {
        "asc" => Ok(true),
        "desc" => Ok(false),
        other => Err(bad(format!("Invalid sort direction: {other}"))),
    };
    let mut keys = Vec::new();
    let mut dirs = Vec::new();
    if params.contains("sort") {
        if params.contains("sort_key") || params.contains("sort_dir") {
            return Err(bad("Old and new sorting syntax cannot be combined"));
        }
        let spec = params.pop("sort").unwrap_or_default();
        for part in spec.trim().split(',') {
            let (k, d) = part.split_once(':').unwrap_or((part, ""));
            let d = if d.is_empty() { "desc" } else { d };
            keys.push(check_key(k.trim())?);
            dirs.push(dir(d.trim())?);
        }
    } else {
        while let Some(k) = params.pop("sort_key") {
            keys.push(check_key(k.trim())?);
        }
        while let Some(d) = params.pop("sort_dir") {
            dirs.push(dir(d.trim())?);
        }
        if dirs.len() > 1 && dirs.len() != keys.len() {
            return Err(bad(
                "Number of sort dirs does not match the number of sort keys",
            ));
        }
    }
    if keys.is_empty() {
        keys.push("created_at".into());
    }
    if dirs.is_empty() {
        dirs.push(false);
    }
    let tie = if dirs.len() == 1 { dirs[0] } else { false };
    let mut sort: Vec<(String, bool)> = keys
        .into_iter()
        .enumerate()
        .map(|(i, k)| (k, dirs.get(i).copied().unwrap_or(tie)))
        .collect();
    for key in ["created_at", "id"] {
        if !sort.iter().any(|(k, _)| k == key) {
            sort.push((key.to_owned(), tie));
        }
    }
    Ok(sort)
}
