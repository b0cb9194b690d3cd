//! `POST /v2/images`: turning a request body into a new image record, with
//! Glance's checks in Glance's order (`RequestDeserializer.create`, then
//! `ImageFactory.new_image` behind its policy and quota proxies, then the
//! DB layer); plus the property and tag quotas, which PATCH shares.

use std::collections::BTreeMap;

use serde_json::Value;

use super::fields::{BASE_IN_REQUEST, READ_ONLY_BASE, READ_ONLY_IN_REQUEST, is_reserved};
use super::python::{Py, repr};
use super::{Fault, Identity, Image, Visibility, policy};

/// Disk formats the image schema allows.
pub const DISK_FORMATS: &[&str] = &[
    "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop",
];
/// Container formats the image schema allows.
pub const CONTAINER_FORMATS: &[&str] = &[
    "ami",
    "ari",
    "aki",
    "bare",
    "ovf",
    "ova",
    "docker",
    "compressed",
];
/// `image_property_quota` default.
pub const PROPERTY_QUOTA: usize = 128;
/// `image_tag_quota` default.
pub const TAG_QUOTA: usize = 128;
/// Largest `min_ram`/`min_disk` the database takes (a 4-byte INT).
pub const MAX_DB_INT: i64 = i32::MAX as i64;

/// Build the image a create request describes, or the fault Glance answers with.
pub fn new_image(
    body: &Value,
    who: &Identity,
    now: time::OffsetDateTime,
    fresh_id: impl FnOnce() -> String,
) -> Result<Image, Fault> {
    let Value::Object(obj) = body else {
        return Err(Fault::BadRequest(
            "Unexpected body type. Expected list/dict.".into(),
        ));
    };
    for key in READ_ONLY_IN_REQUEST {
        if obj.contains_key(*key) {
            return Err(read_only(key));
        }
    }
    schema::validate(obj)?;
    for key in obj
        .keys()
        .filter(|k| !BASE_IN_REQUEST.contains(&k.as_str()))
    {
        if key.chars().count() > 255 {
            return Err(Fault::BadRequest(
                "Custom property should not be greater than 255 characters.".into(),
            ));
        }
        if is_reserved(key) {
            return Err(Fault::ForbiddenDetail(format!(
                "Attribute '{key}' is reserved."
            )));
        }
    }

    let owner = match obj.get("owner") {
        Some(Value::String(o)) => Some(o.clone()),
        Some(_) => None,
        None => who.project_id.clone(),
    };
    let may_add = who.is_admin() || (who.has_role("member") && owner == who.project_id);
    if !may_add {
        if owner != who.project_id {
            return Err(Fault::ForbiddenDetail(format!(
                "You are not permitted to create images owned by '{}'",
                owner.as_deref().unwrap_or("None")
            )));
        }
        return Err(Fault::Forbidden(
            "You are not authorized to complete add_image action.".into(),
        ));
    }
    let visibility = match obj.get("visibility") {
        Some(Value::String(v)) => Visibility::parse(v).unwrap_or(Visibility::Shared),
        _ => Visibility::Shared,
    };
    let mut image = Image::new(String::new(), owner, now);
    image.visibility = visibility;
    match visibility {
        Visibility::Public if !who.is_admin() => {
            return Err(Fault::Forbidden(
                "You are not authorized to complete publicize_image action.".into(),
            ));
        }
        Visibility::Community if !policy::can_modify(who, &image) => {
            return Err(Fault::Forbidden(
                "You are not authorized to complete communitize_image action.".into(),
            ));
        }
        _ => {}
    }
    if let Some(Value::Array(tags)) = obj.get("tags") {
        check_tag_quota(tags.len())?;
    }
    for key in READ_ONLY_BASE {
        if obj.contains_key(*key) {
            return Err(read_only(key));
        }
    }
    if obj.contains_key("locations") {
        return Err(Fault::Forbidden(
            "Attribute 'locations' is reserved.".into(),
        ));
    }
    for key in ["min_disk", "min_ram"] {
        if let Some(v) = obj.get(key) {
            check_min_not_negative(key, v)?;
        }
    }

    image.id = match obj.get("id") {
        Some(Value::String(id)) => id.clone(),
        _ => fresh_id(),
    };
    for (key, value) in obj {
        match (key.as_str(), value) {
            ("id" | "owner" | "visibility", _) => {}
            ("name", v) => image.name = v.as_str().map(str::to_owned),
            ("protected", Value::Bool(b)) => image.protected = *b,
            ("os_hidden", Value::Bool(b)) => image.os_hidden = *b,
            ("min_ram", v) => image.min_ram = min_value(v),
            ("min_disk", v) => image.min_disk = min_value(v),
            ("container_format", v) => image.container_format = v.as_str().map(str::to_owned),
            ("disk_format", v) => image.disk_format = v.as_str().map(str::to_owned),
            ("tags", Value::Array(tags)) => {
                image.tags = tags
                    .iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            }
            (k, Value::String(v)) if !BASE_IN_REQUEST.contains(&k) => {
                image.properties.insert(k.to_owned(), v.clone());
            }
            _ => {}
        }
    }
    check_property_quota(&image.properties)?;
    for key in ["min_disk", "min_ram"] {
        if let Some(v) = obj.get(key) {
            check_min_in_range(key, v)?;
        }
    }
    Ok(image)
}

