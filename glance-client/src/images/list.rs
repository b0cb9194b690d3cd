//! Listing images as a lazy stream that follows `next` links.

use serde::Deserialize;
use time::OffsetDateTime;

use super::update::check_tag;
use super::{ContainerFormat, DiskFormat, Image, ImageStatus, Images, Visibility};
use crate::error::{Error, Result};
use crate::members::MemberStatus;
use crate::paginate::{self, paginate};
use crate::transport::RequestSpec;

/// The sort keys Glance accepts.
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

/// Query parameters with a meaning of their own, set by dedicated methods.
const RESERVED_PARAMS: &[&str] = &["limit", "marker", "sort", "sort_key", "sort_dir", "tag"];

/// A sort direction (legacy `sort_dir` syntax).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortDir {
    /// Ascending.
    Asc,
    /// Descending (Glance's default).
    Desc,
}

impl SortDir {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SortDir::Asc => "asc",
            SortDir::Desc => "desc",
        }
    }
}

/// A comparison of the `created_at`/`updated_at` filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeOp {
    /// Equal.
    Eq,
    /// Not equal.
    Neq,
    /// Later than.
    Gt,
    /// Later than or equal.
    Gte,
    /// Earlier than.
    Lt,
    /// Earlier than or equal.
    Lte,
}

impl TimeOp {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeOp::Eq => "eq",
            TimeOp::Neq => "neq",
            TimeOp::Gt => "gt",
            TimeOp::Gte => "gte",
            TimeOp::Lt => "lt",
            TimeOp::Lte => "lte",
        }
    }
}

/// What to list: filters, tags, sorting and paging of `GET /v2/images`.
///
/// The typed helpers encode values the way Glance parses them (`in:` lists
/// with quoting, an `eq:` prefix for names that contain `:`, operators for
/// dates, `true`/`false` for booleans). Everything is checked before the
/// first request is sent; a bad query is an [`Error::InvalidInput`] as the
/// first item of the stream (see [`ListImages::validate`]).
///
/// ```
/// use glance_client::images::{SortDir, TimeOp};
/// use glance_client::{DiskFormat, ImageStatus, ListImages, Visibility};
///
/// let query = ListImages::new()
///     .status(ImageStatus::Active)
///     .name_in(["cirros", "debian, bookworm"])
///     .disk_format(DiskFormat::Qcow2)
///     .visibility(Visibility::Public)
///     .size_min(1 << 20)
///     .created_at(TimeOp::Gte, time::macros::datetime!(2026-01-01 00:00 UTC))
///     .property("os_distro", "debian")
///     .tag("golden")
///     .sort("name", true)
///     .page_size(100)
///     .limit(250);
/// query.validate().unwrap();
///
/// // Legacy sorting cannot be mixed with `sort`.
/// let mixed = ListImages::new().sort("name", true).sort_key("size");
/// assert!(mixed.validate().is_err());
/// # let _ = SortDir::Asc;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListImages {
    page_size: Option<u32>,
    limit: Option<u64>,
    filters: Vec<(String, String)>,
    tags: Vec<String>,
    sort: Vec<(String, bool)>,
    sort_keys: Vec<String>,
    sort_dirs: Vec<SortDir>,
    marker: Option<String>,
    invalid: Option<String>,
}

/// `in:"a","b"`: each value quoted, so commas inside values are kept.
fn in_list<I, S>(values: I) -> std::result::Result<String, String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut parts = Vec::new();
    for v in values {
        let v = v.into();
        if v.contains('"') {
            return Err(format!(
                "{v:?}: Glance's in: lists cannot hold values with double quotes"
            ));
        }
        if v.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1 {
            return Err(format!(
                "{v:?}: Glance's in: lists cannot hold values ending in a backslash"
            ));
        }
        parts.push(format!("\"{v}\""));
    }
    if parts.is_empty() {
        return Err("an in: list needs at least one value".into());
    }
    Ok(format!("in:{}", parts.join(",")))
}

/// An equality filter on a column that takes operators: values containing
/// `:` would be read as `<operator>:<value>`, so they get an explicit `eq:`.
fn eq_value(v: &str) -> String {
    if v.contains(':') {
        format!("eq:{v}")
    } else {
        v.to_owned()
    }
}

