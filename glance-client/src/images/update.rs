//! Changing image metadata: `PATCH /v2/images/{id}` with
//! `application/openstack-images-v2.1-json-patch`.
//!
//! [`ImagePatch`] says what the image should look like afterwards; the
//! client reads the current record and sends only the operations needed,
//! choosing `add` or `replace` by whether the attribute exists now (Glance
//! answers `replace` of a missing property with 409, while its `add`
//! overwrites). Unlike python-glanceclient, unchanged tags are not re-sent,
//! tags can be cleared, and nothing is sent when nothing changes.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use super::{ContainerFormat, DiskFormat, Image, Images, Visibility, get_spec};
use crate::error::{Error, Result};
use crate::transport::RequestSpec;

/// The media type of Glance's RFC 6902 style patches.
pub const JSON_PATCH_MEDIA_TYPE: &str = "application/openstack-images-v2.1-json-patch";

/// Attributes no request may change (Glance answers 403).
const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "size",
    "virtual_size",
    "created_at",
    "updated_at",
    "direct_url",
    "self",
    "file",
    "schema",
    "stores",
];

/// Attributes Glance reserves for itself (403).
const RESERVED: &[&str] = &["location", "deleted", "deleted_at"];

/// Base attributes: always part of the record, never removable, typed.
const BASE: &[&str] = &[
    "name",
    "visibility",
    "protected",
    "os_hidden",
    "owner",
    "container_format",
    "disk_format",
    "min_ram",
    "min_disk",
    "tags",
    "locations",
];

fn is_reserved(key: &str) -> bool {
    RESERVED.contains(&key) || key.starts_with("os_glance")
}

/// One JSON-patch operation, as Glance's v2.1 patch dialect has them.
///
/// Build them with the constructors, which take attribute names (escaped
/// into JSON pointers):
///
/// ```
/// use glance_client::images::PatchOp;
/// use serde_json::json;
///
/// let ops = [
///     PatchOp::add("os_distro", json!("debian")),
///     PatchOp::replace("name", json!("debian-13")),
///     PatchOp::remove("build/id"),
/// ];
/// assert_eq!(
///     serde_json::to_value(&ops).unwrap(),
///     json!([
///         {"op": "add", "path": "/os_distro", "value": "debian"},
///         {"op": "replace", "path": "/name", "value": "debian-13"},
///         {"op": "remove", "path": "/build~1id"},
///     ])
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
#[non_exhaustive]
pub enum PatchOp {
    /// Create or overwrite.
    Add {
        /// JSON pointer, e.g. `/os_distro` or `/locations/-`.
        path: String,
        /// The new value.
        value: Value,
    },
    /// Overwrite an existing attribute (409 if it is missing).
    Replace {
        /// JSON pointer.
        path: String,
        /// The new value.
        value: Value,
    },
    /// Delete an extra property (or a location by index).
    Remove {
        /// JSON pointer.
        path: String,
    },
}

/// `/key`, escaped as RFC 6901 asks (`~` → `~0`, `/` → `~1`).
fn pointer(key: &str) -> String {
    format!("/{}", key.replace('~', "~0").replace('/', "~1"))
}

impl PatchOp {
    /// `add` of attribute `key`.
    pub fn add(key: &str, value: Value) -> Self {
        PatchOp::Add {
            path: pointer(key),
            value,
        }
    }

    /// `replace` of attribute `key`.
    pub fn replace(key: &str, value: Value) -> Self {
        PatchOp::Replace {
            path: pointer(key),
            value,
        }
    }

    /// `remove` of attribute `key`.
    pub fn remove(key: &str) -> Self {
        PatchOp::Remove { path: pointer(key) }
    }

    /// Append a location (`add /locations/-`); needs a deployment that
    /// shows locations.
    pub fn add_location(url: impl Into<String>, metadata: Value) -> Self {
        PatchOp::Add {
            path: "/locations/-".into(),
            value: serde_json::json!({"url": url.into(), "metadata": metadata}),
        }
    }

    /// Remove the location at `index` (`remove /locations/{index}`).
    pub fn remove_location(index: usize) -> Self {
        PatchOp::Remove {
            path: format!("/locations/{index}"),
        }
    }

