//! `GET /v2/images`: query parsing, filters, visibility, sorting and keyset
//! paging, as Glance's `images.py:index` and the DB API do them.

use std::cmp::Ordering;
use std::sync::Arc;

use super::metadefs::query::{Params, python_int};
use super::{Fault, Identity, Image, ImageStatus, Visibility, policy};

mod filter;
mod sort;

use filter::{Column, Filter, filter_matches, split_filter_op, split_in};
use sort::{SortKey, SortValue, parse_sort};

/// Keys `sort`/`sort_key` accept.
pub const SORT_KEYS: &[&str] = &[
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "id",
    "created_at",
    "updated_at",
];

/// A parsed list request.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Page size after clamping.
    pub limit: usize,
    /// Id of the last image of the previous page.
    pub marker: Option<String>,
    /// Sort keys with ascending flags, tie-breakers included.
    pub sort: Vec<(String, bool)>,
    /// `sort` with each key resolved once, for comparing.
    keys: Vec<(SortKey, bool)>,
    filters: Vec<Filter>,
    /// The first `visibility` (`image_get_all` pops it; any other is a
    /// column filter).
    visibility: Option<String>,
    member_status: String,
    os_hidden: bool,
    params: Vec<(String, String)>,
}

/// The `Image` model's relationships: comparing one with a value fails
/// in SQLAlchemy (Glance answers 500).
const RELATIONSHIPS: &[&str] = &["tags", "properties", "locations", "members"];

const VISIBILITIES: &[&str] = &["community", "public", "private", "shared", "all"];

const MEMBER_STATUSES: &[&str] = &["pending", "accepted", "rejected", "all"];

pub(super) fn bad(msg: impl Into<String>) -> Fault {
    Fault::BadRequest(msg.into())
}

/// webob's MultiDict → dict: the last value of each key, at its first position.
pub(crate) fn collapse(params: &[(String, String)]) -> Vec<(String, String)> {
    Params(params.to_vec()).to_dict()
}

