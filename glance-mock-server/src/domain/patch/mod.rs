//! `PATCH /v2/images/{id}`: the two JSON-patch dialects Glance accepts and
//! what it does with each operation, in its order: the request checks of
//! `RequestDeserializer.update`, then `ImagesController._do_add`,
//! `_do_replace` and `_do_remove` with their policy checks and the image
//! setters' rules, then the checks made when the image is saved. Every
//! operation is applied to a draft, so any failure leaves the image as it was.
//!
//! [`Patch::parse`] (in `parse`) reads and checks a request body;
//! [`Patch::apply`] (in `apply`) applies it to an image.

mod apply;
mod parse;
#[cfg(test)]
mod tests;

use serde_json::Value;

use super::Fault;

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

impl Patch {
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
}

fn bad(msg: impl Into<String>) -> Fault {
    Fault::BadRequest(msg.into())
}