impl ListImages {
    /// All images the server shows by default.
    pub fn new() -> Self {
        ListImages::default()
    }

    /// Images per request (Glance's default is 25 and its maximum usually 1000).
    /// Unset, the client asks for 200 per page, as python-glanceclient does.
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n);
        self
    }

    /// Stop after this many images in total.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    fn set(mut self, key: &str, value: String) -> Self {
        match self.filters.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.filters.push((key.to_owned(), value)),
        }
        self
    }

    fn refuse(mut self, why: String) -> Self {
        self.invalid.get_or_insert(why);
        self
    }

    fn set_in<I, S>(self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        match in_list(values) {
            Ok(v) => self.set(key, v),
            Err(why) => self.refuse(format!("{key} filter: {why}")),
        }
    }

    /// A raw filter, passed as it is: an extra property such as
    /// `("os_distro", "ubuntu")`, or any Glance filter with its own syntax
    /// (`("name", "in:a,b")`). Given twice, the last value is sent. Paging,
    /// sorting and tags have their own methods.
    pub fn filter(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        if RESERVED_PARAMS.contains(&key.as_str()) {
            return self.refuse(format!(
                "{key:?} is not a filter; use the method of that name"
            ));
        }
        if key == "changes-since" {
            return self.refuse("the changes-since filter does not exist in API v2".into());
        }
        if key.is_empty() {
            return self.refuse("empty filter name".into());
        }
        self.set(&key, value.into())
    }

    /// Images whose extra property `key` equals `value`.
    pub fn property(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.filter(key, value)
    }

    /// Images with exactly this name.
    pub fn name(self, name: &str) -> Self {
        self.set("name", eq_value(name))
    }

    /// Images with any of these names.
    pub fn name_in<I, S>(self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.set_in("name", names)
    }

    /// Images with any of these ids.
    pub fn id_in<I, S>(self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.set_in("id", ids)
    }

    /// Images in this status.
    pub fn status(self, status: ImageStatus) -> Self {
        let v = eq_value(status.as_str());
        self.set("status", v)
    }

    /// Images in any of these statuses.
    pub fn status_in<I: IntoIterator<Item = ImageStatus>>(self, statuses: I) -> Self {
        let names: Vec<String> = statuses.into_iter().map(|s| s.to_string()).collect();
        self.set_in("status", names)
    }

    /// Images of this disk format.
    pub fn disk_format(self, f: DiskFormat) -> Self {
        let v = eq_value(f.as_str());
        self.set("disk_format", v)
    }

    /// Images of any of these disk formats.
    pub fn disk_format_in<I: IntoIterator<Item = DiskFormat>>(self, formats: I) -> Self {
        let names: Vec<String> = formats.into_iter().map(|f| f.to_string()).collect();
        self.set_in("disk_format", names)
    }

    /// Images of this container format.
    pub fn container_format(self, f: ContainerFormat) -> Self {
        let v = eq_value(f.as_str());
        self.set("container_format", v)
    }

    /// Images of any of these container formats.
    pub fn container_format_in<I: IntoIterator<Item = ContainerFormat>>(self, formats: I) -> Self {
        let names: Vec<String> = formats.into_iter().map(|f| f.to_string()).collect();
        self.set_in("container_format", names)
    }

    /// Only images of this visibility. Without it, Glance lists the
    /// caller's images, public ones and accepted shares (no community
    /// images of other projects).
    pub fn visibility(self, v: Visibility) -> Self {
        if matches!(v, Visibility::Other(_)) {
            return self.refuse(format!("unknown visibility {v}"));
        }
        self.set("visibility", v.to_string())
    }

    /// Images of every visibility the caller may see (`visibility=all`).
    pub fn all_visibilities(self) -> Self {
        self.set("visibility", "all".into())
    }

    /// Shared images whose membership of the caller has this status
    /// (Glance's default is `accepted`).
    pub fn member_status(self, s: MemberStatus) -> Self {
        if matches!(s, MemberStatus::Other(_)) {
            return self.refuse(format!("unknown member status {s}"));
        }
        self.set("member_status", s.to_string())
    }

    /// Shared images whatever the caller's membership status (`member_status=all`).
    pub fn any_member_status(self) -> Self {
        self.set("member_status", "all".into())
    }

    /// Images owned by this project.
    pub fn owner(self, project: impl Into<String>) -> Self {
        self.set("owner", project.into())
    }

    /// Images whose data has this md5 checksum.
    pub fn checksum(self, md5: impl Into<String>) -> Self {
        self.set("checksum", md5.into())
    }

    /// Images whose data has this `os_hash_value`.
    pub fn os_hash_value(self, hex: impl Into<String>) -> Self {
        self.set("os_hash_value", hex.into())
    }

    /// Images of at least this many bytes (images without data never match).
    pub fn size_min(self, bytes: u64) -> Self {
        self.set("size_min", bytes.to_string())
    }

    /// Images of at most this many bytes (images without data never match).
    pub fn size_max(self, bytes: u64) -> Self {
        self.set("size_max", bytes.to_string())
    }

    /// `true`: **only** hidden images; `false` (Glance's default): only
    /// visible ones.
    pub fn os_hidden(self, hidden: bool) -> Self {
        self.set("os_hidden", hidden.to_string())
    }

    /// Only protected (or only unprotected) images.
    pub fn protected(self, protected: bool) -> Self {
        self.set("protected", protected.to_string())
    }

    fn time_filter(self, key: &str, op: TimeOp, at: OffsetDateTime) -> Self {
        self.set(
            key,
            format!("{}:{}", op.as_str(), super::timestamp::format(at)),
        )
    }

    /// Images created relative to a time (sent in UTC, as Glance writes
    /// times).
    ///
    /// ```
    /// use glance_client::ListImages;
    /// use glance_client::images::TimeOp;
    /// use time::macros::datetime;
    /// let recent = ListImages::new().created_at(TimeOp::Gte, datetime!(2026-01-01 00:00 UTC));
    /// # recent.validate().expect("valid");
    /// ```
    ///
    /// Text is not a time:
    ///
    /// ```compile_fail
    /// use glance_client::{ListImages, images::TimeOp};
    /// let q = ListImages::new().created_at(TimeOp::Gte, "last tuesday");
    /// ```
    pub fn created_at(self, op: TimeOp, at: OffsetDateTime) -> Self {
        self.time_filter("created_at", op, at)
    }

    /// Images last changed relative to a time (sent in UTC).
    pub fn updated_at(self, op: TimeOp, at: OffsetDateTime) -> Self {
        self.time_filter("updated_at", op, at)
    }

    /// Only images with this tag (several tags: all of them).
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Sort by `key` (one of [`SORT_KEYS`]), ascending or not. Repeat for
    /// secondary keys. Glance breaks ties by `created_at`, then `id`.
    pub fn sort(mut self, key: impl Into<String>, ascending: bool) -> Self {
        self.sort.push((key.into(), ascending));
        self
    }

    /// Legacy sorting: a `sort_key` (repeatable). Not with [`ListImages::sort`].
    pub fn sort_key(mut self, key: impl Into<String>) -> Self {
        self.sort_keys.push(key.into());
        self
    }

    /// Legacy sorting: a `sort_dir`; one for all keys, or one per key.
    pub fn sort_dir(mut self, dir: SortDir) -> Self {
        self.sort_dirs.push(dir);
        self
    }

    /// Start after the image with this id.
    pub fn marker(mut self, id: impl Into<String>) -> Self {
        self.marker = Some(id.into());
        self
    }

    /// Check the query as Glance would, without sending it.
    pub fn validate(&self) -> Result<()> {
        let invalid = |m: String| Err(Error::InvalidInput(m));
        if let Some(why) = &self.invalid {
            return invalid(why.clone());
        }
        let legacy = !self.sort_keys.is_empty() || !self.sort_dirs.is_empty();
        if !self.sort.is_empty() && legacy {
            return invalid("sort cannot be combined with sort_key or sort_dir".into());
        }
        for key in self
            .sort
            .iter()
            .map(|(k, _)| k)
            .chain(self.sort_keys.iter())
        {
            if !SORT_KEYS.contains(&key.as_str()) {
                return invalid(format!(
                    "invalid sort key {key:?}: it must be one of {}",
                    SORT_KEYS.join(", ")
                ));
            }
        }
        if self.sort_dirs.len() > 1 && self.sort_dirs.len() != self.sort_keys.len() {
            return invalid(format!(
                "{} sort directions for {} sort keys: give one, or one per key",
                self.sort_dirs.len(),
                self.sort_keys.len()
            ));
        }
        for tag in &self.tags {
            check_tag(tag)?;
        }
        let number = |k: &str| {
            self.filters
                .iter()
                .find(|(key, _)| key == k)
                .and_then(|(_, v)| v.parse::<u64>().ok())
        };
        if let (Some(min), Some(max)) = (number("size_min"), number("size_max")) {
            if min > max {
                return invalid(format!("size_min {min} is greater than size_max {max}"));
            }
        }
        if self.marker.as_deref() == Some("") {
            return invalid("empty marker".into());
        }
        Ok(())
    }

    fn effective_page_size(&self) -> u64 {
        let page = u64::from(self.page_size.filter(|n| *n > 0).unwrap_or(200));
        match self.limit {
            Some(l) if l < page => l,
            _ => page,
        }
    }

    /// The first request of the listing (after [`ListImages::validate`]).
    pub(crate) fn first_request(&self) -> Result<RequestSpec> {
        self.validate()?;
        let mut spec = RequestSpec::new(reqwest::Method::GET, ["v2", "images"]);
        spec.query.extend(self.filters.iter().cloned());
        spec.query
            .push(("limit".into(), self.effective_page_size().to_string()));
        for t in &self.tags {
            spec.query.push(("tag".into(), t.clone()));
        }
        if !self.sort.is_empty() {
            let sort = self
                .sort
                .iter()
                .map(|(k, asc)| format!("{k}:{}", if *asc { "asc" } else { "desc" }))
                .collect::<Vec<_>>()
                .join(",");
            spec.query.push(("sort".into(), sort));
        }
        for k in &self.sort_keys {
            spec.query.push(("sort_key".into(), k.clone()));
        }
        for d in &self.sort_dirs {
            spec.query.push(("sort_dir".into(), d.as_str().into()));
        }
        if let Some(m) = &self.marker {
            spec.query.push(("marker".into(), m.clone()));
        }
        Ok(spec)
    }
}

