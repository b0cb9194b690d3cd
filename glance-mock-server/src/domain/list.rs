//! `GET /v2/images`: query parsing, filters, visibility, sorting and keyset
//! paging, as Glance's `images.py:index` and the DB API do them.

use std::cmp::Ordering;
use std::sync::Arc;

use time::OffsetDateTime;

use super::metadefs::query::{Params, python_int};
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
    /// The first `visibility` (`image_get_all` pops it; any other is a
    /// column filter).
    visibility: Option<String>,
    member_status: String,
    os_hidden: bool,
    params: Vec<(String, String)>,
}

/// A condition `_make_conditions_from_filters` builds.
#[derive(Debug, Clone)]
enum Filter {
    /// `name`, `id`, `status`, `container_format`, `disk_format`: `eq:` or
    /// `in:` (the column is one of the values).
    OneOf(Column, Vec<String>),
    /// Any other column: `column = 'value'` as SQLite compares them.
    Equals(Column, String),
    /// `<column>_min` / `<column>_max`: the column against an integer.
    Range {
        column: Column,
        min: bool,
        bound: i64,
    },
    /// `created_at` / `updated_at` with an operator.
    Time(Column, &'static str, OffsetDateTime),
    /// Not a column: an extra property equal to the value.
    Property(String, String),
    Tag(String),
    Protected(bool),
}

/// A column of Glance's `images` table (`hasattr(models.Image, key)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Id,
    Name,
    Status,
    Visibility,
    Checksum,
    OsHashAlgo,
    OsHashValue,
    Owner,
    DiskFormat,
    ContainerFormat,
    Size,
    VirtualSize,
    MinDisk,
    MinRam,
    Protected,
    OsHidden,
    Deleted,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

/// A column's value as SQLite holds it: booleans as 0/1, datetimes as text.
enum Sql<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    /// A datetime (stored as `YYYY-MM-DD HH:MM:SS.ffffff` text).
    Time,
}

impl Column {
    fn of(name: &str) -> Option<Column> {
        Some(match name {
            "id" => Column::Id,
            "name" => Column::Name,
            "status" => Column::Status,
            "visibility" => Column::Visibility,
            "checksum" => Column::Checksum,
            "os_hash_algo" => Column::OsHashAlgo,
            "os_hash_value" => Column::OsHashValue,
            "owner" => Column::Owner,
            "disk_format" => Column::DiskFormat,
            "container_format" => Column::ContainerFormat,
            "size" => Column::Size,
            "virtual_size" => Column::VirtualSize,
            "min_disk" => Column::MinDisk,
            "min_ram" => Column::MinRam,
            "protected" => Column::Protected,
            "os_hidden" => Column::OsHidden,
            "deleted" => Column::Deleted,
            "created_at" => Column::CreatedAt,
            "updated_at" => Column::UpdatedAt,
            "deleted_at" => Column::DeletedAt,
            _ => return None,
        })
    }

    fn value(self, img: &Image) -> Sql<'_> {
        fn text(s: &Option<String>) -> Sql<'_> {
            s.as_deref().map_or(Sql::Null, Sql::Text)
        }
        let int = |n: Option<u64>| n.map_or(Sql::Null, |n| Sql::Int(n as i64));
        match self {
            Column::Id => Sql::Text(&img.id),
            Column::Name => text(&img.name),
            Column::Status => Sql::Text(img.status.as_str()),
            Column::Visibility => Sql::Text(img.visibility.as_str()),
            Column::Checksum => text(&img.checksum),
            Column::OsHashAlgo => text(&img.os_hash_algo),
            Column::OsHashValue => text(&img.os_hash_value),
            Column::Owner => text(&img.owner),
            Column::DiskFormat => text(&img.disk_format),
            Column::ContainerFormat => text(&img.container_format),
            Column::Size => int(img.size),
            Column::VirtualSize => int(img.virtual_size),
            Column::MinDisk => Sql::Int(img.min_disk),
            Column::MinRam => Sql::Int(img.min_ram),
            Column::Protected => Sql::Int(i64::from(img.protected)),
            Column::OsHidden => Sql::Int(i64::from(img.os_hidden)),
            // Listed images are never deleted.
            Column::Deleted => Sql::Int(0),
            Column::DeletedAt => Sql::Null,
            Column::CreatedAt | Column::UpdatedAt => Sql::Time,
        }
    }
}

/// The `Image` model's relationships: comparing one with a value fails
/// in SQLAlchemy (Glance answers 500).
const RELATIONSHIPS: &[&str] = &["tags", "properties", "locations", "members"];

const VISIBILITIES: &[&str] = &["community", "public", "private", "shared", "all"];

const MEMBER_STATUSES: &[&str] = &["pending", "accepted", "rejected", "all"];

