//! Request bodies as WSME reads them into Glance's metadata definition
//! models (`glance/api/v2/model/metadef_*.py`), after the JSON schema has
//! passed them, and back out as WSME writes them.
//!
//! WSME is stricter, and odder, than the schemas: an attribute a model does
//! not define, a missing mandatory attribute or a value of the wrong type
//! makes Glance fail with a 500; integers are truncated from floats; and a
//! property's `default` is kept as ASCII text (`5` becomes `"5"`, a list
//! `null`; non-ASCII text is Glance's 400 for undecodable requests). Values
//! come out as JSON objects holding only the attributes that were set (a
//! `null` stays, as WSME writes `None`); WSME writes them back unchanged.

use serde_json::{Map, Value};

use crate::domain::Fault;
use crate::domain::python::json as pyjson;
use crate::domain::python::{self, Py, repr};

/// The type of one model attribute.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// `types.text`
    Text,
    /// `int`
    Int,
    /// `bool`
    Bool,
    /// `types.bytes`: text, written back as ASCII.
    Bytes,
    /// `[types.text]`
    TextList,
    /// A nested model.
    Model(&'static Model),
    /// `[Model]`
    List(&'static Model),
    /// `{types.text: Model}`
    Dict(&'static Model),
}

/// A WSME model: its attributes in definition order, and which are mandatory.
#[derive(Debug)]
pub struct Model {
    attrs: &'static [(&'static str, Kind, bool)],
}

use Kind::{Bool, Bytes, Int, Text, TextList};

/// `ItemType`: the `items` of an array property.
pub static ITEM_TYPE: Model = Model {
    attrs: &[("type", Text, true), ("enum", TextList, false)],
};

/// `PropertyType`.
pub static PROPERTY_TYPE: Model = Model {
    attrs: &[
        ("name", Text, false),
        ("type", Text, true),
        ("title", Text, true),
        ("description", Text, false),
        ("operators", TextList, false),
        ("default", Bytes, false),
        ("readonly", Bool, false),
        ("minimum", Int, false),
        ("maximum", Int, false),
        ("enum", TextList, false),
        ("pattern", Text, false),
        ("minLength", Int, false),
        ("maxLength", Int, false),
        ("confidential", Bool, false),
        ("items", Kind::Model(&ITEM_TYPE), false),
        ("uniqueItems", Bool, false),
        ("minItems", Int, false),
        ("maxItems", Int, false),
        ("additionalItems", Bool, false),
    ],
};

/// `MetadefObject`.
pub static OBJECT: Model = Model {
    attrs: &[
        ("name", Text, true),
        ("required", TextList, false),
        ("description", Text, false),
        ("properties", Kind::Dict(&PROPERTY_TYPE), false),
        ("created_at", Text, false),
        ("updated_at", Text, false),
        ("self", Text, false),
        ("schema", Text, false),
    ],
};

/// `ResourceTypeAssociation`.
pub static RESOURCE_TYPE_ASSOCIATION: Model = Model {
    attrs: &[
        ("name", Text, true),
        ("prefix", Text, false),
        ("properties_target", Text, false),
        ("created_at", Text, false),
        ("updated_at", Text, false),
    ],
};

/// `MetadefTag`.
pub static TAG: Model = Model {
    attrs: &[
        ("name", Text, true),
        ("created_at", Text, false),
        ("updated_at", Text, false),
    ],
};

/// `MetadefTags`: the create-multiple body.
pub static TAGS: Model = Model {
    attrs: &[("tags", Kind::List(&TAG), false)],
};

/// `Namespace`.
pub static NAMESPACE: Model = Model {
    attrs: &[
        ("namespace", Text, true),
        ("display_name", Text, false),
        ("description", Text, false),
        ("visibility", Text, false),
        ("protected", Bool, false),
        ("owner", Text, false),
        ("created_at", Text, false),
        ("updated_at", Text, false),
        (
            "resource_type_associations",
            Kind::List(&RESOURCE_TYPE_ASSOCIATION),
            false,
        ),
        ("properties", Kind::Dict(&PROPERTY_TYPE), false),
        ("objects", Kind::List(&OBJECT), false),
        ("tags", Kind::List(&TAG), false),
        ("self", Text, false),
        ("schema", Text, false),
    ],
};

/// WSME's failures are not caught by Glance: webob's bare 500.
fn fail() -> Fault {
    Fault::internal()
}

/// Glance's answer to a `UnicodeDecodeError` while it handles a request.
pub fn undecodable() -> Fault {
    Fault::BadRequest(
        "Error decoding your request. Either the URL or the request body contained characters that could not be decoded by Glance".into(),
    )
}

