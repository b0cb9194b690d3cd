//! `PATCH /v2/images/{id}`: the two JSON-patch dialects Glance accepts and
//! what it does with each operation, in its order: the request checks of
//! `RequestDeserializer.update`, then `ImagesController._do_add`,
//! `_do_replace` and `_do_remove` with their policy checks and the image
//! setters' rules, then the checks made when the image is saved. Every
//! operation is applied to a draft, so any failure leaves the image as it was.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::create::{
    MAX_DB_INT, check_min_in_range, check_min_not_negative, check_property_quota, check_tag_quota,
    min_value, schema,
};
use super::pyrepr::{Py, is_py_space, repr};
use super::{Fault, Identity, Image, ImageStatus, Visibility, locations, policy};

/// `application/openstack-images-v2.0-json-patch`.
pub const V2_0_MEDIA_TYPE: &str = "application/openstack-images-v2.0-json-patch";
/// `application/openstack-images-v2.1-json-patch`.
pub const V2_1_MEDIA_TYPE: &str = "application/openstack-images-v2.1-json-patch";
/// The accepted media types as Glance lists them (`Accept-Patch`, and its 415 text).
pub const MEDIA_TYPES: &str =
    "application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch";

/// Which JSON-patch syntax a request uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// v2.0, JSON patch draft 4: `{"replace": "/name", "value": ...}`;
    /// `add` refuses keys that exist.
    Draft4,
    /// v2.1, JSON patch draft 10 (RFC 6902): `{"op": "replace", "path": "/name", "value": ...}`.
    Draft10,
}

impl Dialect {
    /// The dialect a `Content-Type` header names, compared as webob's
    /// `content_type` does: the part before any `;`, exactly.
    pub fn from_content_type(header: &str) -> Option<Self> {
        match header.split(';').next().unwrap_or_default() {
            V2_0_MEDIA_TYPE => Some(Dialect::Draft4),
            V2_1_MEDIA_TYPE => Some(Dialect::Draft10),
            _ => None,
        }
    }
}

/// The operations Glance supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Set a property, creating an extra property if needed.
    Add,
    /// Delete an extra property.
    Remove,
    /// Set a property that exists.
    Replace,
}

const SUPPORTED: [(&str, Op); 3] = [
    ("add", Op::Add),
    ("remove", Op::Remove),
    ("replace", Op::Replace),
];

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Remove => "remove",
            Op::Replace => "replace",
        }
    }
}

/// One operation of a patch.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// What to do.
    pub op: Op,
    /// The decoded JSON pointer; one segment, or two for `/locations/N`.
    pub path: Vec<String>,
    /// The value (`null` for `remove`).
    pub value: Value,
}

impl Change {
    fn root(&self) -> &str {
        self.path.first().map(String::as_str).unwrap_or_default()
    }
}

/// A parsed and validated patch request.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    dialect: Dialect,
    changes: Vec<Change>,
    /// `show_multiple_locations`: whether `/locations` may be changed.
    locations_visible: bool,
}

/// Roots no operation may touch.
const READ_ONLY: &[&str] = &[
    "created_at",
    "updated_at",
    "status",
    "checksum",
    "size",
    "virtual_size",
    "direct_url",
    "self",
    "file",
    "schema",
    "id",
    "os_hash_algo",
    "os_hash_value",
];
const RESERVED: &[&str] = &["location", "deleted", "deleted_at"];

/// Names Glance's `hasattr(image, name)` is true for: the image's fields...
const FIELDS: &[&str] = &[
    "name",
    "status",
    "created_at",
    "updated_at",
    "visibility",
    "min_disk",
    "min_ram",
    "protected",
    "os_hidden",
    "locations",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "owner",
    "disk_format",
    "container_format",
    "size",
    "virtual_size",
    "tags",
];
/// ...and the machinery of the proxy object it patches. They are not
/// properties: they cannot be removed, and setting one stores nothing.
const PROXY_ATTRIBUTES: &[&str] = &[
    "_abc_impl",
    "_format_image_send",
    "_format_import_properties",
    "_get_chunk_data_iterator",
    "base",
    "context",
    "deactivate",
    "delete",
    "extra_properties",
    "get_data",
    "get_payload",
    "get_super_class",
    "helper",
    "image_id",
    "member",
    "notifier",
    "reactivate",
    "repo",
    "send_notification",
    "set_data",
];

fn is_attribute(name: &str) -> bool {
    FIELDS.contains(&name) || PROXY_ATTRIBUTES.contains(&name)
}

fn bad(msg: impl Into<String>) -> Fault {
    Fault::BadRequest(msg.into())
}