#[derive(Deserialize)]
struct Page {
    images: Vec<Image>,
    next: Option<String>,
}

impl paginate::Page for Page {
    type Item = Image;

    fn into_parts(self) -> (Vec<Image>, Option<String>) {
        (self.images, self.next)
    }
}

impl Images<'_> {
    /// `GET /v2/images`, page after page, as a stream of images.
    ///
    /// Pages are fetched lazily as the stream is polled. The stream ends at
    /// the last page, at the `limit`, or if the server ever repeats a page
    /// link (a guard against paging loops).
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client) -> glance_client::Result<()> {
    /// use futures::TryStreamExt;
    /// use glance_client::{ImageStatus, ListImages};
    /// let active: Vec<_> = client
    ///     .images()
    ///     .list(ListImages::new().status(ImageStatus::Active))
    ///     .try_collect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self, query: ListImages) -> crate::ImageStream {
        let (limit, page_size) = (query.limit, query.effective_page_size());
        paginate::<Page>(self.client.clone(), query.first_request(), limit, page_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    #[test]
    fn first_request_shape() {
        let endpoint = Url::parse("http://h/").expect("url");
        let q = ListImages::new()
            .filter("visibility", "public")
            .tag("t 1")
            .sort("name", true)
            .page_size(5)
            .limit(3);
        assert_eq!(
            q.first_request()
                .expect("valid")
                .url(&endpoint)
                .expect("url")
                .as_str(),
            "http://h/v2/images?visibility=public&limit=3&tag=t+1&sort=name%3Aasc"
        );
        assert_eq!(
            ListImages::new()
                .first_request()
                .expect("valid")
                .url(&endpoint)
                .expect("url")
                .as_str(),
            "http://h/v2/images?limit=200"
        );
    }

    fn url(q: ListImages) -> String {
        let endpoint = Url::parse("http://h/").expect("url");
        q.first_request()
            .expect("valid")
            .url(&endpoint)
            .expect("url")
            .to_string()
    }

    fn refused(q: ListImages) -> String {
        match q.validate() {
            Err(Error::InvalidInput(m)) => m,
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn typed_filters_are_encoded_as_glance_parses_them() {
        assert_eq!(
            url(ListImages::new()
                .name_in(["a,b", "c"])
                .status(ImageStatus::Active)
                .owner("p1")
                .page_size(10)),
            "http://h/v2/images?name=in%3A%22a%2Cb%22%2C%22c%22&status=active&owner=p1&limit=10"
        );
        assert_eq!(
            url(ListImages::new().name("team:web").name("web")),
            "http://h/v2/images?name=web&limit=200",
            "a repeated filter is replaced, not repeated"
        );
        assert_eq!(
            url(ListImages::new().name("team:web")),
            "http://h/v2/images?name=eq%3Ateam%3Aweb&limit=200"
        );
        assert_eq!(
            url(ListImages::new()
                .visibility(Visibility::Community)
                .any_member_status()
                .os_hidden(true)
                .protected(false)
                .size_min(1)
                .size_max(10)
                .checksum("c")
                .os_hash_value("h")),
            "http://h/v2/images?visibility=community&member_status=all&os_hidden=true&protected=false&size_min=1&size_max=10&checksum=c&os_hash_value=h&limit=200"
        );
        assert_eq!(
            url(ListImages::new()
                .created_at(TimeOp::Gte, time::macros::datetime!(2026-01-01 00:00 UTC))
                .updated_at(TimeOp::Lt, time::macros::datetime!(2026-02-01 01:00 +01:00))),
            "http://h/v2/images?created_at=gte%3A2026-01-01T00%3A00%3A00Z&updated_at=lt%3A2026-02-01T00%3A00%3A00Z&limit=200"
        );
        assert_eq!(
            url(ListImages::new()
                .disk_format_in([DiskFormat::Raw, DiskFormat::Qcow2])
                .container_format(ContainerFormat::Bare)
                .status_in([ImageStatus::Queued, ImageStatus::Saving])
                .id_in(["i1"])
                .member_status(MemberStatus::Pending)
                .all_visibilities()),
            "http://h/v2/images?disk_format=in%3A%22raw%22%2C%22qcow2%22&container_format=bare&status=in%3A%22queued%22%2C%22saving%22&id=in%3A%22i1%22&member_status=pending&visibility=all&limit=200"
        );
    }

    #[test]
    fn legacy_sorting() {
        assert_eq!(
            url(ListImages::new()
                .sort_key("name")
                .sort_key("size")
                .sort_dir(SortDir::Asc)),
            "http://h/v2/images?limit=200&sort_key=name&sort_key=size&sort_dir=asc"
        );
        assert_eq!(
            url(ListImages::new()
                .sort("name", false)
                .sort("id", true)
                .marker("m")),
            "http://h/v2/images?limit=200&sort=name%3Adesc%2Cid%3Aasc&marker=m"
        );
    }

    #[test]
    fn bad_queries_are_refused_before_sending() {
        assert!(refused(ListImages::new().sort("name", true).sort_key("id")).contains("combined"));
        assert!(refused(ListImages::new().sort("owner", true)).contains("invalid sort key"));
        assert!(refused(ListImages::new().sort_key("bogus")).contains("invalid sort key"));
        assert!(
            refused(
                ListImages::new()
                    .sort_key("name")
                    .sort_key("id")
                    .sort_key("size")
                    .sort_dir(SortDir::Asc)
                    .sort_dir(SortDir::Desc)
            )
            .contains("2 sort directions for 3 sort keys")
        );
        assert!(refused(ListImages::new().name_in(["say \"hi\""])).contains("double quotes"));
        assert!(refused(ListImages::new().name_in(["a\\"])).contains("backslash"));
        assert!(refused(ListImages::new().name_in(Vec::<String>::new())).contains("at least one"));
        assert!(refused(ListImages::new().size_min(10).size_max(5)).contains("greater"));
        assert!(refused(ListImages::new().filter("limit", "5")).contains("not a filter"));
        assert!(refused(ListImages::new().filter("changes-since", "x")).contains("changes-since"));
        assert!(refused(ListImages::new().tag("")).contains("empty tag"));
        assert!(
            refused(ListImages::new().visibility(Visibility::Other("all".into())))
                .contains("visibility")
        );
        // A single sort_dir for several keys is fine; so is an escaped backslash.
        ListImages::new()
            .sort_key("name")
            .sort_key("id")
            .sort_dir(SortDir::Desc)
            .name_in(["a\\\\"])
            .validate()
            .expect("valid");
    }
}