    /// The JSON pointer this operation targets.
    pub fn path(&self) -> &str {
        match self {
            PatchOp::Add { path, .. }
            | PatchOp::Replace { path, .. }
            | PatchOp::Remove { path } => path,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
enum TagChange {
    #[default]
    Keep,
    Replace(Vec<String>),
    Edit {
        add: Vec<String>,
        remove: BTreeSet<String>,
    },
}

/// The changes of [`Images::update`]: the attributes to set, the
/// properties to remove, the tags, and whether to purge other properties.
///
/// Setting an attribute wins over removing it. Nothing is sent for
/// attributes that already have the wanted value.
///
/// ```
/// use glance_client::images::{ImagePatch, PatchOp};
/// use glance_client::{Image, Visibility};
/// use serde_json::json;
///
/// let current: Image = serde_json::from_value(json!({
///     "id": "i", "status": "active", "name": "old", "visibility": "private",
///     "tags": ["a"], "os_distro": "debian", "build": "17"
/// })).unwrap();
///
/// let patch = ImagePatch::new()
///     .name("new")                       // exists: replace
///     .visibility(Visibility::Private)   // unchanged: nothing sent
///     .property("os_version", "13")      // missing: add
///     .remove_property("build")          // extra property: remove
///     .add_tag("b");                     // tags: one replace of the whole set
/// assert_eq!(
///     patch.operations(&current).unwrap(),
///     vec![
///         PatchOp::replace("name", json!("new")),
///         PatchOp::add("os_version", json!("13")),
///         PatchOp::remove("build"),
///         PatchOp::replace("tags", json!(["a", "b"])),
///     ]
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImagePatch {
    set: BTreeMap<String, Value>,
    remove: BTreeSet<String>,
    tags: TagChange,
    purge_props: bool,
}

impl ImagePatch {
    /// No changes yet.
    pub fn new() -> Self {
        ImagePatch::default()
    }

    /// Set any attribute to a JSON value (`add` if the image lacks it,
    /// `replace` otherwise). Extra properties must be strings.
    pub fn set(mut self, key: impl Into<String>, value: Value) -> Self {
        self.set.insert(key.into(), value);
        self
    }

    /// Set an extra string property such as `os_distro`.
    pub fn property(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(key, Value::String(value.into()))
    }

    /// Set the name.
    pub fn name(self, name: impl Into<String>) -> Self {
        self.set("name", Value::String(name.into()))
    }

    /// Clear the name (`null`).
    pub fn clear_name(self) -> Self {
        self.set("name", Value::Null)
    }

    /// Set the visibility.
    pub fn visibility(self, v: Visibility) -> Self {
        self.set("visibility", Value::String(v.as_str().to_owned()))
    }

    /// Protect from deletion, or not.
    pub fn protected(self, on: bool) -> Self {
        self.set("protected", Value::Bool(on))
    }

    /// Hide from default lists, or not.
    pub fn os_hidden(self, on: bool) -> Self {
        self.set("os_hidden", Value::Bool(on))
    }

    /// Minimum RAM in MiB.
    pub fn min_ram(self, mib: u64) -> Self {
        self.set("min_ram", Value::from(mib))
    }

    /// Minimum disk in GiB.
    pub fn min_disk(self, gib: u64) -> Self {
        self.set("min_disk", Value::from(gib))
    }

    /// Disk format (only while the image is `queued`).
    pub fn disk_format(self, f: DiskFormat) -> Self {
        self.set("disk_format", Value::String(f.as_str().to_owned()))
    }

    /// Container format (only while the image is `queued`).
    pub fn container_format(self, f: ContainerFormat) -> Self {
        self.set("container_format", Value::String(f.as_str().to_owned()))
    }

    /// Owner project (admins only).
    pub fn owner(self, project: impl Into<String>) -> Self {
        self.set("owner", Value::String(project.into()))
    }

    /// Remove an extra property, if the image has it (glanceclient's
    /// `remove_props`). Setting the same key wins.
    pub fn remove_property(mut self, key: impl Into<String>) -> Self {
        self.remove.insert(key.into());
        self
    }

    /// Remove several extra properties.
    pub fn remove_props<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.remove.extend(keys.into_iter().map(Into::into));
        self
    }

    /// Make the tags exactly these (an empty list clears them).
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags = TagChange::Replace(tags.into_iter().map(Into::into).collect());
        self
    }

    /// Add a tag to the current ones.
    pub fn add_tag(mut self, tag: impl Into<String>) -> Self {
        let tag = tag.into();
        match &mut self.tags {
            TagChange::Replace(all) => all.push(tag),
            TagChange::Edit { add, remove } => {
                remove.remove(&tag);
                add.push(tag);
            }
            TagChange::Keep => {
                self.tags = TagChange::Edit {
                    add: vec![tag],
                    remove: BTreeSet::new(),
                }
            }
        }
        self
    }

    /// Remove a tag from the current ones.
    pub fn remove_tag(mut self, tag: impl Into<String>) -> Self {
        let tag = tag.into();
        match &mut self.tags {
            TagChange::Replace(all) => all.retain(|t| *t != tag),
            TagChange::Edit { add, remove } => {
                add.retain(|t| *t != tag);
                remove.insert(tag);
            }
            TagChange::Keep => {
                self.tags = TagChange::Edit {
                    add: Vec::new(),
                    remove: BTreeSet::from([tag]),
                }
            }
        }
        self
    }

    /// Nova's `purge_props`: remove every extra property of the image that
    /// this patch does not set (Glance's own `os_glance_*` properties and
    /// the base attributes are left alone).
    pub fn purge_props(mut self, on: bool) -> Self {
        self.purge_props = on;
        self
    }

    /// Whether this patch asks for nothing.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
            && self.remove.is_empty()
            && self.tags == TagChange::Keep
            && !self.purge_props
    }