impl ListQuery {
    /// Parse query parameters (in request order, repeated keys kept) as
    /// Glance reads them, step by step on one webob `MultiDict`: `pop`
    /// takes a key's first value (the others stay, and end up as filters
    /// on a property of that name), `get` and `dict()` the last one.
    ///
    /// - the deserializer pops `limit`, `marker`, `member_status` and every
    ///   `tag`, checks the last `visibility` and `changes-since`, then the
    ///   member status and the limit, then pops the sort keys;
    /// - the controller replaces `deleted`, `os_hidden` and `protected`;
    /// - `image_get_all` pops `visibility` and `_make_conditions_from_filters`
    ///   pops `checksum`, `os_hash_value`, `properties`, `changes-since` and
    ///   `tags`, then reads the rest as a dict, in order: `*_min`/`*_max`,
    ///   the time columns, the operator columns, then columns and properties.
    pub fn parse(
        raw: &[(String, String)],
        default_limit: usize,
        max_limit: usize,
    ) -> Result<Self, Fault> {
        let mut params = Params(raw.to_vec());
        // RequestDeserializer.index
        let limit = params.pop("limit");
        let marker = params.pop("marker");
        let member_status = params
            .pop("member_status")
            .unwrap_or_else(|| "accepted".into());
        let mut tags = Vec::new();
        while let Some(tag) = params.pop("tag") {
            tags.push(tag.trim().to_owned());
        }
        if let Some(v) = params.get("visibility").filter(|v| !v.is_empty()) {
            if !VISIBILITIES.contains(&v) {
                return Err(bad(format!("Invalid visibility value: {v}")));
            }
        }
        if params.get("changes-since").is_some_and(|v| !v.is_empty()) {
            return Err(bad(
                "The \"changes-since\" filter is no longer available on v2.",
            ));
        }
        if !MEMBER_STATUSES.contains(&member_status.as_str()) {
            return Err(bad(format!("Invalid status: {member_status}")));
        }
        let limit = match limit {
            None => default_limit,
            Some(v) => {
                let n = python_int(&v).ok_or_else(|| bad("limit param must be an integer"))?;
                if n < 0 {
                    return Err(bad("limit param must be positive"));
                }
                usize::try_from(n).unwrap_or(usize::MAX).min(max_limit)
            }
        };
        if !tags.is_empty() {
            params.remove_all("tags");
        }
        let sort = parse_sort(&mut params)?;

        // ImagesController.index
        params.remove_all("deleted");
        let os_hidden = match params
            .get("os_hidden")
            .unwrap_or("false")
            .to_lowercase()
            .as_str()
        {
            "true" => true,
            "false" => false,
            other => {
                return Err(bad(format!(
                    "Invalid value '{other}' for 'os_hidden' filter. Valid values are 'true' or 'false'."
                )));
            }
        };
        params.remove_all("os_hidden");
        let protected = match params.get("protected") {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => {
                return Err(bad(format!(
                    "Invalid value '{other}' for 'protected' filter. Valid values are 'true' or 'false'."
                )));
            }
        };
        params.remove_all("protected");

        // image_get_all, _make_conditions_from_filters
        let visibility = params.pop("visibility");
        let mut filters = Vec::new();
        for (key, column) in [
            ("checksum", Column::Checksum),
            ("os_hash_value", Column::OsHashValue),
        ] {
            if let Some(v) = params.pop(key) {
                filters.push(Filter::Equals(column, v));
            }
        }
        // A `properties` text has no `.items()`; a `changes-since` text
        // cannot be normalised as a datetime.
        if params.contains("properties") || params.contains("changes-since") {
            return Err(Fault::internal());
        }
        if tags.is_empty() {
            // A `tags` parameter itself is iterated: one tag per character.
            if let Some(text) = params.pop("tags") {
                tags = text.chars().map(String::from).collect();
            }
        }
        filters.extend(tags.into_iter().map(Filter::Tag));
        filters.extend(protected.map(Filter::Protected));
        let mut rest = Vec::new();
        for (key, value) in params.to_dict() {
            if let Some(name) = key
                .strip_suffix("_min")
                .or_else(|| key.strip_suffix("_max"))
            {
                let bound = python_int(&value)
                    .ok_or_else(|| bad("Unable to filter on a range with a non-numeric value."))?;
                let column = Column::of(name).ok_or_else(Fault::internal)?;
                let min = key.ends_with("_min");
                filters.push(Filter::Range { column, min, bound });
            } else if key == "created_at" || key == "updated_at" {
                let (op, when) = split_filter_op(&value);
                let t = super::time::parse_iso8601(when).ok_or_else(|| {
                    bad(format!(
                        "Bad \"{key}\" query filter format. Use ISO 8601 DateTime notation."
                    ))
                })?;
                let op: &'static str = ["eq", "neq", "gt", "gte", "lt", "lte"]
                    .into_iter()
                    .find(|o| *o == op)
                    .ok_or_else(|| bad("Unable to filter on a unknown operator."))?;
                let column = Column::of(&key).ok_or_else(Fault::internal)?;
                filters.push(Filter::Time(column, op, t));
            } else if ["name", "id", "status", "container_format", "disk_format"]
                .contains(&key.as_str())
            {
                let (op, rest) = split_filter_op(&value);
                let values = match op {
                    "in" => split_in(rest)?,
                    "eq" => vec![rest.to_owned()],
                    other => {
                        return Err(bad(format!(
                            "Unable to filter by unknown operator '{other}'."
                        )));
                    }
                };
                let column = Column::of(&key).ok_or_else(Fault::internal)?;
                filters.push(Filter::OneOf(column, values));
            } else {
                rest.push((key, value));
            }
        }
        for (key, value) in rest {
            if RELATIONSHIPS.contains(&key.as_str()) {
                return Err(Fault::internal());
            }
            filters.push(match Column::of(&key) {
                Some(column) => Filter::Equals(column, value),
                None => Filter::Property(key, value),
            });
        }
        let keys = sort.iter().map(|(k, asc)| (SortKey::of(k), *asc)).collect();
        Ok(ListQuery {
            keys,
            limit,
            marker,
            sort,
            filters,
            visibility,
            member_status,
            os_hidden,
            params: collapse(raw),
        })
    }
    fn matches(&self, who: &Identity, img: &Image) -> bool {
        if matches!(img.status, ImageStatus::Deleted | ImageStatus::Killed) {
            return false;
        }
        let project = who.project_id.as_deref();
        let own = project.is_some() && img.owner.as_deref() == project;
        let member_ok = |img: &Image| {
            project
                .and_then(|p| img.member(p))
                .is_some_and(|m| self.member_status == "all" || m.status == self.member_status)
        };
        let candidate = who.is_admin()
            || matches!(img.visibility, Visibility::Public | Visibility::Community)
            || own
            || (img.visibility == Visibility::Shared && member_ok(img));
        if !candidate {
            return false;
        }
        match self.visibility.as_deref() {
            None => {
                if img.visibility == Visibility::Community && !own {
                    return false;
                }
            }
            Some("all") => {}
            Some(v) => {
                if img.visibility.as_str() != v {
                    return false;
                }
                // An admin asking for shared images sees only those shared with it or its own.
                if v == "shared" && !own && !who.is_admin() && !member_ok(img) {
                    return false;
                }
            }
        }
        if img.os_hidden != self.os_hidden {
            return false;
        }
        self.filters.iter().all(|f| filter_matches(f, img)) && policy::can_see(who, img)
    }

