//! Which image fields a request may set, in one place for create and
//! PATCH: Glance's read-only and reserved lists (`RequestDeserializer` in
//! `glance/api/v2/images.py`, `ImageFactory` in `glance/domain`), and the
//! attributes of the image object PATCH sets.

/// `RequestDeserializer._disallowed_properties`.
pub const READ_ONLY_IN_REQUEST: &[&str] = &["direct_url", "self", "file", "schema", "stores"];
/// `ImageFactory._readonly_properties` that reach it as base attributes, in its order.
pub const READ_ONLY_BASE: &[&str] = &[
    "created_at",
    "updated_at",
    "status",
    "checksum",
    "size",
    "virtual_size",
];
/// `RequestDeserializer._reserved_properties` (and, by prefix, the
/// `os_glance` namespace: see [`is_reserved`]).
pub const RESERVED: &[&str] = &["location", "deleted", "deleted_at"];
/// Base properties the deserializer takes out of the body; the rest are
/// extra properties (including `os_hash_algo`/`os_hash_value`, which Glance
/// stores as hidden extra properties, and `locations`).
pub const BASE_IN_REQUEST: &[&str] = &[
    "checksum",
    "created_at",
    "container_format",
    "disk_format",
    "id",
    "min_disk",
    "min_ram",
    "name",
    "size",
    "virtual_size",
    "status",
    "tags",
    "owner",
    "updated_at",
    "visibility",
    "protected",
    "os_hidden",
];

/// `RequestDeserializer._readonly_properties`: roots no PATCH operation
/// may touch.
pub const READ_ONLY_IN_UPDATE: &[&str] = &[
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

/// A reserved name: in [`RESERVED`] or in the `os_glance` namespace.
pub fn is_reserved(key: &str) -> bool {
    RESERVED.contains(&key) || key.starts_with("os_glance")
}

/// Names Glance's `hasattr(image, name)` is true for: the image's fields...
pub const FIELDS: &[&str] = &[
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
pub const PROXY_ATTRIBUTES: &[&str] = &[
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

/// Glance's `hasattr(image, name)` on the image proxy a patch changes.
pub fn is_attribute(name: &str) -> bool {
    FIELDS.contains(&name) || PROXY_ATTRIBUTES.contains(&name)
}