/// Python's `str()` of a JSON value.
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => repr(&Py::from(other)),
    }
}

impl Patch {
    /// Check a request body as `RequestDeserializer.update` does: every
    /// operation is parsed and validated before any is applied.
    pub fn parse(body: &Value, dialect: Dialect) -> Result<Self, Fault> {
        let Value::Array(raw) = body else {
            return Err(bad(
                "Request body must be a JSON array of operation objects.",
            ));
        };
        let mut changes = Vec::with_capacity(raw.len());
        for raw_change in raw {
            let Value::Object(obj) = raw_change else {
                return Err(bad("Operations must be JSON objects."));
            };
            let (op, pointer) = match dialect {
                Dialect::Draft10 => (
                    op_d10(obj)?,
                    obj.get("path")
                        .ok_or_else(|| bad("Unable to find 'path' in JSON Schema change"))?,
                ),
                Dialect::Draft4 => op_and_path_d4(obj)?,
            };
            // Glance fails with an unhandled error on a pointer that is not a string.
            let Value::String(pointer) = pointer else {
                return Err(Fault::internal());
            };
            let path = decode_pointer(pointer)?;
            check_depth(op, &path)?;
            let value = match op {
                Op::Remove => Value::Null,
                _ => obj.get("value").cloned().ok_or_else(|| {
                    bad(format!(
                        "Operation \"{}\" requires a member named \"value\".",
                        op.name()
                    ))
                })?,
            };
            let change = Change { op, path, value };
            check_change(&change)?;
            changes.push(change);
        }
        Ok(Patch {
            dialect,
            changes,
            locations_visible: false,
        })
    }

    /// Apply as a deployment with `show_multiple_locations` set to
    /// `visible` does (default: off, locations are invisible).
    pub fn locations_visible(mut self, visible: bool) -> Self {
        self.locations_visible = visible;
        self
    }

    /// The operations, in request order.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// An empty patch changes nothing and saves nothing.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Apply every operation to `image` (a draft: on error it is to be
    /// dropped), then make the checks Glance makes when saving, and stamp
    /// `updated_at`. `image` must be visible to `who`.
    pub fn apply(
        &self,
        image: &mut Image,
        who: &Identity,
        now: OffsetDateTime,
    ) -> Result<(), Fault> {
        if self.changes.is_empty() {
            return Ok(());
        }
        let original_keys: BTreeSet<String> = image.properties.keys().cloned().collect();
        let mut pending = Pending::default();
        for change in &self.changes {
            match change.op {
                Op::Replace => self.replace(change, image, who, &mut pending)?,
                Op::Add => self.add(change, image, who, &mut pending)?,
                Op::Remove => self.remove(change, image, who)?,
            }
        }
        if image.properties.keys().any(|k| !original_keys.contains(k)) {
            check_property_quota(&image.properties)?;
        }
        if let Some(id) = pending.image_id {
            return Err(Fault::NotFound(format!("No image found with ID {id}")));
        }
        for (key, value) in [
            ("min_disk", &pending.min_disk),
            ("min_ram", &pending.min_ram),
        ] {
            if let Some(v) = value {
                check_min_in_range(key, v)?;
            }
        }
        image.updated_at = now;
        Ok(())
    }

    fn add(
        &self,
        change: &Change,
        image: &mut Image,
        who: &Identity,
        pending: &mut Pending,
    ) -> Result<(), Fault> {
        let root = change.root();
        if root == "locations" {
            enforce(
                who,
                image,
                policy::can_modify(who, image),
                "set_image_location",
            )?;
            if self.locations_visible {
                return Err(locations::invalid_location());
            }
            return Err(Fault::Forbidden(
                "It's not allowed to add locations if locations are invisible.".into(),
            ));
        }
        update_property(who, image, root, Some(&change.value))?;
        let exists = is_attribute(root) || image.properties.contains_key(root);
        if exists && self.dialect == Dialect::Draft4 {
            return Err(Fault::ConflictDetail(format!(
                "Property {root} already present."
            )));
        }
        if is_attribute(root) {
            set_attribute(image, pending, root, &change.value)
        } else {
            image
                .properties
                .insert(root.to_owned(), py_str(&change.value));
            Ok(())
        }
    }

    fn replace(
        &self,
        change: &Change,
        image: &mut Image,
        who: &Identity,
        pending: &mut Pending,
    ) -> Result<(), Fault> {
        if change.root() == "locations" {
            if change.value.as_array().is_some_and(Vec::is_empty) {
                return Err(Fault::ForbiddenDetail(
                    "Cannot set locations to empty list.".into(),
                ));
            }
            enforce(
                who,
                image,
                policy::can_modify(who, image),
                "set_image_location",
            )?;
            if self.locations_visible {
                return locations::replace(image, &change.value);
            }
            return Err(Fault::Forbidden(
                "It's not allowed to update locations if locations are invisible.".into(),
            ));
        }
        replace(change, image, who, pending)
    }

