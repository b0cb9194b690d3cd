//! `POST /v2/tasks`: the body as Glance's deserializer validates it
//! (required keys, the task schema with `jsonschema`'s messages), a legacy
//! import's location, and what a task needs in its input to run.

use serde_json::{Map, Value};

use super::TaskType;
use crate::domain::Fault;
use crate::domain::python::Py;
use crate::domain::python::jsonschema;
use crate::domain::python::{str_of, truthy};

fn bad(msg: impl Into<String>) -> Fault {
    Fault::BadRequest(msg.into())
}

/// What `POST /v2/tasks` asks for, once its body passed the deserializer.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    /// The task type.
    pub task_type: TaskType,
    /// The input (an object or null).
    pub input: Value,
}

/// Builds a [`Py`] from JSON-like syntax, keeping dict order.
macro_rules! py {
    (null) => { Py::None };
    ([ $($item:tt),* $(,)? ]) => { Py::List(vec![ $( py!($item) ),* ]) };
    ({ $($key:literal : $value:tt),* $(,)? }) => {
        Py::Dict(vec![ $( ($key.to_string(), py!($value)) ),* ])
    };
    ($other:expr) => { Py::from($other) };
}

/// The task schema as Glance validates a create body with it.
fn task_schema() -> &'static Py {
    static SCHEMA: std::sync::LazyLock<Py> = std::sync::LazyLock::new(|| {
        let properties = py!({
            "id": {"description": "An identifier for the task",
                "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
                "type": "string"},
            "type": {"description": "The type of task represented by this content",
                "enum": ["import", "api_image_import", "location_import"], "type": "string"},
            "status": {"description": "The current status of this task",
                "enum": ["pending", "processing", "success", "failure"], "type": "string"},
            "input": {"description": "The parameters required by task, JSON blob", "type": ["null", "object"]},
            "result": {"description": "The result of current task, JSON blob", "type": ["null", "object"]},
            "owner": {"description": "An identifier for the owner of this task", "type": "string"},
            "message": {"description": "Human-readable informative message only included when appropriate (usually on failure)",
                "type": "string"},
            "image_id": {"description": "Image associated with the task", "type": "string"},
            "request_id": {"description": "Human-readable informative request-id", "type": "string"},
            "user_id": {"description": "User associated with the task", "type": "string"},
            "expires_at": {"description": "Datetime when this resource would be subject to removal",
                "type": ["null", "string"]},
            "created_at": {"description": "Datetime when this resource was created", "type": "string"},
            "updated_at": {"description": "Datetime when this resource was updated", "type": "string"},
            "self": {"readOnly": true, "type": "string"},
            "schema": {"readOnly": true, "type": "string"}
        });
        py!({"name": "task", "properties": (properties), "additionalProperties": false})
    });
    &SCHEMA
}

/// `re.search` for the one pattern of the task schema (a UUID).
fn search(_pattern: &str, text: &str) -> bool {
    let b = text.as_bytes();
    let groups = [8usize, 4, 4, 4, 12];
    let mut at = 0;
    for (i, n) in groups.iter().enumerate() {
        if b.len() < at + n || !b[at..at + n].iter().all(u8::is_ascii_hexdigit) {
            return false;
        }
        at += n;
        if i < 4 {
            if b.get(at) != Some(&b'-') {
                return false;
            }
            at += 1;
        }
    }
    at == b.len() || (at + 1 == b.len() && b[at] == b'\n')
}

