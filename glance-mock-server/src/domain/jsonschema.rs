//! Validation against a JSON schema, answering with the error Python's
//! `jsonschema.validate` raises (its `best_match`) and the text `str()` gives
//! it, which is what Glance puts in its 400s.
//!
//! Only the keywords Glance's image schema uses are known: `type`, `enum`,
//! `maxLength`, `minLength`, `pattern` (through a caller-supplied matcher),
//! `items`, `properties`, `required` and `additionalProperties`.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

use super::pyrepr::{Py, pformat, repr, str_repr};

/// One step of a path into an instance or a schema.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// A list index.
    Index(usize),
    /// A dict key.
    Key(String),
}

impl Step {
    fn render(&self) -> String {
        match self {
            Step::Index(i) => i.to_string(),
            Step::Key(k) => str_repr(k),
        }
    }
}

/// A failed validation, as `jsonschema.ValidationError`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationError {
    /// The short message (`'x' is too long`).
    pub message: String,
    /// The keyword that failed (`maxLength`).
    pub keyword: &'static str,
    /// Where in the instance.
    pub path: Vec<Step>,
    /// Where in the schema, the keyword included.
    pub schema_path: Vec<Step>,
    /// The (sub)schema holding the keyword.
    pub schema: Py,
    /// The offending part of the instance.
    pub instance: Py,
    matches_type: bool,
}

fn index(container: &str, steps: &[Step]) -> String {
    if steps.is_empty() {
        return container.to_owned();
    }
    let inner: Vec<String> = steps.iter().map(Step::render).collect();
    format!("{container}[{}]", inner.join("]["))
}

/// `jsonschema`'s `_pretty`: pformat, continuation lines indented by four.
fn pretty(v: &Py) -> String {
    pformat(v, 72).replace('\n', "\n    ")
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let schema_path = &self.schema_path[..self.schema_path.len().saturating_sub(1)];
        write!(
            f,
            "{}\n\nFailed validating {} in {}:\n    {}\n\nOn {}:\n    {}",
            self.message,
            str_repr(self.keyword),
            index("schema", schema_path),
            pretty(&self.schema),
            index("instance", &self.path),
            pretty(&self.instance),
        )
    }
}

/// Validate `instance` against `schema`; `pattern` answers Python's
/// `re.search(pattern, text)`.
pub fn validate(
    schema: &Py,
    instance: &Value,
    pattern: &dyn Fn(&str, &str) -> bool,
) -> Result<(), Box<ValidationError>> {
    let mut errors = Vec::new();
    Validator { pattern }.check(schema, instance, &[], &[], &mut errors);
    match best_match(errors) {
        Some(e) => Err(Box::new(e)),
        None => Ok(()),
    }
}

/// `jsonschema.exceptions.best_match` with its default relevance: the
/// shallowest error wins, then the greatest path, then one whose instance
/// does not even have the expected type; among equals, the first.
fn best_match(errors: Vec<ValidationError>) -> Option<ValidationError> {
    let key = |e: &ValidationError| {
        (
            std::cmp::Reverse(e.path.len()),
            e.path.clone(),
            !e.matches_type,
        )
    };
    let mut best: Option<ValidationError> = None;
    for e in errors {
        let better = match &best {
            None => true,
            Some(b) => key(&e).cmp(&key(b)) == Ordering::Greater,
        };
        if better {
            best = Some(e);
        }
    }
    best
}

struct Validator<'p> {
    pattern: &'p dyn Fn(&str, &str) -> bool,
}

fn is_type(v: &Value, ty: &str) -> bool {
    match ty {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "number" => v.is_number(),
        "integer" => {
            v.is_i64()
                || v.is_u64()
                || v.as_f64()
                    .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
        }
        _ => false,
    }
}