fn bad(msg: impl Into<String>) -> Fault {
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
        Filter::Protected(b) => img.protected == *b,
        Filter::Time(column, op, t) => {
            let v = if *column == Column::CreatedAt {
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
        Filter::OneOf(column, values) => match column.value(img) {
            Sql::Text(s) => values.iter().any(|v| v == s),
            _ => false,
        },
        Filter::Equals(column, wanted) => match column.value(img) {
            Sql::Null | Sql::Time => false,
            Sql::Text(s) => s == wanted,
            // An integer column converts a text that reads as a number.
            Sql::Int(n) => sqlite_number(wanted).is_some_and(|w| w == n as f64),
        },
        Filter::Range { column, min, bound } => {
            let o = match column.value(img) {
                Sql::Null => return false,
                Sql::Int(n) => n.cmp(bound),
                // A text column compares the bound as text.
                Sql::Text(s) => s.as_bytes().cmp(bound.to_string().as_bytes()),
                // Any text sorts after any integer in SQLite.
                Sql::Time => Ordering::Greater,
            };
            if *min { o.is_ge() } else { o.is_le() }
        }
        Filter::Property(key, wanted) => img.properties.get(key) == Some(wanted),
    }
}

/// SQLite's numeric reading of a text compared with an integer column:
/// surrounding spaces, a sign, digits with an optional fraction and
/// exponent (`0100`, `100.0`, `1e2`). `None` when it stays text.
fn sqlite_number(text: &str) -> Option<f64> {
    let t = text.trim_matches([' ', '\t', '\n', '\r', '\x0c']);
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) || !exponent_ok {
        return None;
    }
    t.parse().ok()
}

/// `glance.common.utils.split_filter_op`: the text before the first `:`
/// is the operator, unless the whole value reads as an ISO 8601 time.
fn split_filter_op(value: &str) -> (&str, &str) {
    match value.split_once(':') {
        Some((op, rest)) if super::time::parse_iso8601(value).is_none() => (op, rest),
        _ => ("eq", value),
    }
}

/// `split_filter_value_for_quotes`: the quotes checked
/// (`validate_quotes`), then the list split on commas, a double-quoted
/// item kept whole (backslash escapes in it kept as they are).
fn split_in(list: &str) -> Result<Vec<String>, Fault> {
    let chars: Vec<char> = list.chars().collect();
    let mut open = true;
    for (i, c) in chars.iter().enumerate() {
        if *c != '"' || (i > 0 && chars[i - 1] == '\\') {
            continue;
        }
        if open && i > 0 && chars[i - 1] != ',' {
            return Err(bad(format!(
                "Invalid filter value {list}. There is no comma before opening quotation mark."
            )));
        }
        if !open && i + 1 != chars.len() && chars[i + 1] != ',' {
            return Err(bad(format!(
                "Invalid filter value {list}. There is no comma after closing quotation mark."
            )));
        }
        open = !open;
    }
    if !open {
        return Err(bad(format!(
            "Invalid filter value {list}. The quote is not closed."
        )));
    }
    // re.findall(r'"([^"\\]*(?:\\.[^"\\]*)*)",?|([^,]+),?|,', list)
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '"' {
            if let Some((item, end)) = quoted(&chars, i + 1) {
                out.push(item);
                i = end + usize::from(chars.get(end) == Some(&','));
                continue;
            }
        }
        if chars[i] == ',' {
            out.push(String::new());
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i] != ',' {
            i += 1;
        }
        out.push(chars[start..i].iter().collect());
        i += usize::from(i < chars.len());
    }
    Ok(out)
}

/// The inside of a double-quoted item starting at `from` (just after the
/// quote) and the index after its closing quote; `None` if it never closes.
fn quoted(chars: &[char], from: usize) -> Option<(String, usize)> {
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '"' => return Some((chars[from..i].iter().collect(), i + 1)),
            '\\' if i + 1 < chars.len() && chars[i + 1] != '\n' => i += 2,
            '\\' => return None,
            _ => i += 1,
        }
    }
    None
}