    fn remove(&self, change: &Change, image: &mut Image, who: &Identity) -> Result<(), Fault> {
        if change.root() == "locations" {
            enforce(who, image, who.is_admin(), "delete_image_location")?;
            if self.locations_visible {
                return locations::remove(image, change.path.get(1).map(String::as_str));
            }
            return Err(Fault::Forbidden(
                "It's not allowed to remove locations if locations are invisible.".into(),
            ));
        }
        remove(change, image, who)
    }
}

fn replace(
    change: &Change,
    image: &mut Image,
    who: &Identity,
    pending: &mut Pending,
) -> Result<(), Fault> {
    let root = change.root();
    if root == "owner" && !who.is_admin() {
        return Err(Fault::ForbiddenDetail(
            "Owner can't be updated by non admin.".into(),
        ));
    }
    update_property(who, image, root, Some(&change.value))?;
    if is_attribute(root) {
        set_attribute(image, pending, root, &change.value)
    } else if let Some(slot) = image.properties.get_mut(root) {
        *slot = py_str(&change.value);
        Ok(())
    } else {
        Err(Fault::ConflictDetail(format!(
            "Property {root} does not exist."
        )))
    }
}

fn remove(change: &Change, image: &mut Image, who: &Identity) -> Result<(), Fault> {
    let root = change.root();
    update_property(who, image, root, None)?;
    if is_attribute(root) {
        Err(Fault::ForbiddenDetail(format!(
            "Property {root} may not be removed."
        )))
    } else if image.properties.remove(root).is_some() {
        Ok(())
    } else {
        Err(Fault::ConflictDetail(format!(
            "Property {root} does not exist."
        )))
    }
}

/// What an operation set that only the save checks (the database's).
#[derive(Debug, Default)]
struct Pending {
    min_disk: Option<Value>,
    min_ram: Option<Value>,
    /// Setting the proxy's `image_id` makes the save look for that image.
    image_id: Option<String>,
}

/// `ImageAPIPolicy._enforce`: a refused check is a 403, or a 404 when the
/// caller may not even read the image.
fn enforce(who: &Identity, image: &Image, allowed: bool, action: &str) -> Result<(), Fault> {
    if allowed {
        Ok(())
    } else if policy::can_read(who) && policy::can_see(who, image) {
        Err(Fault::Forbidden(format!(
            "You are not authorized to complete {action} action."
        )))
    } else {
        Err(Fault::NotFound("The resource could not be found.".into()))
    }
}

/// `ImageAPIPolicy.update_property`: a visibility change needs its own
/// policy (checked against the draft as it stands), then `modify_image`.
fn update_property(
    who: &Identity,
    image: &Image,
    root: &str,
    value: Option<&Value>,
) -> Result<(), Fault> {
    if root == "visibility" {
        let refused = match value.and_then(Value::as_str) {
            Some("public") if !who.is_admin() => Some("publicize_image"),
            Some("community") if !policy::can_modify(who, image) => Some("communitize_image"),
            _ => None,
        };
        if let Some(action) = refused {
            return Err(Fault::Forbidden(format!(
                "You are not authorized to complete {action} action."
            )));
        }
    }
    enforce(who, image, policy::can_modify(who, image), "modify_image")
}

/// `setattr(image, root, value)` with the domain image's rules; the value
/// already passed the schema.
fn set_attribute(
    image: &mut Image,
    pending: &mut Pending,
    root: &str,
    value: &Value,
) -> Result<(), Fault> {
    let text = || value.as_str().map(str::to_owned);
    match root {
        "name" => image.name = text(),
        "visibility" => {
            if let Some(v) = value.as_str().and_then(Visibility::parse) {
                image.visibility = v;
            }
        }
        "protected" => image.protected = value.as_bool().unwrap_or(image.protected),
        "os_hidden" => image.os_hidden = value.as_bool().unwrap_or(image.os_hidden),
        // The database keeps an empty owner as none.
        "owner" => image.owner = text().filter(|o| !o.is_empty()),
        "min_ram" | "min_disk" => {
            check_min_not_negative(root, value)?;
            let in_range = value.as_f64().is_none_or(|n| n <= MAX_DB_INT as f64);
            if in_range {
                let n = min_value(value);
                if root == "min_ram" {
                    image.min_ram = n;
                } else {
                    image.min_disk = n;
                }
            }
            let slot = if root == "min_ram" {
                &mut pending.min_ram
            } else {
                &mut pending.min_disk
            };
            *slot = (!in_range).then(|| value.clone());
        }
        "disk_format" | "container_format" => {
            if !matches!(image.status, ImageStatus::Queued | ImageStatus::Importing) {
                return Err(Fault::Forbidden(format!(
                    "Attribute {root} can be only replaced for a queued image."
                )));
            }
            if root == "disk_format" {
                image.disk_format = text();
            } else {
                image.container_format = text();
            }
        }
        "tags" => {
            let tags = value.as_array().map(Vec::as_slice).unwrap_or_default();
            check_tag_quota(tags.len())?;
            image.tags = tags
                .iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect();
        }
        "image_id" => pending.image_id = text(),
        // Replacing these breaks the proxy; Glance answers 500.
        "base" | "extra_properties" => return Err(Fault::internal()),
        _ => {}
    }
    Ok(())
}