fn types(ty: &Py) -> Vec<&str> {
    match ty {
        Py::Str(s) => vec![s.as_str()],
        Py::List(items) => items
            .iter()
            .filter_map(|t| match t {
                Py::Str(s) => Some(s.as_str()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `jsonschema._utils.equal`: JSON equality where booleans are not numbers.
fn equal(a: &Py, b: &Value) -> bool {
    match (a, b) {
        (Py::None, Value::Null) => true,
        (Py::Bool(x), Value::Bool(y)) => x == y,
        (Py::Int(x), Value::Number(n)) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .map_or_else(|| n.as_f64() == Some(*x as f64), |y| y == *x),
        (Py::Float(x), Value::Number(n)) => n.as_f64() == Some(*x),
        (Py::Str(x), Value::String(y)) => x == y,
        (Py::List(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        (Py::Dict(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, a)| y.get(k).is_some_and(|b| equal(a, b)))
        }
        _ => false,
    }
}

fn extend<T: Clone>(base: &[T], more: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut v = base.to_vec();
    v.extend(more);
    v
}

impl Validator<'_> {
    /// `iter_errors`: every keyword of `schema`, in the schema's order.
    fn check(
        &self,
        schema: &Py,
        instance: &Value,
        path: &[Step],
        schema_path: &[Step],
        out: &mut Vec<ValidationError>,
    ) {
        let Py::Dict(keywords) = schema else {
            return;
        };
        let matches_type = schema
            .get("type")
            .is_some_and(|t| types(t).iter().any(|t| is_type(instance, t)));
        let error = |keyword: &'static str, message: String| ValidationError {
            message,
            keyword,
            path: path.to_vec(),
            schema_path: extend(schema_path, [Step::Key(keyword.to_owned())]),
            schema: schema.clone(),
            instance: Py::from(instance),
            matches_type,
        };
        let inst = || repr(&Py::from(instance));
        for (keyword, value) in keywords {
            match keyword.as_str() {
                "type" => {
                    let expected = types(value);
                    if !expected.iter().any(|t| is_type(instance, t)) {
                        let names: Vec<String> = expected.iter().map(|t| str_repr(t)).collect();
                        out.push(error(
                            "type",
                            format!("{} is not of type {}", inst(), names.join(", ")),
                        ));
                    }
                }
                "enum" => {
                    let Py::List(allowed) = value else {
                        continue;
                    };
                    if !allowed.iter().any(|a| equal(a, instance)) {
                        out.push(error(
                            "enum",
                            format!("{} is not one of {}", inst(), repr(value)),
                        ));
                    }
                }
                "maxLength" | "minLength" => {
                    let (Value::String(s), Py::Int(limit)) = (instance, value) else {
                        continue;
                    };
                    let len = s.chars().count() as i128;
                    if keyword == "maxLength" && len > *limit {
                        let what = if *limit == 0 {
                            "is expected to be empty"
                        } else {
                            "is too long"
                        };
                        out.push(error("maxLength", format!("{} {what}", inst())));
                    } else if keyword == "minLength" && len < *limit {
                        let what = if *limit == 1 {
                            "should be non-empty"
                        } else {
                            "is too short"
                        };
                        out.push(error("minLength", format!("{} {what}", inst())));
                    }
                }
                "pattern" => {
                    let (Value::String(s), Py::Str(p)) = (instance, value) else {
                        continue;
                    };
                    if !(self.pattern)(p, s) {
                        out.push(error(
                            "pattern",
                            format!("{} does not match {}", inst(), str_repr(p)),
                        ));
                    }
                }
                "items" => {
                    if let Value::Array(items) = instance {
                        for (i, item) in items.iter().enumerate() {
                            self.check(
                                value,
                                item,
                                &extend(path, [Step::Index(i)]),
                                &extend(schema_path, [Step::Key("items".into())]),
                                out,
                            );
                        }
                    }
                }
                "properties" => {
                    let (Value::Object(obj), Py::Dict(props)) = (instance, value) else {
                        continue;
                    };
                    for (name, sub) in props {
                        if let Some(v) = obj.get(name) {
                            self.check(
                                sub,
                                v,
                                &extend(path, [Step::Key(name.clone())]),
                                &extend(
                                    schema_path,
                                    [Step::Key("properties".into()), Step::Key(name.clone())],
                                ),
                                out,
                            );
                        }
                    }
                }
                "required" => {
                    let (Value::Object(obj), Py::List(names)) = (instance, value) else {
                        continue;
                    };
                    for name in names {
                        let Py::Str(name) = name else {
                            continue;
                        };
                        if !obj.contains_key(name) {
                            out.push(error(
                                "required",
                                format!("{} is a required property", str_repr(name)),
                            ));
                        }
                    }
                }
                "additionalProperties" => {
                    let Value::Object(obj) = instance else {
                        continue;
                    };
                    let known = schema.get("properties");
                    let extras: Vec<&String> = obj
                        .keys()
                        .filter(|k| known.and_then(|p| p.get(k)).is_none())
                        .collect();
                    match value {
                        Py::Dict(_) => {
                            for extra in extras {
                                self.check(
                                    value,
                                    &obj[extra.as_str()],
                                    &extend(path, [Step::Key(extra.clone())]),
                                    &extend(schema_path, [Step::Key(keyword.clone())]),
                                    out,
                                );
                            }
                        }
                        Py::Bool(false) if !extras.is_empty() => {
                            let mut names: Vec<&String> = extras;
                            names.sort();
                            let verb = if names.len() == 1 { "was" } else { "were" };
                            let listed: Vec<String> = names.iter().map(|n| str_repr(n)).collect();
                            out.push(error(
                                "additionalProperties",
                                format!(
                                    "Additional properties are not allowed ({} {verb} unexpected)",
                                    listed.join(", ")
                                ),
                            ));
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Py {
        Py::Dict(vec![
            (
                "properties".into(),
                Py::Dict(vec![
                    (
                        "name".into(),
                        Py::Dict(vec![
                            (
                                "type".into(),
                                Py::List(vec!["null".into(), "string".into()]),
                            ),
                            ("maxLength".into(), Py::Int(3)),
                        ]),
                    ),
                    (
                        "disk".into(),
                        Py::Dict(vec![
                            (
                                "type".into(),
                                Py::List(vec!["null".into(), "string".into()]),
                            ),
                            ("enum".into(), Py::List(vec![Py::None, "raw".into()])),
                        ]),
                    ),
                    (
                        "tags".into(),
                        Py::Dict(vec![
                            ("type".into(), "array".into()),
                            (
                                "items".into(),
                                Py::Dict(vec![("type".into(), "string".into())]),
                            ),
                        ]),
                    ),
                ]),
            ),
            (
                "additionalProperties".into(),
                Py::Dict(vec![("type".into(), "string".into())]),
            ),
        ])
    }

    fn check(v: Value) -> Result<(), Box<ValidationError>> {
        validate(&schema(), &v, &|_, _| true)
    }

    #[test]
    fn valid_documents_pass() {
        assert!(check(json!({"name": "abc", "disk": null, "tags": ["x"], "extra": "s"})).is_ok());
    }

    #[test]
    fn message_names_schema_and_instance() {
        let e = check(json!({"name": "abcd"})).expect_err("too long");
        assert_eq!(
            e.to_string(),
            "'abcd' is too long\n\nFailed validating 'maxLength' in schema['properties']['name']:\n    {'type': ['null', 'string'], 'maxLength': 3}\n\nOn instance['name']:\n    'abcd'"
        );
    }

    #[test]
    fn type_error_comes_before_enum_on_the_same_value() {
        let e = check(json!({"disk": 5})).expect_err("wrong type");
        assert_eq!(e.message, "5 is not of type 'null', 'string'");
    }

    #[test]
    fn shallowest_then_greatest_path_wins() {
        let e = check(json!({"tags": [1, 2], "name": 5, "zz": 1})).expect_err("invalid");
        assert_eq!(e.path, vec![Step::Key("zz".into())]);
        assert_eq!(e.message, "1 is not of type 'string'");
        assert_eq!(e.schema_path.len(), 2, "{:?}", e.schema_path);
        let e = check(json!({"tags": [1, 2]})).expect_err("invalid");
        assert_eq!(e.path, vec![Step::Key("tags".into()), Step::Index(1)]);
        assert!(
            e.to_string()
                .contains("in schema['properties']['tags']['items']:")
        );
    }

    #[test]
    fn integral_floats_are_integers_and_booleans_are_not() {
        assert!(is_type(&json!(2.0), "integer"));
        assert!(!is_type(&json!(2.5), "integer"));
        assert!(!is_type(&json!(true), "integer"));
    }
}
