//! `GET /v2/images`: query parsing, filters, visibility, sorting and keyset
//! paging, as Glance's `images.py:index` and the DB API do them.

use std::cmp::Ordering;
use std::sync::Arc;

use time::OffsetDateTime;

use super::{Fault, Identity, Image, ImageStatus, Visibility, policy};

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
    visibility: Option<String>,
    member_status: String,
    os_hidden: bool,
    params: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
enum Filter {
    /// A base column or extra property equal to one of the values.
    In(String, Vec<String>),
    Tag(String),
    SizeMin(u64),
    SizeMax(u64),
    Protected(bool),
    Time(String, &'static str, OffsetDateTime),
}

fn bad(msg: impl Into<String>) -> Fault {
    Fault::BadRequest(msg.into())
}

/// webob's MultiDict → dict: the last value of each key, at its first position.
pub(crate) fn collapse(params: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in params {
        match out.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = v.clone(),
            None => out.push((k.clone(), v.clone())),
        }
    }
    out
}

impl ListQuery {
    /// Parse query parameters (in request order, repeated keys kept).
    pub fn parse(
        raw: &[(String, String)],
        default_limit: usize,
        max_limit: usize,
    ) -> Result<Self, Fault> {
        let params = collapse(raw);
        let get = |k: &str| {
            params
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let limit = match get("limit") {
            None => default_limit,
            Some(v) => {
                let n: i64 = v
                    .trim()
                    .parse()
                    .map_err(|_| bad("limit param must be an integer"))?;
                if n < 0 {
                    return Err(bad("limit param must be positive"));
                }
                (n as u64).min(max_limit as u64) as usize
            }
        };
        let sort = parse_sort(raw)?;

        let mut filters = Vec::new();
        let mut visibility = None;
        let mut member_status = "accepted".to_string();
        let mut os_hidden = false;
        for (_, v) in raw.iter().filter(|(k, _)| k == "tag") {
            filters.push(Filter::Tag(v.clone()));
        }
        for (key, value) in &params {
            match key.as_str() {
                "limit" | "marker" | "sort" | "sort_key" | "sort_dir" | "tag" => {}
                "visibility" => {
                    if !["public", "private", "shared", "community", "all"]
                        .contains(&value.as_str())
                    {
                        return Err(bad(format!("Invalid visibility value: {value}")));
                    }
                    visibility = Some(value.clone());
                }
                "member_status" => {
                    if !["accepted", "pending", "rejected", "all"].contains(&value.as_str()) {
                        return Err(bad(format!("Invalid status: {value}")));
                    }
                    member_status = value.clone();
                }
                "os_hidden" => {
                    os_hidden = match value.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(bad(format!(
                                "Invalid value '{value}' for 'os_hidden' filter. Valid values are 'true' or 'false'."
                            )));
                        }
                    }
                }
                "protected" => {
                    let b = match value.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(bad(format!(
                                "Invalid value '{value}' for 'protected' filter. Valid values are 'true' or 'false'."
                            )));
                        }
                    };
                    filters.push(Filter::Protected(b));
                }
                "size_min" | "size_max" => {
                    let n: u64 = value.trim().parse().map_err(|_| {
                        bad("Unable to filter on a range with a non-numeric value.")
                    })?;
                    filters.push(if key == "size_min" {
                        Filter::SizeMin(n)
                    } else {
                        Filter::SizeMax(n)
                    });
                }
                "changes-since" => {
                    return Err(bad(
                        "The \"changes-since\" filter is no longer available on v2.",
                    ));
                }
                "created_at" | "updated_at" => {
                    let (op, when) = split_op(value);
                    let op: &'static str = ["eq", "neq", "gt", "gte", "lt", "lte"]
                        .into_iter()
                        .find(|o| *o == op)
                        .ok_or_else(|| bad("Unable to filter on a unknown operator."))?;
                    let t = super::time::parse_iso8601(when).ok_or_else(|| {
                        bad(format!(
                            "Bad \"{key}\" query filter format. Use ISO 8601 DateTime notation."
                        ))
                    })?;
                    filters.push(Filter::Time(key.clone(), op, t));
                }
                "name" | "id" | "status" | "container_format" | "disk_format" => {
                    let (op, rest) = split_op(value);
                    let values = match op {
                        "eq" => vec![rest.to_string()],
                        "in" => split_in(rest)?,
                        other => {
                            return Err(bad(format!(
                                "Unable to filter by unknown operator '{other}'."
                            )));
                        }
                    };
                    filters.push(Filter::In(key.clone(), values));
                }
                _ => filters.push(Filter::In(key.clone(), vec![value.clone()])),
            }
        }
        let keys = sort.iter().map(|(k, asc)| (SortKey::of(k), *asc)).collect();
        Ok(ListQuery {
            keys,
            limit,
            marker: get("marker").map(str::to_owned),
            sort,
            filters,
            visibility,
            member_status,
            os_hidden,
            params,
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

    /// Run the query over all images: the page `who` sees.
    pub fn run<'a>(
        &self,
        who: &Identity,
        images: &'a [Arc<Image>],
        lookup: impl Fn(&str) -> Option<Arc<Image>>,
    ) -> Result<Page<'a>, Fault> {
        let marker = match &self.marker {
            None => None,
            Some(id) => {
                let img = lookup(id)
                    .filter(|i| i.status != ImageStatus::Deleted || who.is_admin())
                    .ok_or_else(|| bad(format!("No image found with ID {id}")))?;
                if !policy::can_see(who, &img) {
                    return Err(Fault::Forbidden(format!(
                        "Forbidding request, image {id} not visible"
                    )));
                }
                Some(img)
            }
        };
        let rows: Vec<&Arc<Image>> = images
            .iter()
            .filter(|img| self.matches(who, img))
            .filter(|img| {
                marker
                    .as_ref()
                    .is_none_or(|m| self.order(img, m) == Ordering::Greater)
            })
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
        Ok(Page {
            images: rows,
            first,
            next,
        })
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

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SortValue<'a> {
    Null,
    Int(u64),
    Str(&'a str),
    /// The instant, as `OffsetDateTime` compares them.
    Time(i128),
}

/// A sort key, resolved from its name once per query (matching the name for
/// every comparison was a third of a list request, bench/profile list25).
#[derive(Debug, Clone, Copy)]
enum SortKey {
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
    fn of(key: &str) -> Self {
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

    fn value(self, img: &Image) -> SortValue<'_> {
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

fn filter_matches(f: &Filter, img: &Image) -> bool {
    match f {
        Filter::Tag(t) => img.tags.contains(t),
        Filter::SizeMin(n) => img.size.is_some_and(|s| s >= *n),
        Filter::SizeMax(n) => img.size.is_some_and(|s| s <= *n),
        Filter::Protected(b) => img.protected == *b,
        Filter::Time(key, op, t) => {
            let v = if key == "created_at" {
                img.created_at
            } else {
                img.updated_at
            };
            match *op {
                "eq" => v == *t,
                "neq" => v != *t,
                "gt" => v > *t,
                "gte" => v >= *t,
                "lt" => v < *t,
                _ => v <= *t,
            }
        }
        Filter::In(key, values) => {
            let actual: Option<String> = match key.as_str() {
                "name" => img.name.clone(),
                "id" => Some(img.id.clone()),
                "status" => Some(img.status.as_str().into()),
                "container_format" => img.container_format.clone(),
                "disk_format" => img.disk_format.clone(),
                "owner" => img.owner.clone(),
                "checksum" => img.checksum.clone(),
                "os_hash_algo" => img.os_hash_algo.clone(),
                "os_hash_value" => img.os_hash_value.clone(),
                "size" => img.size.map(|n| n.to_string()),
                "virtual_size" => img.virtual_size.map(|n| n.to_string()),
                "min_ram" => Some(img.min_ram.to_string()),
                "min_disk" => Some(img.min_disk.to_string()),
                other => img.properties.get(other).cloned(),
            };
            actual.is_some_and(|a| values.contains(&a))
        }
    }
}

/// Split `op:value`; a prefix that is not an operator is part of the value.
fn split_op(value: &str) -> (&str, &str) {
    if let Some((op, rest)) = value.split_once(':') {
        if ["eq", "neq", "gt", "gte", "lt", "lte", "in"].contains(&op) {
            return (op, rest);
        }
    }
    ("eq", value)
}

/// Split an `in:` list on commas, with double quotes protecting commas.
fn split_in(list: &str) -> Result<Vec<String>, Fault> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in list.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(bad(format!(
            "Invalid filter value {list}. The quote is not closed."
        )));
    }
    out.push(cur);
    Ok(out)
}

fn parse_sort(raw: &[(String, String)]) -> Result<Vec<(String, bool)>, Fault> {
    let new: Vec<&str> = raw
        .iter()
        .filter(|(k, _)| k == "sort")
        .map(|(_, v)| v.as_str())
        .collect();
    let keys: Vec<&str> = raw
        .iter()
        .filter(|(k, _)| k == "sort_key")
        .map(|(_, v)| v.as_str())
        .collect();
    let dirs: Vec<&str> = raw
        .iter()
        .filter(|(k, _)| k == "sort_dir")
        .map(|(_, v)| v.as_str())
        .collect();
    if !new.is_empty() && (!keys.is_empty() || !dirs.is_empty()) {
        return Err(bad("Old and new sorting syntax cannot be combined"));
    }
    let check_key = |k: &str| {
        if SORT_KEYS.contains(&k) {
            Ok(())
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
    let mut sort: Vec<(String, bool)> = Vec::new();
    if let Some(spec) = new.last() {
        for part in spec.split(',') {
            let (k, d) = part.split_once(':').unwrap_or((part, "desc"));
            let (k, d) = (k.trim(), d.trim());
            check_key(k)?;
            sort.push((k.to_string(), dir(d)?));
        }
    } else {
        for k in &keys {
            check_key(k)?;
        }
        let dirs: Vec<bool> = dirs.iter().map(|d| dir(d)).collect::<Result<_, _>>()?;
        if dirs.len() > 1 && dirs.len() != keys.len() {
            return Err(bad(
                "Number of sort dirs does not match the number of sort keys",
            ));
        }
        let keys = if keys.is_empty() {
            vec!["created_at"]
        } else {
            keys
        };
        for (i, k) in keys.iter().enumerate() {
            let asc = match dirs.len() {
                0 => false,
                1 => dirs[0],
                _ => dirs[i],
            };
            sort.push((k.to_string(), asc));
        }
    }
    let first_dir = sort.first().is_some_and(|(_, a)| *a);
    for tie in ["created_at", "id"] {
        if !sort.iter().any(|(k, _)| k == tie) {
            sort.push((tie.to_string(), first_dir));
        }
    }
    Ok(sort)
}

/// Python's `urlencode` with `quote_plus`.
pub(crate) fn urlencode<'a>(pairs: impl Iterator<Item = &'a (String, String)>) -> String {
    pairs
        .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Result<ListQuery, Fault> {
        let raw: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ListQuery::parse(&raw, 25, 1000)
    }

    #[test]
    fn the_page_is_the_head_of_everything_sorted() {
        let t0 = crate::domain::time::now();
        let mut rng = fastrand::Rng::with_seed(7);
        let records: Vec<Arc<Image>> = (0..60)
            .map(|i| {
                let mut img = Image::new(format!("id-{:02}", rng.u8(..)), None, t0);
                img.id.push_str(&i.to_string());
                img.name = (rng.u8(..4) > 0).then(|| format!("n{}", rng.u8(..5)));
                img.size = (rng.bool()).then(|| rng.u64(..4));
                img.created_at = t0 + time::Duration::seconds(rng.i64(0..3));
                img.updated_at = img.created_at + time::Duration::seconds(rng.i64(0..3));
                Arc::new(img)
            })
            .collect();
        let refs: Vec<&Arc<Image>> = records.iter().collect();
        for sort in [
            vec![],
            vec![("sort", "name:asc,size:desc")],
            vec![("sort_key", "size"), ("sort_dir", "asc")],
            vec![("sort", "updated_at:desc")],
            vec![("sort", "created_at:asc,name:desc,size:asc")],
        ] {
            for limit in ["0", "1", "7", "59", "60", "100"] {
                let mut pairs = sort.clone();
                pairs.push(("limit", limit));
                let query = q(&pairs).expect("parses");
                let mut all = refs.clone();
                all.sort_by(|a, b| query.order(a, b));
                all.truncate(query.limit);
                let page = query.page(refs.clone());
                let ids = |v: &[&Arc<Image>]| v.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
                assert_eq!(ids(&page), ids(&all), "{pairs:?}");
            }
        }
    }

    #[test]
    fn sort_defaults_and_tie_breakers() {
        let query = q(&[]).expect("parses");
        assert_eq!(
            query.sort,
            vec![("created_at".into(), false), ("id".into(), false)]
        );
        let query = q(&[("sort", "name:asc")]).expect("parses");
        assert_eq!(query.sort[0], ("name".into(), true));
        assert_eq!(query.sort[2], ("id".into(), true));
    }

    #[test]
    fn bad_queries_are_400() {
        assert!(q(&[("limit", "-1")]).is_err());
        assert!(q(&[("limit", "abc")]).is_err());
        assert!(q(&[("sort", "nope")]).is_err());
        assert!(q(&[("sort", "name"), ("sort_key", "name")]).is_err());
        assert!(q(&[("size_min", "big")]).is_err());
        assert!(q(&[("name", "gt:x")]).is_err());
    }

    mod visibility {
        use super::*;
        use crate::domain::image::Member;
        use crate::domain::time::now;

        fn who(project: &str, roles: &[&str]) -> Identity {
            Identity {
                project_id: Some(project.into()),
                user_id: None,
                roles: roles.iter().map(|r| r.to_string()).collect(),
            }
        }

        fn image(id: &str, owner: &str, visibility: Visibility) -> Arc<Image> {
            let mut img = Image::new(id.into(), Some(owner.into()), now());
            img.visibility = visibility;
            Arc::new(img)
        }

        /// alice's images: one of each visibility, `shared-*` shared with
        /// bob in the status the id names.
        fn images() -> Vec<Arc<Image>> {
            let mut all = vec![
                image("public", "alice", Visibility::Public),
                image("community", "alice", Visibility::Community),
                image("private", "alice", Visibility::Private),
                image("shared-none", "alice", Visibility::Shared),
            ];
            for status in ["pending", "accepted", "rejected"] {
                let mut img = Image::new(format!("shared-{status}"), Some("alice".into()), now());
                let mut m = Member::new("bob".into(), now());
                m.status = status.into();
                img.members.push(m);
                all.push(Arc::new(img));
            }
            let mut removed = Image::new("shared-removed".into(), Some("alice".into()), now());
            let mut m = Member::new("bob".into(), now());
            m.status = "accepted".into();
            m.deleted = true;
            removed.members.push(m);
            all.push(Arc::new(removed));
            all
        }

        fn listed(who: &Identity, pairs: &[(&str, &str)]) -> Vec<String> {
            let all = images();
            let page = q(pairs)
                .expect("parses")
                .run(who, &all, |_| None)
                .expect("runs");
            let mut ids: Vec<String> = page.images.iter().map(|i| i.id.clone()).collect();
            ids.sort();
            ids
        }

        #[test]
        fn members_list_shared_images_by_member_status() {
            let bob = who("bob", &["member", "reader"]);
            assert_eq!(listed(&bob, &[]), ["public", "shared-accepted"]);
            assert_eq!(
                listed(&bob, &[("member_status", "pending")]),
                ["public", "shared-pending"]
            );
            assert_eq!(
                listed(&bob, &[("member_status", "all"), ("visibility", "shared")]),
                ["shared-accepted", "shared-pending", "shared-rejected"]
            );
            assert_eq!(
                listed(&bob, &[("visibility", "all")]),
                ["community", "public", "shared-accepted"]
            );
        }

        #[test]
        fn owners_and_admins_list_everything_but_others_community_images() {
            let alice = who("alice", &["member", "reader"]);
            assert_eq!(listed(&alice, &[]).len(), 8);
            let admin = who("admin", &["admin"]);
            let all = listed(&admin, &[]);
            assert_eq!(all.len(), 7);
            assert!(!all.contains(&"community".to_string()));
            assert_eq!(listed(&admin, &[("visibility", "all")]).len(), 8);
            let carol = who("carol", &["reader"]);
            assert_eq!(listed(&carol, &[]), ["public"]);
            assert_eq!(
                listed(&carol, &[("visibility", "community")]),
                ["community"]
            );
            assert!(listed(&carol, &[("visibility", "private")]).is_empty());
        }
    }

    #[test]
    fn links_collapse_repeated_keys_like_webob() {
        assert_eq!(quote_plus("name:asc,x y"), "name%3Aasc%2Cx+y");
        let c = collapse(&[
            ("tag".into(), "x".into()),
            ("sort".into(), "name".into()),
            ("tag".into(), "all".into()),
        ]);
        assert_eq!(c[0], ("tag".into(), "all".into()));
    }
}