/// v2.1: the `op` member names the operation.
fn op_d10(obj: &Map<String, Value>) -> Result<Op, Fault> {
    let available = "add, remove, replace";
    match obj.get("op") {
        None | Some(Value::Null) => Err(bad(format!(
            "Unable to find `op` in JSON Schema change. It must be one of the following: {available}."
        ))),
        Some(op) => SUPPORTED
            .iter()
            .find(|(name, _)| op.as_str() == Some(name))
            .map(|(_, op)| *op)
            .ok_or_else(|| {
                bad(format!(
                    "Invalid operation: `{}`. It must be one of the following: {available}.",
                    py_str(op)
                ))
            }),
    }
}

/// v2.0: exactly one of the members `add`, `remove`, `replace`, holding the path.
fn op_and_path_d4(obj: &Map<String, Value>) -> Result<(Op, &Value), Fault> {
    let mut found = None;
    for (name, op) in SUPPORTED {
        if let Some(path) = obj.get(name) {
            if found.is_some() {
                return Err(bad(
                    "Operation objects must contain only one member named \"add\", \"remove\", or \"replace\".",
                ));
            }
            found = Some((op, path));
        }
    }
    found.ok_or_else(|| {
        bad("Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\".")
    })
}

/// Validate a JSON pointer the way Glance does and split it into
/// unescaped, whitespace-trimmed segments.
fn decode_pointer(pointer: &str) -> Result<Vec<String>, Fault> {
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(bad(format!(
            "Pointer `{pointer}` does not start with \"/\"."
        )));
    };
    if has_adjacent_slashes(rest) {
        return Err(bad(format!("Pointer `{pointer}` contains adjacent \"/\".")));
    }
    if pointer.len() > 1 && pointer.ends_with('/') {
        return Err(bad(format!("Pointer `{pointer}` end with \"/\".")));
    }
    if rest.trim_matches(is_py_space) == "/" {
        return Err(bad(format!(
            "Pointer `{pointer}` does not contains valid token."
        )));
    }
    let bad_tilde = pointer.ends_with('~')
        || pointer
            .split('~')
            .skip(1)
            .any(|after| !after.starts_with(['0', '1']));
    if bad_tilde {
        return Err(bad(format!(
            "Pointer `{pointer}` contains \"~\" not part of a recognized escape sequence."
        )));
    }
    Ok(pointer
        .trim_start_matches('/')
        .split('/')
        .map(|part| {
            part.replace("~1", "/")
                .replace("~0", "~")
                .trim_matches(is_py_space)
                .to_owned()
        })
        .collect())
}

/// `re.search(r'/\s*?/', s)`: two slashes with only whitespace between.
fn has_adjacent_slashes(s: &str) -> bool {
    let parts: Vec<&str> = s.split('/').collect();
    parts.len() > 2
        && parts[1..parts.len() - 1]
            .iter()
            .any(|between| between.chars().all(is_py_space))
}

/// Only `/locations/N` may be two segments deep, and only for add and remove.
fn check_depth(op: Op, path: &[String]) -> Result<(), Fault> {
    let allowed = match (path.first().map(String::as_str), op) {
        (Some("locations"), Op::Add | Op::Remove) => 2,
        _ => 1,
    };
    if path.len() != allowed {
        return Err(bad(format!(
            "Invalid JSON pointer for this resource: '/{}'",
            path.join("/")
        )));
    }
    Ok(())
}