/// `_get_sorting_params`, then `image_get_all`'s tie-breakers: the new
/// syntax (`sort`, its first value popped) or the classic one (every
/// `sort_key` and `sort_dir` popped), values stripped. The tie-breakers
/// `created_at` and `id` take the direction when exactly one was given
/// (or defaulted), `desc` otherwise.
fn parse_sort(params: &mut Params) -> Result<Vec<(String, bool)>, Fault> {
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
        // Any prefix before a colon is an operator, unless the value is a time.
        assert!(q(&[("name", "lq-a:x")]).is_err());
        assert!(q(&[("name", "2000-01-01T00:00:00Z")]).is_ok());
    }

    fn message(pairs: &[(&str, &str)]) -> String {
        match q(pairs) {
            Err(Fault::BadRequest(m)) => m,
            other => panic!("{pairs:?}: {other:?}"),
        }
    }

    #[test]
    fn errors_come_in_glances_order() {
        // The deserializer checks visibility, then member status, then limit,
        // then sorting; the controller os_hidden; the DB the filters in order.
        let limit = "limit param must be an integer";
        assert!(message(&[("visibility", "x"), ("limit", "x")]).starts_with("Invalid visibility"));
        assert!(message(&[("member_status", "x"), ("limit", "x")]).starts_with("Invalid status"));
        assert_eq!(message(&[("limit", "x"), ("sort", "bogus")]), limit);
        assert!(message(&[("sort", "bogus"), ("os_hidden", "x")]).starts_with("Invalid sort key"));
        assert!(message(&[("name", "gt:x"), ("size_min", "x")]).starts_with("Unable to filter by"));
        assert!(
            message(&[("size_min", "x"), ("name", "gt:x")])
                .starts_with("Unable to filter on a range")
        );
        // A time's format is checked before its operator.
        assert!(message(&[("updated_at", "bogus:x")]).starts_with("Bad \"updated_at\""));
        assert_eq!(
            message(&[("updated_at", "bogus:2000-01-01T00:00:00Z")]),
            "Unable to filter on a unknown operator."
        );
        for crash in [
            ("changes-since", ""),
            ("properties", "x"),
            ("foo_min", "1"),
            ("locations", "x"),
            ("members", "x"),
        ] {
            assert!(matches!(q(&[crash]), Err(Fault::Internal(_))), "{crash:?}");
        }
    }

    #[test]
    fn repeated_keys_follow_the_multidict() {
        // `pop` takes the first value; the others stay as property filters.
        let parsed = q(&[("limit", "1"), ("limit", "x")]).expect("parses");
        assert_eq!(parsed.limit, 1);
        assert!(
            matches!(&parsed.filters[..], [Filter::Property(k, v)] if k == "limit" && v == "x")
        );
        // visibility: the last is checked, the first selects, the rest filter.
        assert!(q(&[("visibility", "bogus"), ("visibility", "public")]).is_ok());
        assert!(q(&[("visibility", "public"), ("visibility", "bogus")]).is_err());
        let parsed = q(&[("visibility", "public"), ("visibility", "private")]).expect("parses");
        assert_eq!(parsed.visibility.as_deref(), Some("public"));
        assert!(
            matches!(&parsed.filters[..], [Filter::Equals(Column::Visibility, v)] if v == "private")
        );
        // Every tag must be there; a `tags` text is one tag per character.
        let parsed = q(&[("tags", "ab")]).expect("parses");
        assert_eq!(parsed.filters.len(), 2);
        assert!(q(&[("tag", "a"), ("tags", "x"), ("tags", "y")]).is_ok());
        // os_hidden and protected: the last value.
        assert!(
            q(&[("os_hidden", "x"), ("os_hidden", "TRUE")])
                .expect("parses")
                .os_hidden
        );
        assert!(q(&[("member_status", "x"), ("member_status", "all")]).is_err());
        assert!(q(&[("member_status", "all"), ("member_status", "x")]).is_ok());
    }

    #[test]
    fn tie_breakers_take_the_one_direction_given() {
        let ties = |pairs: &[(&str, &str)]| q(pairs).expect("parses").sort[2..].to_vec();
        let desc = vec![("created_at".to_string(), false), ("id".to_string(), false)];
        let asc = vec![("created_at".to_string(), true), ("id".to_string(), true)];
        assert_eq!(ties(&[("sort", "status:asc,size:asc")]), desc);
        assert_eq!(
            ties(&[
                ("sort_key", "status"),
                ("sort_key", "size"),
                ("sort_dir", "asc")
            ]),
            asc
        );
        assert_eq!(
            ties(&[
                ("sort_key", "status"),
                ("sort_key", "size"),
                ("sort_dir", "asc"),
                ("sort_dir", "asc")
            ]),
            desc
        );
        // An empty direction is the default; values are stripped.
        assert_eq!(
            q(&[("sort", " name: ")]).expect("parses").sort[0],
            ("name".into(), false)
        );
    }

    #[test]
    fn in_lists_split_like_glance() {
        let split = |s: &str| split_in(s).expect("splits");
        assert_eq!(split(""), Vec::<String>::new());
        assert_eq!(split("a,"), ["a"]);
        assert_eq!(split(",a,,b"), ["", "a", "", "b"]);
        assert_eq!(split("\"a,x\",b"), ["a,x", "b"]);
        assert_eq!(split("\"\""), [""]);
        assert_eq!(split("\"a\\\"b\""), ["a\\\"b"]);
        for (list, why) in [
            ("\"a", "The quote is not closed."),
            ("x\"a\"", "There is no comma before opening quotation mark."),
            ("\"a\"x", "There is no comma after closing quotation mark."),
        ] {
            match split_in(list) {
                Err(Fault::BadRequest(m)) => assert!(m.ends_with(why), "{m}"),
                other => panic!("{list}: {other:?}"),
            }
        }
    }

    #[test]
    fn integer_columns_read_text_as_sqlite_does() {
        assert_eq!(sqlite_number("0100"), Some(100.0));
        assert_eq!(sqlite_number(" 100.0 "), Some(100.0));
        assert_eq!(sqlite_number("1e2"), Some(100.0));
        assert_eq!(sqlite_number("-.5"), Some(-0.5));
        for text in ["", "x", "1x", ".", "inf", "NaN", "1e", "0x10"] {
            assert_eq!(sqlite_number(text), None, "{text}");
        }
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