/// `image_tag_quota`: `attempted` counts the tags as given, duplicates
/// included (Glance checks the list before it becomes a set).
pub fn check_tag_quota(attempted: usize) -> Result<(), Fault> {
    if attempted > TAG_QUOTA {
        return Err(Fault::TooLarge(format!(
            "The limit has been exceeded on the number of allowed image tags. Attempted: {attempted}, Maximum: {TAG_QUOTA}"
        )));
    }
    Ok(())
}

/// `image_property_quota` over an image's extra properties; Glance's own
/// `os_glance*` properties do not count.
pub fn check_property_quota(properties: &BTreeMap<String, String>) -> Result<(), Fault> {
    let attempted = properties
        .keys()
        .filter(|k| !k.starts_with("os_glance"))
        .count();
    if attempted > PROPERTY_QUOTA {
        return Err(Fault::TooLarge(format!(
            "The limit has been exceeded on the number of allowed image properties. Attempted: {attempted}, Maximum: {PROPERTY_QUOTA}"
        )));
    }
    Ok(())
}

/// The domain's check on a `min_ram`/`min_disk` value (an integer, as the
/// schema ensures): negative values are refused.
pub fn check_min_not_negative(key: &str, value: &Value) -> Result<(), Fault> {
    if value.as_f64().is_some_and(|n| n < 0.0) {
        return Err(Fault::BadRequest(format!(
            "Invalid value '{}' for parameter '{key}': Cannot be a negative value",
            repr(&Py::from(value))
        )));
    }
    Ok(())
}

/// The database's check on a `min_ram`/`min_disk` value, made when the
/// image is saved.
pub fn check_min_in_range(key: &str, value: &Value) -> Result<(), Fault> {
    if value.as_f64().is_some_and(|n| n > MAX_DB_INT as f64) {
        return Err(Fault::BadRequest(format!(
            "'{key}' value out of range, must not exceed {MAX_DB_INT}."
        )));
    }
    Ok(())
}

/// A `min_ram`/`min_disk` value the checks above accepted, as stored.
pub fn min_value(value: &Value) -> i64 {
    value
        .as_i64()
        .or_else(|| value.as_f64().map(|f| f as i64))
        .unwrap_or(0)
}

fn read_only(key: &str) -> Fault {
    Fault::Forbidden(format!("Attribute '{key}' is read-only."))
}

pub mod schema {
    //! `/v2/schemas/image` as Glance 33 serves it (key order included, since
    //! error messages print it), and validation against it with the
    //! messages of Python's `jsonschema`.

    use std::sync::LazyLock;

    use serde_json::{Map, Value};

    use super::Fault;
    use crate::domain::python::Py;
    use crate::domain::python::jsonschema;

    /// The pattern the schema gives `id`.
    pub const ID_PATTERN: &str =
        "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$";

    /// Builds a [`Py`] from JSON-like syntax, keeping dict order.
    macro_rules! py {
        (null) => { Py::None };
        ([ $($item:tt),* $(,)? ]) => { Py::List(vec![ $( py!($item) ),* ]) };
        ({ $($key:literal : $value:tt),* $(,)? }) => {
            Py::Dict(vec![ $( ($key.to_string(), py!($value)) ),* ])
        };
        ($other:expr) => { Py::from($other) };
    }