    /// Check what can be checked without the image: no read-only or
    /// reserved attribute, string values for extra properties, no removal
    /// of base attributes, valid tags.
    pub fn validate(&self) -> Result<()> {
        let invalid = |m: String| Err(Error::InvalidInput(m));
        for (key, value) in &self.set {
            check_key(key)?;
            if key == "tags" {
                return invalid("set tags with ImagePatch::tags, not ImagePatch::set".into());
            }
            if !BASE.contains(&key.as_str()) && !matches!(value, Value::String(_)) {
                return invalid(format!(
                    "extra property {key:?} must be a string, got {value}"
                ));
            }
        }
        for key in &self.remove {
            check_key(key)?;
            if BASE.contains(&key.as_str()) && !self.set.contains_key(key) {
                return invalid(format!("attribute {key:?} may not be removed"));
            }
        }
        let tags: Vec<&String> = match &self.tags {
            TagChange::Keep => Vec::new(),
            TagChange::Replace(all) => all.iter().collect(),
            TagChange::Edit { add, remove } => add.iter().chain(remove.iter()).collect(),
        };
        for tag in tags {
            check_tag(tag)?;
        }
        Ok(())
    }

    /// The operations that turn `current` into the wanted image, fewest
    /// first: sets (in key order), then removals, then one `replace` of
    /// the tags if the tag set changes.
    pub fn operations(&self, current: &Image) -> Result<Vec<PatchOp>> {
        self.validate()?;
        let now = serde_json::to_value(current)
            .map_err(|e| Error::InvalidInput(format!("cannot read the image: {e}")))?;
        let now = now.as_object().cloned().unwrap_or_default();
        let present = |key: &str| -> Option<&Value> {
            // Base attributes are always part of a Glance record, even when
            // this client's model left them out.
            now.get(key).or(if BASE.contains(&key) {
                Some(&Value::Null)
            } else {
                None
            })
        };
        let mut ops = Vec::new();
        for (key, value) in &self.set {
            match present(key) {
                Some(old) if old == value => {}
                Some(_) => ops.push(PatchOp::replace(key, value.clone())),
                None => ops.push(PatchOp::add(key, value.clone())),
            }
        }
        let mut removals: BTreeSet<&str> = self
            .remove
            .iter()
            .map(String::as_str)
            .filter(|k| current.properties.contains_key(*k))
            .collect();
        if self.purge_props {
            removals.extend(
                current
                    .properties
                    .keys()
                    .map(String::as_str)
                    .filter(|k| !is_reserved(k) && !NOT_PURGED.contains(k)),
            );
        }
        for key in removals {
            if !self.set.contains_key(key) {
                ops.push(PatchOp::remove(key));
            }
        }
        if let Some(tags) = self.wanted_tags(&current.tags) {
            let old: BTreeSet<&String> = current.tags.iter().collect();
            let new: BTreeSet<&String> = tags.iter().collect();
            if old != new {
                ops.push(PatchOp::replace("tags", Value::from(tags)));
            }
        }
        Ok(ops)
    }