    /// Compare two images by the sort keys.
    fn order(&self, a: &Image, b: &Image) -> Ordering {
        for (key, asc) in &self.keys {
            let o = key.value(a).cmp(&key.value(b));
            let o = if *asc { o } else { o.reverse() };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }

    /// The first `limit` of `rows` in the query's order.
    ///
    /// Each row's sort values are read once into one flat table and the
    /// rows sorted by index into it (comparing records key by key, each
    /// comparison reading the fields again, was a third of a list request,
    /// bench/profile list25). Only the page is sorted: the first `limit`
    /// rows are selected first. Glance's keys end with `id`, so rows never
    /// tie and the page is the same as sorting everything.
    fn page<'a>(&self, rows: Vec<&'a Arc<Image>>) -> Vec<&'a Arc<Image>> {
        let width = self.keys.len();
        let values: Vec<SortValue<'a>> = rows
            .iter()
            .flat_map(|r| self.keys.iter().map(|(key, _)| key.value(r)))
            .collect();
        let cmp = |a: &usize, b: &usize| {
            let (a, b) = (&values[a * width..][..width], &values[b * width..][..width]);
            for ((va, vb), (_, asc)) in a.iter().zip(b).zip(&self.keys) {
                let o = va.cmp(vb);
                if o != Ordering::Equal {
                    return if *asc { o } else { o.reverse() };
                }
            }
            Ordering::Equal
        };
        let mut order: Vec<usize> = (0..rows.len()).collect();
        if self.limit < order.len() {
            order.select_nth_unstable_by(self.limit, cmp);
            order.truncate(self.limit);
        }
        order.sort_unstable_by(cmp);
        order.into_iter().map(|i| rows[i]).collect()
    }

    /// Run the query over all images: the page `who` sees, after
    /// `marker` (the image `self.marker` names, looked up and checked by
    /// the repository's `image_get_all`).
    pub fn run_after<'a>(
        &self,
        who: &Identity,
        images: &'a [Arc<Image>],
        marker: Option<&Image>,
    ) -> Page<'a> {
        let rows: Vec<&Arc<Image>> = images
            .iter()
            .filter(|img| self.matches(who, img))
            .filter(|img| marker.is_none_or(|m| self.order(img, m) == Ordering::Greater))
            .collect();
        let rows = self.page(rows);

        let kept: Vec<&(String, String)> =
            self.params.iter().filter(|(k, _)| k != "marker").collect();
        let first = if kept.is_empty() {
            "/v2/images".to_string()
        } else {
            format!("/v2/images?{}", urlencode(kept.iter().copied()))
        };
        let next = match rows.last() {
            Some(last) if self.limit > 0 && rows.len() == self.limit => {
                let marker = ("marker".to_string(), last.id.clone());
                let next = urlencode(kept.iter().copied().chain(std::iter::once(&marker)));
                Some(format!("/v2/images?{next}"))
            }
            _ => None,
        };
        Page {
            images: rows,
            first,
            next,
        }
    }
}

/// One page of a listing: the images in order and the links around them.
#[derive(Debug)]
pub struct Page<'a> {
    /// The page's images, in the query's order.
    pub images: Vec<&'a Arc<Image>>,
    /// The link to the listing's first page (`/v2/images?…`).
    pub first: String,
    /// The link to the next page, when this one is full.
    pub next: Option<String>,
}

/// Python's `urlencode` with `quote_plus` (the one the metadefs lists use).
pub(crate) use super::metadefs::query::urlencode;

#[cfg(test)]
mod tests;
