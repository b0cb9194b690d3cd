//! Reading a patch body: `RequestDeserializer.update`'s checks of each
//! operation, its JSON pointer and its value, before any is applied.

use serde_json::{Map, Value};

use super::{Change, Dialect, Op, Patch, SUPPORTED, bad};
use crate::domain::Fault;
use crate::domain::create::schema;
use crate::domain::fields::{READ_ONLY_IN_UPDATE, is_reserved};
use crate::domain::python::{is_py_space, str_of};

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
                    str_of(op)
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
    if READ_ONLY_IN_UPDATE.contains(&root) {
        return Err(Fault::Forbidden(format!(
            "Attribute '{root}' is read-only."
        )));
    }
    if is_reserved(root) {
        return Err(Fault::Forbidden(format!("Attribute '{root}' is reserved.")));
    }
    match (change.op, change.path.len()) {
        (Op::Remove, _) => Ok(()),
        (_, 1) => schema::validate_property(root, &change.value),
        // `/locations/N`: the value is one element of the list.
        _ => schema::validate_property(root, &Value::Array(vec![change.value.clone()])),
    }
}