    fn wanted_tags(&self, current: &[String]) -> Option<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |t: &String| {
            if !out.contains(t) {
                out.push(t.clone());
            }
        };
        match &self.tags {
            TagChange::Keep => return None,
            TagChange::Replace(all) => all.iter().for_each(&mut push),
            TagChange::Edit { add, remove } => current
                .iter()
                .chain(add)
                .filter(|t| !remove.contains(*t))
                .for_each(&mut push),
        }
        Some(out)
    }
}

/// Extra keys a purge leaves alone: Glance-managed, not user properties.
const NOT_PURGED: &[&str] = &["locations", "direct_url", "stores"];

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::InvalidInput("empty attribute name".into()));
    }
    if READ_ONLY.contains(&key) {
        return Err(Error::InvalidInput(format!(
            "attribute {key:?} is read-only"
        )));
    }
    if is_reserved(key) {
        return Err(Error::InvalidInput(format!(
            "attribute {key:?} is reserved"
        )));
    }
    if key.len() > 255 {
        return Err(Error::InvalidInput(format!(
            "property names are at most 255 characters: {key:?}"
        )));
    }
    Ok(())
}

/// Tags are non-empty strings of at most 255 characters.
pub(crate) fn check_tag(tag: &str) -> Result<()> {
    if tag.is_empty() {
        return Err(Error::InvalidInput("empty tag".into()));
    }
    if tag.chars().count() > 255 {
        return Err(Error::InvalidInput(format!(
            "tags are at most 255 characters: {tag:?}"
        )));
    }
    Ok(())
}

/// Tags that can travel in a URL path to Glance (see [`Images::add_tag`]).
pub(crate) fn check_url_tag(tag: &str) -> Result<()> {
    check_tag(tag)?;
    if tag.contains('/') || tag == "." || tag == ".." {
        return Err(Error::InvalidInput(format!(
            "tag {tag:?} cannot be addressed in a URL; use ImagePatch::add_tag/remove_tag"
        )));
    }
    if !tag.is_ascii() || tag.chars().any(|c| c.is_ascii_control()) {
        return Err(Error::InvalidInput(format!(
            "tag {tag:?} would be garbled by Glance in a URL (it reads paths as Latin-1); \
             use ImagePatch::add_tag/remove_tag"
        )));
    }
    Ok(())
}

impl Images<'_> {
    /// Change an image's metadata: read it, compute the minimal patch
    /// ([`ImagePatch::operations`]) and send it. Returns the updated image
    /// (or the unchanged one, without a PATCH, when nothing changes).
    ///
    /// The PATCH is never retried. If another client changes the image
    /// between the read and the patch, Glance may answer 409.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// use glance_client::images::ImagePatch;
    /// let image = client
    ///     .images()
    ///     .update(id, &ImagePatch::new().name("golden").property("os_distro", "debian").add_tag("ci"))
    ///     .await?;
    /// assert_eq!(image.name.as_deref(), Some("golden"));
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, id: &str, patch: &ImagePatch) -> Result<Image> {
        patch.validate()?;
        let current: Image = self.client.send_json(get_spec(id)).await?;
        let ops = patch.operations(&current)?;
        if ops.is_empty() {
            return Ok(current);
        }
        self.patch(id, &ops).await
    }

    /// Send these JSON-patch operations as they are (`PATCH
    /// /v2/images/{id}`), without reading the image first.
    pub async fn patch(&self, id: &str, ops: &[PatchOp]) -> Result<Image> {
        self.client.send_json(patch_spec(id, ops)?).await
    }
}