/// `json.fromjson(model, value)`: the attributes set, converted.
pub fn from_json(model: &Model, value: &Py) -> Result<Map<String, Value>, Fault> {
    let Py::Dict(items) = value else {
        return Err(fail());
    };
    if items
        .iter()
        .any(|(k, _)| !model.attrs.iter().any(|(name, _, _)| name == k))
    {
        // UnknownAttribute
        return Err(fail());
    }
    let mut out = Map::new();
    for (name, kind, mandatory) in model.attrs {
        match value.get(name) {
            Some(v) => {
                out.insert((*name).to_owned(), convert(*kind, v)?);
            }
            None if *mandatory => return Err(fail()),
            None => {}
        }
    }
    Ok(out)
}

fn convert(kind: Kind, v: &Py) -> Result<Value, Fault> {
    if matches!(v, Py::None) {
        return Ok(Value::Null);
    }
    Ok(match kind {
        Kind::Text => match v {
            Py::Str(s) => Value::String(s.clone()),
            _ => return Err(fail()),
        },
        Kind::Int => Value::from(python::int64_of(v).ok_or_else(fail)?),
        Kind::Bool => match v {
            Py::Bool(b) => Value::Bool(*b),
            Py::Int(n) => Value::Bool(*n != 0),
            Py::Str(s) if ["true", "t", "yes", "y", "on", "1"].contains(&s.as_str()) => {
                Value::Bool(true)
            }
            Py::Str(s) if ["false", "f", "no", "n", "off", "0"].contains(&s.as_str()) => {
                Value::Bool(false)
            }
            _ => return Err(fail()),
        },
        Kind::Bytes => match v {
            // Encoded to UTF-8, then decoded as ASCII.
            Py::Str(s) if !s.is_ascii() => return Err(undecodable()),
            Py::Str(s) => Value::String(s.clone()),
            Py::Int(_) | Py::Float(_) | Py::Bool(_) => Value::String(repr(v)),
            // `str_fromjson` answers nothing for other types.
            _ => Value::Null,
        },
        Kind::TextList => match v {
            Py::List(items) => Value::Array(
                items
                    .iter()
                    .map(|i| convert(Kind::Text, i))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(fail()),
        },
        Kind::Model(m) => Value::Object(from_json(m, v)?),
        Kind::List(m) => match v {
            Py::List(items) => Value::Array(
                items
                    .iter()
                    .map(|i| match i {
                        Py::None => Ok(Value::Null),
                        _ => from_json(m, i).map(Value::Object),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(fail()),
        },
        Kind::Dict(m) => match v {
            Py::Dict(items) => {
                let mut out = Map::new();
                for (k, i) in items {
                    let converted = match i {
                        Py::None => Value::Null,
                        _ => Value::Object(from_json(m, i)?),
                    };
                    out.insert(k.clone(), converted);
                }
                Value::Object(out)
            }
            _ => return Err(fail()),
        },
    })
}

/// Read a request body as JSON with its keys in order, for schema errors;
/// the caller has already checked it is JSON.
pub fn ordered(body: &[u8]) -> Py {
    pyjson::parse(body).unwrap_or(Py::None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn property(s: &str) -> Result<Value, Fault> {
        from_json(&PROPERTY_TYPE, &ordered(s.as_bytes())).map(Value::Object)
    }

    // Each case is what `json.tojson(PropertyType, json.fromjson(...))`
    // gives in Glance 33's Python environment.

    #[test]
    fn numbers_and_defaults_convert_like_wsme() {
        assert_eq!(
            property(r#"{"name":"x","title":"X","type":"number","minimum":1.5,"maximum":-9.9,"default":5}"#)
                .expect("valid"),
            json!({"name": "x", "title": "X", "type": "number", "minimum": 1, "maximum": -9, "default": "5"})
        );
        assert_eq!(
            property(r#"{"title":"X","type":"string","default":true}"#).expect("valid")["default"],
            "True"
        );
        assert_eq!(
            property(r#"{"title":"X","type":"string","default":3.5}"#).expect("valid")["default"],
            "3.5"
        );
        assert_eq!(
            property(r#"{"title":"X","type":"string","default":[1]}"#).expect("valid")["default"],
            Value::Null
        );
    }

    #[test]
    fn unknown_or_missing_attributes_and_bad_types_fail() {
        let internal = Err(Fault::internal());
        assert_eq!(
            property(r#"{"title":"X","type":"string","foo":1}"#),
            internal
        );
        assert_eq!(property(r#"{"title":"X"}"#), internal);
        assert_eq!(
            property(r#"{"title":"X","type":"string","enum":["a",2]}"#),
            internal
        );
        assert_eq!(
            property(r#"{"title":"X","type":"string","items":{"enum":["a"]}}"#),
            internal
        );
        assert_eq!(
            property(r#"{"title":"X","type":"string","readonly":"yes"}"#).expect("valid")["readonly"],
            true
        );
    }

    #[test]
    fn defaults_must_be_ascii() {
        assert_eq!(
            property(r#"{"title":"X","type":"string","default":"é"}"#),
            Err(undecodable())
        );
        // The unknown attribute is found before any value is converted.
        assert_eq!(
            property(r#"{"title":"X","type":"string","default":"é","x":1}"#),
            Err(Fault::internal())
        );
    }
}
