//! `POST /v2/images`: turning a request body into a new image record, with
//! Glance's checks in Glance's order (`RequestDeserializer.create`, then
//! `ImageFactory.new_image`, then policy and quotas).

use serde_json::Value;

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
/// `image_property_quota` and `image_tag_quota` defaults.
pub const PROPERTY_QUOTA: usize = 128;
/// `image_tag_quota` default.
pub const TAG_QUOTA: usize = 128;

const READ_ONLY_IN_REQUEST: &[&str] = &["direct_url", "self", "file", "schema", "stores"];
const READ_ONLY_BASE: &[&str] = &[
    "status",
    "checksum",
    "size",
    "virtual_size",
    "created_at",
    "updated_at",
];
const RESERVED: &[&str] = &["location", "deleted", "deleted_at"];
/// Accepted on create by Glance and silently dropped from the representation.
const IGNORED_ON_CREATE: &[&str] = &["os_hash_algo", "os_hash_value"];

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
    for key in obj.keys() {
        if !schema::is_base(key) && key.chars().count() > 255 {
            return Err(Fault::BadRequest(
                "Custom property should not be greater than 255 characters.".into(),
            ));
        }
    }
    for key in obj.keys() {
        if RESERVED.contains(&key.as_str()) || key.starts_with("os_glance") {
            return Err(Fault::Forbidden(format!("Attribute '{key}' is reserved.")));
        }
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
    for key in ["min_ram", "min_disk"] {
        if let Some(n) = obj.get(key).and_then(Value::as_i64) {
            check_min(key, n)?;
        }
    }

    let owner = match obj.get("owner") {
        Some(Value::String(o)) => Some(o.clone()),
        Some(_) => None,
        None => who.project_id.clone(),
    };
    if !who.is_admin() {
        if !who.has_role("member") {
            return Err(Fault::Forbidden(
                "You are not authorized to complete add_image action.".into(),
            ));
        }
        if owner != who.project_id {
            return Err(Fault::Forbidden(format!(
                "You are not permitted to create images owned by '{}'.",
                owner.as_deref().unwrap_or("None")
            )));
        }
    }

    let id = match obj.get("id") {
        Some(Value::String(id)) => id.clone(),
        _ => fresh_id(),
    };
    let mut image = Image::new(id, owner, now);
    let mut property_count = 0;
    for (key, value) in obj {
        match (key.as_str(), value) {
            ("id" | "owner", _) => {}
            ("name", v) => image.name = v.as_str().map(str::to_owned),
            ("visibility", Value::String(v)) => {
                image.visibility = Visibility::parse(v).unwrap_or(Visibility::Shared)
            }
            ("protected", Value::Bool(b)) => image.protected = *b,
            ("os_hidden", Value::Bool(b)) => image.os_hidden = *b,
            ("min_ram", v) => image.min_ram = v.as_i64().unwrap_or(0),
            ("min_disk", v) => image.min_disk = v.as_i64().unwrap_or(0),
            ("container_format", v) => image.container_format = v.as_str().map(str::to_owned),
            ("disk_format", v) => image.disk_format = v.as_str().map(str::to_owned),
            ("tags", Value::Array(tags)) => {
                image.tags = tags
                    .iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            }
            (k, _) if IGNORED_ON_CREATE.contains(&k) => {}
            (k, Value::String(v)) => {
                property_count += 1;
                image.properties.insert(k.to_owned(), v.clone());
            }
            _ => {}
        }
    }

    match image.visibility {
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
    if property_count > PROPERTY_QUOTA {
        return Err(Fault::TooLarge(format!(
            "The limit has been exceeded on the number of allowed image properties. Attempted: {property_count}, Maximum: {PROPERTY_QUOTA}"
        )));
    }
    if image.tags.len() > TAG_QUOTA {
        return Err(Fault::TooLarge(format!(
            "The limit has been exceeded on the number of allowed image tags. Attempted: {}, Maximum: {TAG_QUOTA}",
            image.tags.len()
        )));
    }
    Ok(image)
}

/// Glance's check on `min_ram`/`min_disk` values.
pub fn check_min(key: &str, n: i64) -> Result<(), Fault> {
    if n < 0 {
        return Err(Fault::BadRequest(format!(
            "Invalid value '{n}' for parameter '{key}': Cannot be a negative value"
        )));
    }
    if n > i64::from(i32::MAX) {
        return Err(Fault::BadRequest(format!(
            "'{key}' value out of range, must not exceed 2147483647."
        )));
    }
    Ok(())
}

fn read_only(key: &str) -> Fault {
    Fault::Forbidden(format!("Attribute '{key}' is read-only."))
}

pub mod schema {
    //! The parts of `/v2/schemas/image` that requests are validated against,
    //! with messages in the words of Python's `jsonschema`.

    use serde_json::{Map, Value};

    use super::{CONTAINER_FORMATS, DISK_FORMATS, Fault};

    const ID_PATTERN: &str =
        "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$";
    const VISIBILITIES: &[&str] = &["community", "public", "private", "shared"];
    const BASE: &[&str] = &[
        "id",
        "name",
        "status",
        "visibility",
        "protected",
        "os_hidden",
        "checksum",
        "os_hash_algo",
        "os_hash_value",
        "owner",
        "size",
        "virtual_size",
        "container_format",
        "disk_format",
        "min_ram",
        "min_disk",
        "tags",
        "created_at",
        "updated_at",
        "self",
        "file",
        "schema",
        "direct_url",
        "locations",
        "stores",
    ];

    /// Whether `key` is a property of the image schema (not an extra property).
    pub fn is_base(key: &str) -> bool {
        BASE.contains(&key)
    }

    /// Validate the writable properties of an image document.
    pub fn validate(obj: &Map<String, Value>) -> Result<(), Fault> {
        for (key, value) in obj {
            validate_property(key, value)?;
        }
        Ok(())
    }

    /// Validate one property's value against the image schema.
    pub fn validate_property(key: &str, value: &Value) -> Result<(), Fault> {
        match key {
            "id" => string_matching(key, value, is_uuid, ID_PATTERN),
            "name" | "owner" => nullable_string(key, value, 255),
            "visibility" => one_of(key, value, VISIBILITIES, false),
            "disk_format" => one_of(key, value, DISK_FORMATS, true),
            "container_format" => one_of(key, value, CONTAINER_FORMATS, true),
            "protected" | "os_hidden" => of_type(key, value, value.is_boolean(), "boolean"),
            "min_ram" | "min_disk" => {
                of_type(key, value, value.is_i64() || value.is_u64(), "integer")
            }
            "tags" => {
                let Value::Array(tags) = value else {
                    return of_type(key, value, false, "array");
                };
                for tag in tags {
                    match tag {
                        Value::String(s) if s.chars().count() > 255 => {
                            return Err(mismatch(format!("{} is too long", py(tag))));
                        }
                        Value::String(_) => {}
                        other => {
                            return Err(mismatch(format!("{} is not of type 'string'", py(other))));
                        }
                    }
                }
                Ok(())
            }
            k if is_base(k) => Ok(()),
            _ => of_type(key, value, value.is_string(), "string"),
        }
    }

    /// Whether `s` matches the id pattern of the image schema.
    pub fn is_uuid(s: &str) -> bool {
        let parts: Vec<&str> = s.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        parts.len() == 5
            && parts
                .iter()
                .zip(lens)
                .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
    }

    fn mismatch(text: String) -> Fault {
        Fault::BadRequest(format!(
            "Provided object does not match schema 'image': {text}"
        ))
    }

    fn of_type(key: &str, value: &Value, ok: bool, ty: &str) -> Result<(), Fault> {
        if ok {
            Ok(())
        } else {
            Err(mismatch(format!(
                "{} is not of type '{ty}' On instance['{key}']: {}",
                py(value),
                py(value)
            )))
        }
    }

    fn nullable_string(key: &str, value: &Value, max: usize) -> Result<(), Fault> {
        match value {
            Value::Null => Ok(()),
            Value::String(s) if s.chars().count() > max => Err(mismatch(format!(
                "{} is too long On instance['{key}']: {}",
                py(value),
                py(value)
            ))),
            Value::String(_) => Ok(()),
            _ => Err(mismatch(format!(
                "{} is not of type 'null', 'string' On instance['{key}']: {}",
                py(value),
                py(value)
            ))),
        }
    }

    fn string_matching(
        key: &str,
        value: &Value,
        ok: impl Fn(&str) -> bool,
        pattern: &str,
    ) -> Result<(), Fault> {
        match value {
            Value::String(s) if ok(s) => Ok(()),
            Value::String(_) => Err(mismatch(format!(
                "{} does not match '{pattern}' On instance['{key}']: {}",
                py(value),
                py(value)
            ))),
            _ => of_type(key, value, false, "string"),
        }
    }

    fn one_of(key: &str, value: &Value, allowed: &[&str], nullable: bool) -> Result<(), Fault> {
        match value {
            Value::Null if nullable => Ok(()),
            Value::String(s) if allowed.contains(&s.as_str()) => Ok(()),
            _ => {
                let mut names: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
                if nullable {
                    names.insert(0, "None".into());
                }
                Err(mismatch(format!(
                    "{} is not one of [{}] On instance['{key}']: {}",
                    py(value),
                    names.join(", "),
                    py(value)
                )))
            }
        }
    }

    /// A JSON value as Python's `repr` would print it.
    pub fn py(v: &Value) -> String {
        match v {
            Value::Null => "None".into(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => format!("'{s}'"),
            Value::Array(a) => format!("[{}]", a.iter().map(py).collect::<Vec<_>>().join(", ")),
            Value::Object(o) => format!(
                "{{{}}}",
                o.iter()
                    .map(|(k, v)| format!("'{k}': {}", py(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
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
            matches!(create(json!({"os_glance_x": "1"})), Err(Fault::Forbidden(m)) if m == "Attribute 'os_glance_x' is reserved.")
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
            Err(Fault::Forbidden(_))
        ));
    }
}