/// `RequestDeserializer.create`: `type` and `input` are required (checked
/// on whatever the body is), then the body must match the task schema.
/// `doc` is the body parsed with its key order (for the error text).
pub fn parse_create(body: &Value, doc: &Py) -> Result<NewTask, Fault> {
    for key in ["type", "input"] {
        let present = match body {
            Value::Object(m) => m.contains_key(key),
            Value::Array(items) => items.iter().any(|i| i.as_str() == Some(key)),
            _ => false,
        };
        if !present {
            return Err(bad(format!("Task '{key}' is required")));
        }
    }
    jsonschema::validate(task_schema(), body, &search).map_err(|e| {
        let mut e = *e;
        // Show the offending part with the key order it was sent in.
        if let Some(sent) = walk(doc, &e.path) {
            e.instance = sent.clone();
        }
        bad(format!("Provided object does not match schema 'task': {e}"))
    })?;
    let Value::Object(m) = body else {
        // `properties.pop(key)` on a list.
        return Err(Fault::internal());
    };
    let task_type = m
        .get("type")
        .and_then(Value::as_str)
        .and_then(TaskType::parse)
        .ok_or_else(Fault::internal)?;
    Ok(NewTask {
        task_type,
        input: m.get("input").cloned().unwrap_or(Value::Null),
    })
}

/// The part of `doc` at `path`.
fn walk<'a>(doc: &'a Py, path: &[jsonschema::Step]) -> Option<&'a Py> {
    path.iter().try_fold(doc, |at, step| match (at, step) {
        (Py::Dict(_), jsonschema::Step::Key(k)) => at.get(k),
        (Py::List(items), jsonschema::Step::Index(i)) => items.get(*i),
        _ => None,
    })
}

/// A JSON document as Python's `json.loads` sees it, dict order kept
/// (`None` if it is not JSON).
pub fn parse_ordered(bytes: &[u8]) -> Option<Py> {
    use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

    struct Ordered(Py);

    impl<'de> Deserialize<'de> for Ordered {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Ordered;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("JSON")
                }
                fn visit_unit<E>(self) -> Result<Ordered, E> {
                    Ok(Ordered(Py::None))
                }
                fn visit_bool<E>(self, b: bool) -> Result<Ordered, E> {
                    Ok(Ordered(Py::Bool(b)))
                }
                fn visit_i64<E>(self, n: i64) -> Result<Ordered, E> {
                    Ok(Ordered(Py::Int(n.into())))
                }
                fn visit_u64<E>(self, n: u64) -> Result<Ordered, E> {
                    Ok(Ordered(Py::Int(n.into())))
                }
                fn visit_f64<E>(self, n: f64) -> Result<Ordered, E> {
                    Ok(Ordered(Py::Float(n)))
                }
                fn visit_str<E>(self, s: &str) -> Result<Ordered, E> {
                    Ok(Ordered(Py::Str(s.to_owned())))
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
                    let mut items = Vec::new();
                    while let Some(Ordered(v)) = seq.next_element()? {
                        items.push(v);
                    }
                    Ok(Ordered(Py::List(items)))
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                    let mut items: Vec<(String, Py)> = Vec::new();
                    while let Some((k, Ordered(v))) = map.next_entry::<String, Ordered>()? {
                        // A repeated key keeps its first place and its last value.
                        match items.iter_mut().find(|(key, _)| *key == k) {
                            Some(slot) => slot.1 = v,
                            None => items.push((k, v)),
                        }
                    }
                    Ok(Ordered(Py::Dict(items)))
                }
            }
            d.deserialize_any(V)
        }
    }

    serde_json::from_slice::<Ordered>(bytes).ok().map(|o| o.0)
}

/// How a legacy `import_from` location is checked before filtering
/// (`validate_location_uri`): the URI to filter, or the 400.
pub fn legacy_location(input: &Value) -> Result<String, Fault> {
    let empty = Map::new();
    let input = match input {
        Value::Object(m) if !m.is_empty() => m,
        _ => &empty,
    };
    let location = input.get("import_from").unwrap_or(&Value::Null);
    if !truthy(location) {
        return Err(bad(format!("Invalid location: {}", str_of(location))));
    }
    let Some(location) = location.as_str() else {
        // `.startswith` on a number, list or dict.
        return Err(Fault::internal());
    };
    if location.starts_with("http://") || location.starts_with("https://") {
        Ok(location.to_owned())
    } else if location.starts_with("file:///") || location.starts_with("filesystem:///") {
        Err(bad(
            "File based imports are not allowed. Please use a non-local source of image data.",
        ))
    } else {
        Err(bad(
            "The given uri is not valid. Please specify a valid uri from the following list of supported uri ['http']",
        ))
    }
}