/// The PATCH request of `ops`.
pub(crate) fn patch_spec(id: &str, ops: &[PatchOp]) -> Result<RequestSpec> {
    let body = serde_json::to_value(ops)
        .map_err(|e| Error::InvalidInput(format!("cannot encode the patch: {e}")))?;
    Ok(RequestSpec::new(Method::PATCH, ["v2", "images", id])
        .json_body(&body, JSON_PATCH_MEDIA_TYPE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn image(extra: Value) -> Image {
        let mut base = json!({
            "id": "i", "name": "n", "status": "active", "visibility": "shared",
            "protected": false, "os_hidden": false, "checksum": null, "owner": "p",
            "size": null, "virtual_size": null, "container_format": "bare",
            "disk_format": "raw", "min_ram": 0, "min_disk": 0, "tags": ["a", "b"],
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "os_hash_algo": null,
            "os_hash_value": null, "self": "/v2/images/i", "file": "/v2/images/i/file",
            "schema": "/v2/schemas/image"
        });
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        serde_json::from_value(base).expect("image decodes")
    }

    #[test]
    fn add_versus_replace_follows_the_current_record() {
        let img = image(json!({"os_distro": "debian"}));
        let ops = ImagePatch::new()
            .property("os_distro", "ubuntu")
            .property("kernel_id", "k")
            .name("n2")
            .min_ram(512)
            .operations(&img)
            .expect("valid");
        assert_eq!(
            ops,
            vec![
                PatchOp::add("kernel_id", json!("k")),
                PatchOp::replace("min_ram", json!(512)),
                PatchOp::replace("name", json!("n2")),
                PatchOp::replace("os_distro", json!("ubuntu")),
            ]
        );
    }

    #[test]
    fn base_attributes_missing_from_the_model_are_replaced() {
        // A record with null formats still has them: replace, not add.
        let img = image(json!({"disk_format": null}));
        let ops = ImagePatch::new()
            .disk_format(DiskFormat::Qcow2)
            .operations(&img)
            .expect("valid");
        assert_eq!(ops, vec![PatchOp::replace("disk_format", json!("qcow2"))]);
    }

    #[test]
    fn unchanged_values_and_tags_send_nothing() {
        let img = image(json!({"os_distro": "debian"}));
        let patch = ImagePatch::new()
            .name("n")
            .property("os_distro", "debian")
            .tags(["b", "a"])
            .remove_property("absent");
        assert_eq!(patch.operations(&img).expect("valid"), vec![]);
        // glanceclient's quirk: tags re-sent with every change. Not here.
        assert_eq!(
            ImagePatch::new()
                .name("other")
                .operations(&img)
                .expect("valid"),
            vec![PatchOp::replace("name", json!("other"))]
        );
    }

    #[test]
    fn tags_can_be_cleared_and_edited() {
        let img = image(json!({}));
        assert_eq!(
            ImagePatch::new()
                .tags(Vec::<String>::new())
                .operations(&img)
                .expect("valid"),
            vec![PatchOp::replace("tags", json!([]))]
        );
        assert_eq!(
            ImagePatch::new()
                .add_tag("c")
                .remove_tag("a")
                .add_tag("c")
                .operations(&img)
                .expect("valid"),
            vec![PatchOp::replace("tags", json!(["b", "c"]))]
        );
    }

    #[test]
    fn set_wins_over_remove_and_removals_skip_absent_keys() {
        let img = image(json!({"x": "1", "y": "2"}));
        let ops = ImagePatch::new()
            .property("x", "3")
            .remove_props(["x", "y", "z"])
            .operations(&img)
            .expect("valid");
        assert_eq!(
            ops,
            vec![PatchOp::replace("x", json!("3")), PatchOp::remove("y")]
        );
    }

    #[test]
    fn purge_props_removes_other_user_properties_only() {
        let img = image(json!({
            "keep": "1", "drop": "2", "os_glance_failed_import": "",
            "os_glance_importing_to_stores": ""
        }));
        let ops = ImagePatch::new()
            .property("keep", "1")
            .property("new", "3")
            .purge_props(true)
            .operations(&img)
            .expect("valid");
        assert_eq!(
            ops,
            vec![PatchOp::add("new", json!("3")), PatchOp::remove("drop")]
        );
    }

    #[test]
    fn refused_before_sending() {
        let img = image(json!({}));
        for patch in [
            ImagePatch::new().set("status", json!("active")),
            ImagePatch::new().set("os_hash_value", json!("x")),
            ImagePatch::new().property("os_glance_import_task", "t"),
            ImagePatch::new().property("deleted", "t"),
            ImagePatch::new().set("hw_cpu_cores", json!(4)),
            ImagePatch::new().remove_property("name"),
            ImagePatch::new().add_tag(""),
            ImagePatch::new().set("tags", json!(["x"])),
            ImagePatch::new().property("", "x"),
        ] {
            let err = patch.operations(&img).expect_err("refused");
            assert!(err.is_invalid_input(), "{err}");
        }
    }

    #[test]
    fn pointers_are_escaped() {
        assert_eq!(PatchOp::add("a/b~c", json!("v")).path(), "/a~1b~0c");
    }

    #[test]
    fn the_request_carries_the_json_patch_media_type() {
        let spec = patch_spec("i", &[PatchOp::remove("x")]).expect("spec");
        assert_eq!(spec.method, Method::PATCH);
        assert_eq!(
            spec.headers.get("content-type").expect("content type"),
            JSON_PATCH_MEDIA_TYPE
        );
        assert!(!spec.is_replayable());
    }
}