/// Read-only and reserved roots, then the value against the image schema.
fn check_change(change: &Change) -> Result<(), Fault> {
    let root = change.root();
    if READ_ONLY.contains(&root) {
        return Err(Fault::Forbidden(format!(
            "Attribute '{root}' is read-only."
        )));
    }
    if RESERVED.contains(&root) || root.starts_with("os_glance") {
        return Err(Fault::Forbidden(format!("Attribute '{root}' is reserved.")));
    }
    match (change.op, change.path.len()) {
        (Op::Remove, _) => Ok(()),
        (_, 1) => schema::validate_property(root, &change.value),
        // `/locations/N`: the value is one element of the list.
        _ => schema::validate_property(root, &Value::Array(vec![change.value.clone()])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::image::Member;
    use crate::domain::time::now;
    use serde_json::json;

    fn who(project: &str, roles: &[&str]) -> Identity {
        Identity {
            project_id: Some(project.into()),
            user_id: Some(format!("{project}-user")),
            roles: roles.iter().map(|r| (*r).to_string()).collect(),
        }
    }

    fn alice() -> Identity {
        who("alice", &["member", "reader"])
    }

    fn admin() -> Identity {
        who("admin", &["admin", "member", "reader"])
    }

    fn image() -> Image {
        let mut img = Image::new("img".into(), Some("alice".into()), now());
        img.properties.insert("foo".into(), "1".into());
        img
    }

    fn parse(body: Value) -> Result<Patch, Fault> {
        Patch::parse(&body, Dialect::Draft10)
    }

    /// Apply to a draft and keep it only on success, as the repository does.
    fn run(dialect: Dialect, body: Value, img: &mut Image, by: &Identity) -> Result<(), Fault> {
        let mut draft = img.clone();
        Patch::parse(&body, dialect)?.apply(&mut draft, by, now())?;
        *img = draft;
        Ok(())
    }

    fn patch(body: Value, img: &mut Image) -> Result<(), Fault> {
        run(Dialect::Draft10, body, img, &alice())
    }

    fn bad_request(m: &str) -> Result<(), Fault> {
        Err(Fault::BadRequest(m.into()))
    }

    #[test]
    fn content_type_picks_the_dialect_exactly() {
        assert_eq!(
            Dialect::from_content_type(
                "application/openstack-images-v2.1-json-patch; charset=UTF-8"
            ),
            Some(Dialect::Draft10)
        );
        assert_eq!(
            Dialect::from_content_type(V2_0_MEDIA_TYPE),
            Some(Dialect::Draft4)
        );
        assert_eq!(Dialect::from_content_type("application/json"), None);
        assert_eq!(
            Dialect::from_content_type("Application/OpenStack-Images-v2.1-JSON-Patch"),
            None
        );
        assert_eq!(
            Dialect::from_content_type("application/openstack-images-v2.1-json-patch ;x=y"),
            None
        );
    }

    #[test]
    fn body_shape_errors() {
        let err = |v: Value| parse(v).map(|_| ());
        assert_eq!(
            err(json!({})),
            bad_request("Request body must be a JSON array of operation objects.")
        );
        assert_eq!(
            err(json!([1])),
            bad_request("Operations must be JSON objects.")
        );
        assert_eq!(
            err(json!([{"op": null, "path": "/name"}])),
            bad_request(
                "Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace."
            )
        );
        assert_eq!(
            err(json!([{"op": "move", "path": "/name"}])),
            bad_request(
                "Invalid operation: `move`. It must be one of the following: add, remove, replace."
            )
        );
        assert_eq!(
            err(json!([{"op": ["add"], "path": "/name"}])),
            bad_request(
                "Invalid operation: `['add']`. It must be one of the following: add, remove, replace."
            )
        );
        assert_eq!(
            err(json!([{"op": "add"}])),
            bad_request("Unable to find 'path' in JSON Schema change")
        );
        assert_eq!(
            err(json!([{"op": "add", "path": "/name"}])),
            bad_request("Operation \"add\" requires a member named \"value\".")
        );
        assert_eq!(
            err(json!([{"op": "add", "path": 5, "value": "x"}])),
            Err(Fault::internal())
        );
        // Every operation is checked before any is applied.
        assert_eq!(
            err(json!([{"op": "remove", "path": "/missing"}, {"op": "copy", "path": "/x"}])),
            bad_request(
                "Invalid operation: `copy`. It must be one of the following: add, remove, replace."
            )
        );
    }

    #[test]
    fn draft4_needs_exactly_one_operation_member() {
        let err = |v: Value| Patch::parse(&v, Dialect::Draft4).map(|_| ());
        assert_eq!(
            err(json!([{"op": "add", "path": "/foo", "value": "2"}])),
            bad_request(
                "Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\"."
            )
        );
        assert_eq!(
            err(json!([{"add": "/x", "remove": "/y", "value": "b"}])),
            bad_request(
                "Operation objects must contain only one member named \"add\", \"remove\", or \"replace\"."
            )
        );
        let p = Patch::parse(
            &json!([{"replace": "/name", "value": "n"}]),
            Dialect::Draft4,
        )
        .expect("valid");
        assert_eq!(p.changes()[0].op, Op::Replace);
        assert_eq!(p.changes()[0].path, vec!["name".to_string()]);
    }

    #[test]
    fn pointers_are_checked_unescaped_and_trimmed() {
        let path = |p: &str| {
            parse(json!([{"op": "add", "path": p, "value": "v"}]))
                .map(|patch| patch.changes()[0].path.clone())
        };
        assert_eq!(path("/a~1b~0c"), Ok(vec!["a/b~c".to_string()]));
        assert_eq!(path("/ spaced "), Ok(vec!["spaced".to_string()]));
        assert_eq!(path("/"), Ok(vec![String::new()]));
        let fails = |p: &str, m: &str| assert_eq!(path(p), Err(Fault::BadRequest(m.into())), "{p}");
        fails("name", "Pointer `name` does not start with \"/\".");
        fails("/a//b", "Pointer `/a//b` contains adjacent \"/\".");
        fails("/a/ /b", "Pointer `/a/ /b` contains adjacent \"/\".");
        fails("/a/", "Pointer `/a/` end with \"/\".");
        fails("/ / ", "Pointer `/ / ` does not contains valid token.");
        fails(
            "/a~2",
            "Pointer `/a~2` contains \"~\" not part of a recognized escape sequence.",
        );
        fails(
            "/a~",
            "Pointer `/a~` contains \"~\" not part of a recognized escape sequence.",
        );
        fails(
            "/tags/-",
            "Invalid JSON pointer for this resource: '/tags/-'",
        );
        fails("/x/ y", "Invalid JSON pointer for this resource: '/x/y'");
        fails(
            "/locations",
            "Invalid JSON pointer for this resource: '/locations'",
        );
    }

    #[test]
    fn read_only_and_reserved_roots_are_refused_before_values_are_checked() {
        let err = |p: &str| parse(json!([{"op": "replace", "path": p, "value": 5}])).map(|_| ());
        assert_eq!(
            err("/status"),
            Err(Fault::Forbidden("Attribute 'status' is read-only.".into()))
        );
        assert_eq!(
            err("/os_hash_algo"),
            Err(Fault::Forbidden(
                "Attribute 'os_hash_algo' is read-only.".into()
            ))
        );
        assert_eq!(
            err("/os_glancefoo"),
            Err(Fault::Forbidden(
                "Attribute 'os_glancefoo' is reserved.".into()
            ))
        );
        assert_eq!(
            err("/deleted_at"),
            Err(Fault::Forbidden(
                "Attribute 'deleted_at' is reserved.".into()
            ))
        );
        let Err(Fault::BadRequest(m)) = err("/name") else {
            panic!("schema error expected");
        };
        assert!(
            m.starts_with("Provided object does not match schema 'image': 5 is not of type 'null', 'string'\n\nFailed validating 'type' in schema['properties']['name']:"),
            "{m}"
        );
    }

    #[test]
    fn replace_add_and_remove_properties() {
        let mut img = image();
        let before = img.updated_at;
        patch(
            json!([
                {"op": "replace", "path": "/name", "value": "after"},
                {"op": "add", "path": "/bar", "value": "2"},
                {"op": "add", "path": "/foo", "value": "overwritten"},
                {"op": "replace", "path": "/tags", "value": ["t1", "t2", "t1"]},
                {"op": "add", "path": "/min_ram", "value": 1024},
                {"op": "replace", "path": "/min_disk", "value": 2.0},
                {"op": "replace", "path": "/protected", "value": true}
            ]),
            &mut img,
        )
        .expect("applied");
        assert_eq!(img.name.as_deref(), Some("after"));
        assert_eq!(img.properties.get("bar").map(String::as_str), Some("2"));
        assert_eq!(
            img.properties.get("foo").map(String::as_str),
            Some("overwritten")
        );
        assert_eq!(img.tags.len(), 2);
        assert_eq!((img.min_ram, img.min_disk), (1024, 2));
        assert!(img.protected);
        assert!(img.updated_at >= before);
        patch(json!([{"op": "remove", "path": "/bar"}]), &mut img).expect("removed");
        assert!(!img.properties.contains_key("bar"));
    }

    #[test]
    fn missing_and_base_properties() {
        let mut img = image();
        let conflict = |m: &str| Err(Fault::ConflictDetail(m.into()));
        assert_eq!(
            patch(json!([{"op": "remove", "path": "/missing"}]), &mut img),
            conflict("Property missing does not exist.")
        );
        assert_eq!(
            patch(
                json!([{"op": "replace", "path": "/missing", "value": "x"}]),
                &mut img
            ),
            conflict("Property missing does not exist.")
        );
        assert_eq!(
            patch(
                json!([{"op": "replace", "path": "/stores", "value": "x"}]),
                &mut img
            ),
            conflict("Property stores does not exist.")
        );
        for base in ["name", "tags", "min_ram", "member"] {
            assert_eq!(
                patch(
                    json!([{"op": "remove", "path": format!("/{base}")}]),
                    &mut img
                ),
                Err(Fault::ForbiddenDetail(format!(
                    "Property {base} may not be removed."
                ))),
            );
        }
        // Proxy attributes take a value and store nothing.
        patch(
            json!([{"op": "add", "path": "/member", "value": "m"}]),
            &mut img,
        )
        .expect("no-op");
        assert!(!img.properties.contains_key("member"));
        assert_eq!(
            patch(
                json!([{"op": "replace", "path": "/image_id", "value": "m"}]),
                &mut img
            ),
            Err(Fault::NotFound("No image found with ID m".into()))
        );
    }

    #[test]
    fn draft4_add_refuses_existing_keys() {
        let mut img = image();
        let by = alice();
        for key in ["foo", "name", "tags"] {
            assert_eq!(
                run(
                    Dialect::Draft4,
                    json!([{"add": format!("/{key}"), "value": ["x"]}]),
                    &mut img,
                    &by
                )
                .or_else(|e| match e {
                    // `tags` passes the schema with a list; the others need a string.
                    Fault::BadRequest(_) => run(
                        Dialect::Draft4,
                        json!([{"add": format!("/{key}"), "value": "x"}]),
                        &mut img,
                        &by
                    ),
                    e => Err(e),
                }),
                Err(Fault::ConflictDetail(format!(
                    "Property {key} already present."
                ))),
            );
        }
        run(
            Dialect::Draft4,
            json!([{"add": "/new", "value": "v"}]),
            &mut img,
            &by,
        )
        .expect("added");
        assert_eq!(img.properties.get("new").map(String::as_str), Some("v"));
    }

    #[test]
    fn value_rules_of_the_image() {
        let mut img = image();
        assert_eq!(
            patch(
                json!([{"op": "replace", "path": "/min_ram", "value": -5}]),
                &mut img
            ),
            bad_request("Invalid value '-5' for parameter 'min_ram': Cannot be a negative value")
        );
        assert_eq!(
            patch(
                json!([{"op": "replace", "path": "/min_disk", "value": 2147483648_i64}]),
                &mut img
            ),
            bad_request("'min_disk' value out of range, must not exceed 2147483647.")
        );
        // A later operation can bring the value back in range.
        patch(
            json!([
                {"op": "replace", "path": "/min_disk", "value": 2147483648_i64},
                {"op": "replace", "path": "/min_disk", "value": 7}
            ]),
            &mut img,
        )
        .expect("in range at save");
        assert_eq!(img.min_disk, 7);
        img.status = ImageStatus::Active;
        assert_eq!(
            patch(
                json!([{"op": "replace", "path": "/disk_format", "value": "qcow2"}]),
                &mut img
            ),
            Err(Fault::Forbidden(
                "Attribute disk_format can be only replaced for a queued image.".into()
            ))
        );
        patch(
            json!([{"op": "replace", "path": "/name", "value": "active ok"}]),
            &mut img,
        )
        .expect("other properties stay writable");
    }

    #[test]
    fn locations_are_invisible() {
        let mut img = image();
        assert_eq!(
            patch(
                json!([{"op": "replace", "path": "/locations", "value": []}]),
                &mut img
            ),
            Err(Fault::ForbiddenDetail(
                "Cannot set locations to empty list.".into()
            ))
        );
        assert_eq!(
            patch(
                json!([{"op": "add", "path": "/locations/-", "value": {"url": "file:///x", "metadata": {}}}]),
                &mut img
            ),
            Err(Fault::Forbidden(
                "It's not allowed to add locations if locations are invisible.".into()
            ))
        );
        assert_eq!(
            patch(json!([{"op": "remove", "path": "/locations/0"}]), &mut img),
            Err(Fault::Forbidden(
                "You are not authorized to complete delete_image_location action.".into()
            ))
        );
        assert_eq!(
            run(
                Dialect::Draft10,
                json!([{"op": "remove", "path": "/locations/0"}]),
                &mut img,
                &admin()
            ),
            Err(Fault::Forbidden(
                "It's not allowed to remove locations if locations are invisible.".into()
            ))
        );
    }

    #[test]
    fn policy_of_owner_visibility_and_modify() {
        let mut img = image();
        assert_eq!(
            patch(
                json!([{"op": "replace", "path": "/owner", "value": "x"}]),
                &mut img
            ),
            Err(Fault::ForbiddenDetail(
                "Owner can't be updated by non admin.".into()
            ))
        );
        assert_eq!(
            patch(
                json!([{"op": "replace", "path": "/visibility", "value": "public"}]),
                &mut img
            ),
            Err(Fault::Forbidden(
                "You are not authorized to complete publicize_image action.".into()
            ))
        );
        patch(
            json!([{"op": "replace", "path": "/visibility", "value": "community"}]),
            &mut img,
        )
        .expect("owner may communitize");
        // Another project's member may see a community image but not change it.
        let bob = who("bob", &["member", "reader"]);
        let modify = Err(Fault::Forbidden(
            "You are not authorized to complete modify_image action.".into(),
        ));
        assert_eq!(
            run(
                Dialect::Draft10,
                json!([{"op": "remove", "path": "/missing"}]),
                &mut img,
                &bob
            ),
            modify
        );
        assert_eq!(
            run(
                Dialect::Draft10,
                json!([{"op": "replace", "path": "/visibility", "value": "community"}]),
                &mut img,
                &bob
            ),
            Err(Fault::Forbidden(
                "You are not authorized to complete communitize_image action.".into()
            ))
        );
        // A member of a shared image, likewise.
        img.visibility = Visibility::Shared;
        img.members.push(Member {
            status: "accepted".into(),
            ..Member::new("bob".into(), now())
        });
        assert_eq!(
            run(
                Dialect::Draft10,
                json!([{"op": "replace", "path": "/name", "value": "x"}]),
                &mut img,
                &bob
            ),
            modify
        );
        // Without the reader role the image is hidden instead.
        let no_roles = who("alice", &[]);
        assert_eq!(
            run(
                Dialect::Draft10,
                json!([{"op": "replace", "path": "/name", "value": "x"}]),
                &mut img,
                &no_roles
            ),
            Err(Fault::NotFound("The resource could not be found.".into()))
        );
        // The admin changes the owner, then the visibility as the new owner's image.
        run(
            Dialect::Draft10,
            json!([
                {"op": "replace", "path": "/owner", "value": "bob"},
                {"op": "replace", "path": "/visibility", "value": "public"}
            ]),
            &mut img,
            &admin(),
        )
        .expect("admin may");
        assert_eq!(img.owner.as_deref(), Some("bob"));
    }

    #[test]
    fn property_quota_counts_only_when_keys_are_added() {
        let mut img = image();
        for i in 1..128 {
            img.properties.insert(format!("p{i}"), "v".into());
        }
        img.properties
            .insert("os_glance_import_task".into(), "t".into());
        assert_eq!(img.properties.len(), 129);
        // At the quota (os_glance* not counted), replacing is fine...
        patch(
            json!([{"op": "replace", "path": "/p1", "value": "w"}]),
            &mut img,
        )
        .expect("replace");
        // ...and adding is not, even when another key goes at the same time.
        assert_eq!(
            patch(
                json!([{"op": "add", "path": "/q1", "value": "v"}, {"op": "add", "path": "/q2", "value": "v"}, {"op": "remove", "path": "/p2"}]),
                &mut img
            ),
            Err(Fault::TooLarge(
                "The limit has been exceeded on the number of allowed image properties. Attempted: 129, Maximum: 128".into()
            ))
        );
        // Errors of the operations come before the quota, the database's range check after.
        assert_eq!(
            patch(
                json!([{"op": "add", "path": "/q1", "value": "v"}, {"op": "replace", "path": "/min_ram", "value": 2147483648_i64}]),
                &mut img
            ),
            Err(Fault::TooLarge(
                "The limit has been exceeded on the number of allowed image properties. Attempted: 129, Maximum: 128".into()
            ))
        );
    }

    #[test]
    fn tag_quota_counts_the_list_as_given() {
        let mut img = image();
        let tags: Vec<String> = (0..129).map(|i| format!("t{}", i % 100)).collect();
        assert_eq!(
            patch(json!([{"op": "replace", "path": "/tags", "value": tags}]), &mut img),
            Err(Fault::TooLarge(
                "The limit has been exceeded on the number of allowed image tags. Attempted: 129, Maximum: 128".into()
            ))
        );
    }

    #[test]
    fn empty_patch_touches_nothing() {
        let mut img = image();
        let before = img.clone();
        let bob = who("bob", &["member", "reader"]);
        run(Dialect::Draft10, json!([]), &mut img, &bob).expect("no policy for no changes");
        assert_eq!(img, before);
    }
}