    static IMAGE: LazyLock<Py> = LazyLock::new(|| {
        let disk_formats: Vec<Py> = std::iter::once(Py::None)
            .chain(super::DISK_FORMATS.iter().map(|f| Py::from(*f)))
            .collect();
        let container_formats: Vec<Py> = std::iter::once(Py::None)
            .chain(super::CONTAINER_FORMATS.iter().map(|f| Py::from(*f)))
            .collect();
        let properties = py!({
            "id": {"type": "string", "description": "An identifier for the image", "pattern": ID_PATTERN},
            "name": {"type": ["null", "string"], "description": "Descriptive name for the image", "maxLength": 255i64},
            "status": {"type": "string", "readOnly": true, "description": "Status of the image",
                "enum": ["queued", "saving", "active", "killed", "deleted", "uploading", "importing", "pending_delete", "deactivated"]},
            "visibility": {"type": "string", "description": "Scope of image accessibility",
                "enum": ["community", "public", "private", "shared"]},
            "protected": {"type": "boolean", "description": "If true, image will not be deletable."},
            "os_hidden": {"type": "boolean", "description": "If true, image will not appear in default image list response."},
            "checksum": {"type": ["null", "string"], "readOnly": true, "description": "md5 hash of image contents.", "maxLength": 32i64},
            "os_hash_algo": {"type": ["null", "string"], "readOnly": true, "description": "Algorithm to calculate the os_hash_value", "maxLength": 64i64},
            "os_hash_value": {"type": ["null", "string"], "readOnly": true,
                "description": "Hexdigest of the image contents using the algorithm specified by the os_hash_algo", "maxLength": 128i64},
            "owner": {"type": ["null", "string"], "description": "Owner of the image", "maxLength": 255i64},
            "size": {"type": ["null", "integer"], "readOnly": true, "description": "Size of image file in bytes"},
            "virtual_size": {"type": ["null", "integer"], "readOnly": true, "description": "Virtual size of image in bytes"},
            "container_format": {"type": ["null", "string"], "description": "Format of the container", "enum": (Py::List(container_formats))},
            "disk_format": {"type": ["null", "string"], "description": "Format of the disk", "enum": (Py::List(disk_formats))},
            "created_at": {"type": "string", "readOnly": true, "description": "Date and time of image registration"},
            "updated_at": {"type": "string", "readOnly": true, "description": "Date and time of the last image modification"},
            "tags": {"type": "array", "description": "List of strings related to the image",
                "items": {"type": "string", "maxLength": 255i64}},
            "direct_url": {"type": "string", "readOnly": true, "description": "URL to access the image file kept in external store"},
            "min_ram": {"type": "integer", "description": "Amount of ram (in MB) required to boot image."},
            "min_disk": {"type": "integer", "description": "Amount of disk space (in GB) required to boot image."},
            "self": {"type": "string", "readOnly": true, "description": "An image self url"},
            "file": {"type": "string", "readOnly": true, "description": "An image file url"},
            "stores": {"type": "string", "readOnly": true,
                "description": "Store in which image data resides.  Only present when the operator has enabled multiple stores.  May be a comma-separated list of store identifiers."},
            "schema": {"type": "string", "readOnly": true, "description": "An image schema url"},
            "locations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "url": {"type": "string", "maxLength": 255i64},
                        "metadata": {"type": "object"},
                        "validation_data": {
                            "description": "Values to be used to populate the corresponding image properties. If the image status is not 'queued', values must exactly match those already contained in the image properties.",
                            "type": "object",
                            "writeOnly": true,
                            "additionalProperties": false,
                            "properties": {
                                "checksum": {"type": "string", "minLength": 32i64, "maxLength": 32i64},
                                "os_hash_algo": {"type": "string", "maxLength": 64i64},
                                "os_hash_value": {"type": "string", "maxLength": 128i64}
                            },
                            "required": ["os_hash_algo", "os_hash_value"]
                        }
                    },
                    "required": ["url", "metadata"]
                },
                "description": "A set of URLs to access the image file kept in external store"
            }
        });
        py!({
            "name": "image",
            "properties": (properties),
            "additionalProperties": {"type": "string"}
        })
    });

    /// The image schema (without its `links`, which validation ignores).
    pub fn image() -> &'static Py {
        &IMAGE
    }

    /// Whether `key` is a property of the image schema (not an extra property).
    pub fn is_base(key: &str) -> bool {
        image().get("properties").and_then(|p| p.get(key)).is_some()
    }

    /// Validate an image document (a create body, or `{path: value}` for
    /// one patch operation): 400 with `jsonschema`'s words for the error
    /// Python's `best_match` would pick.
    pub fn validate(obj: &Map<String, Value>) -> Result<(), Fault> {
        let doc = Value::Object(obj.clone());
        jsonschema::validate(image(), &doc, &search).map_err(|e| {
            Fault::BadRequest(format!(
                "Provided object does not match schema 'image': {e}"
            ))
        })
    }

    /// Validate one property's value as Glance validates a patch operation.
    pub fn validate_property(key: &str, value: &Value) -> Result<(), Fault> {
        let mut obj = Map::new();
        obj.insert(key.to_owned(), value.clone());
        validate(&obj)
    }

    /// Python's `re.search(pattern, text)` for the one pattern the schema
    /// holds (where `$` also matches before a final newline).
    fn search(pattern: &str, text: &str) -> bool {
        if pattern == ID_PATTERN {
            is_uuid(text.strip_suffix('\n').unwrap_or(text))
        } else {
            true
        }
    }

    /// Whether `s` is five dash-separated groups of 8-4-4-4-12 hex digits.
    pub fn is_uuid(s: &str) -> bool {
        let parts: Vec<&str> = s.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        parts.len() == 5
            && parts
                .iter()
                .zip(lens)
                .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alice() -> Identity {
        Identity {
            project_id: Some("p".into()),
            user_id: Some("alice".into()),
            roles: vec!["member".into(), "reader".into()],
        }
    }

    fn create(body: Value) -> Result<Image, Fault> {
        new_image(&body, &alice(), crate::domain::time::now(), || {
            "fresh".into()
        })
    }

    #[test]
    fn empty_body_gives_defaults_owned_by_caller() {
        let img = create(json!({})).expect("created");
        assert_eq!(img.owner.as_deref(), Some("p"));
        assert_eq!(img.visibility, Visibility::Shared);
        assert_eq!(img.id, "fresh");
    }

    #[test]
    fn checks_follow_glance() {
        assert!(
            matches!(create(json!({"disk_format": "floppy"})), Err(Fault::BadRequest(m)) if m.contains("'floppy' is not one of"))
        );
        assert!(
            matches!(create(json!({"status": "active"})), Err(Fault::Forbidden(m)) if m == "Attribute 'status' is read-only.")
        );
        assert!(
            matches!(create(json!({"os_glance_x": "1"})), Err(Fault::ForbiddenDetail(m)) if m == "Attribute 'os_glance_x' is reserved.")
        );
        assert!(
            matches!(create(json!({"foo": 12})), Err(Fault::BadRequest(m)) if m.contains("12 is not of type 'string'"))
        );
        assert!(matches!(
            create(json!({"min_disk": -1})),
            Err(Fault::BadRequest(_))
        ));
        assert!(matches!(
            create(json!({"id": "nope"})),
            Err(Fault::BadRequest(_))
        ));
        assert!(matches!(
            create(json!({"visibility": "public"})),
            Err(Fault::Forbidden(_))
        ));
        assert!(matches!(
            create(json!({"owner": "other"})),
            Err(Fault::ForbiddenDetail(m)) if m == "You are not permitted to create images owned by 'other'"
        ));
    }

    #[test]
    fn schema_errors_carry_jsonschema_details() {
        let Err(Fault::BadRequest(m)) = create(json!({"foo": 12})) else {
            panic!("expected a schema error");
        };
        assert_eq!(
            m,
            "Provided object does not match schema 'image': 12 is not of type 'string'\n\n\
             Failed validating 'type' in schema['additionalProperties']:\n    {'type': 'string'}\n\n\
             On instance['foo']:\n    12"
        );
    }

    #[test]
    fn tag_quota_counts_duplicates_and_precedes_read_only_checks() {
        let tags: Vec<String> = (0..129).map(|i| format!("t{}", i % 100)).collect();
        assert!(matches!(
            create(json!({"tags": tags, "status": "active"})),
            Err(Fault::TooLarge(m)) if m.ends_with("image tags. Attempted: 129, Maximum: 128")
        ));
        let tags: Vec<String> = (0..128).map(|i| format!("t{i}")).collect();
        assert_eq!(
            create(json!({"tags": tags})).expect("at quota").tags.len(),
            128
        );
    }

    #[test]
    fn property_quota_counts_hidden_hash_properties() {
        let mut body = serde_json::Map::new();
        for i in 0..127 {
            body.insert(format!("p{i}"), json!("v"));
        }
        assert!(create(Value::Object(body.clone())).is_ok());
        body.insert("os_hash_algo".into(), json!("x"));
        body.insert("os_hash_value".into(), json!("y"));
        let err = create(Value::Object(body)).expect_err("over quota");
        assert_eq!(
            err,
            Fault::TooLarge(
                "The limit has been exceeded on the number of allowed image properties. Attempted: 129, Maximum: 128".into()
            )
        );
    }

    #[test]
    fn hash_properties_given_on_create_stay_hidden() {
        let img = create(json!({"os_hash_algo": "x"})).expect("accepted");
        assert!(img.to_json()["os_hash_algo"].is_null());
    }

    #[test]
    fn min_checks_come_from_domain_then_database() {
        assert_eq!(
            create(json!({"min_ram": -1, "min_disk": -2})),
            Err(Fault::BadRequest(
                "Invalid value '-2' for parameter 'min_disk': Cannot be a negative value".into()
            ))
        );
        assert_eq!(
            create(json!({"min_ram": 2147483648_i64, "min_disk": 2147483649_i64})),
            Err(Fault::BadRequest(
                "'min_disk' value out of range, must not exceed 2147483647.".into()
            ))
        );
        assert_eq!(
            create(json!({"min_ram": 2.0})).expect("integral").min_ram,
            2
        );
    }
}