/// The 400 when a legacy location does not pass the import filter.
pub fn legacy_filtered(uri: &str) -> Fault {
    bad(format!(
        "URI for legacy import task does not pass filtering: {uri}"
    ))
}

/// `task['input'].get('image_id')` when the task is created: a null input
/// fails (500) for every type but `import` (checked before).
pub fn input_image_id(input: &Value) -> Result<Option<String>, Fault> {
    match input {
        Value::Object(m) => Ok(m.get("image_id").filter(|v| !v.is_null()).map(str_of)),
        _ => Err(Fault::internal()),
    }
}

/// `unpack_task_input`: why a task cannot run with its input, if it cannot.
pub fn input_problem(task_type: TaskType, input: &Value) -> Option<String> {
    let keys: Option<&Map<String, Value>> = input.as_object();
    let has = |k: &str| keys.is_some_and(|m| m.contains_key(k));
    let empty = !truthy(input);
    match task_type {
        TaskType::ApiImageImport if empty => {
            Some("Input to api_image_import task is empty.".into())
        }
        TaskType::ApiImageImport if !has("image_id") => {
            Some("Missing required 'image_id' field".into())
        }
        TaskType::LocationImport if empty => Some("Input to location_import task is empty.".into()),
        TaskType::LocationImport => ["image_id", "loc_url", "validation_data"]
            .into_iter()
            .find(|k| !has(k))
            .map(|k| format!("Input does not contain '{k}' field")),
        TaskType::Import => ["import_from", "import_from_format", "image_properties"]
            .into_iter()
            .find(|k| !has(k))
            .map(|k| format!("Input does not contain '{k}' field")),
        TaskType::ApiImageImport => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn create_bodies_and_legacy_locations() {
        let parse = |v: Value| parse_create(&v, &Py::from(&v));
        assert_eq!(parse(json!({})).err(), Some(bad("Task 'type' is required")));
        assert_eq!(parse(json!([])).err(), Some(bad("Task 'type' is required")));
        assert_eq!(
            parse(json!({"type": "import"})).err(),
            Some(bad("Task 'input' is required"))
        );
        let err = parse(json!({"type": "bogus", "input": {}})).expect_err("enum");
        assert!(matches!(&err, Fault::BadRequest(m) if m.starts_with(
            "Provided object does not match schema 'task': 'bogus' is not one of ['import', 'api_image_import', 'location_import']")));
        let ok = parse(json!({"type": "import", "input": null})).expect("valid");
        assert_eq!(ok.task_type, TaskType::Import);
        assert_eq!(
            legacy_location(&ok.input).err(),
            Some(bad("Invalid location: None"))
        );
        assert_eq!(
            legacy_location(&json!({"import_from": "file:///etc/passwd"})).err(),
            Some(bad(
                "File based imports are not allowed. Please use a non-local source of image data."
            ))
        );
        assert!(
            matches!(legacy_location(&json!({"import_from": "ftp://x"})), Err(Fault::BadRequest(m)) if m.contains("['http']"))
        );
        let sent = br#"{"type": "import", "input": {}, "extra": 1}"#;
        let doc = parse_ordered(sent).expect("json");
        let body: Value = serde_json::from_slice(sent).expect("json");
        let err = parse_create(&body, &doc).expect_err("extra");
        assert!(
            matches!(&err, Fault::BadRequest(m) if m.ends_with("On instance:\n    {'type': 'import', 'input': {}, 'extra': 1}")),
            "{err:?}"
        );
        assert_eq!(
            legacy_location(&json!({"import_from": "http://h/x"})),
            Ok("http://h/x".into())
        );
        assert_eq!(input_image_id(&Value::Null), Err(Fault::internal()));
        assert_eq!(
            input_problem(TaskType::ApiImageImport, &json!({})).as_deref(),
            Some("Input to api_image_import task is empty.")
        );
        assert_eq!(
            input_problem(TaskType::Import, &json!({"import_from": "x"})).as_deref(),
            Some("Input does not contain 'import_from_format' field")
        );
    }
}
