//! Validation against a JSON schema, answering with the error Python's
//! `jsonschema.validate` raises (its `best_match`) and the text `str()` gives
//! it, which is what Glance puts in its 400s.
//!
//! Only the keywords Glance's schemas use are known: `type`, `enum`,
//! `maxLength`, `minLength`, `pattern` (through a caller-supplied matcher),
//! `items`, `properties`, `required`, `additionalProperties`, and for the
//! metadata definition and location schemas `$ref` (local `#/...` pointers),
//! `allOf`, `minimum`, `maximum`, `minItems`, `maxItems`, `uniqueItems` and
//! `dependentRequired` (Glance validates with the newest draft, 2020-12).
//! Other keywords (`format`, `default`, `description`, ...) assert nothing.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

use super::{Py, pformat, repr, str_repr};

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
    validate_py(schema, &Py::from(instance), pattern)
}

/// [`validate`] for an instance already in Python's shape, such as a
/// request body parsed with its keys in the order the client sent them
/// (which is the order Python prints them in the error).
pub fn validate_py(
    schema: &Py,
    instance: &Py,
    pattern: &dyn Fn(&str, &str) -> bool,
) -> Result<(), Box<ValidationError>> {
    let mut errors = Vec::new();
    Validator {
        pattern,
        root: schema,
    }
    .check(schema, instance, &[], &[], &mut errors);
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
    /// The document `$ref` pointers resolve in.
    root: &'p Py,
}

fn is_type(v: &Py, ty: &str) -> bool {
    match ty {
        "null" => matches!(v, Py::None),
        "boolean" => matches!(v, Py::Bool(_)),
        "string" => matches!(v, Py::Str(_)),
        "array" => matches!(v, Py::List(_)),
        "object" => matches!(v, Py::Dict(_)),
        "number" => matches!(v, Py::Int(_) | Py::Float(_)),
        "integer" => match v {
            Py::Int(_) => true,
            Py::Float(f) => f.is_finite() && f.fract() == 0.0,
            _ => false,
        },
        _ => false,
    }
}

/// A number as Python compares it, `None` for anything else (booleans
/// included: jsonschema does not treat them as numbers).
fn number(v: &Py) -> Option<f64> {
    match v {
        Py::Int(n) => Some(*n as f64),
        Py::Float(f) => Some(*f),
        _ => None,
    }
}

/// Resolve a local `$ref` (`#/definitions/x`) in `root`.
fn resolve<'a>(root: &'a Py, reference: &str) -> Option<&'a Py> {
    let pointer = reference.strip_prefix('#')?;
    pointer.split('/').skip(1).try_fold(root, |node, part| {
        node.get(&part.replace("~1", "/").replace("~0", "~"))
    })
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
fn equal(a: &Py, b: &Py) -> bool {
    match (a, b) {
        (Py::None, Py::None) => true,
        (Py::Bool(x), Py::Bool(y)) => x == y,
        (Py::Int(x), Py::Int(y)) => x == y,
        (Py::Int(_) | Py::Float(_), Py::Int(_) | Py::Float(_)) => number(a) == number(b),
        (Py::Str(x), Py::Str(y)) => x == y,
        (Py::List(x), Py::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        (Py::Dict(x), Py::Dict(_)) => {
            let keys = |d: &Py| match d {
                Py::Dict(items) => {
                    let mut k: Vec<String> = items.iter().map(|(k, _)| k.clone()).collect();
                    k.sort();
                    k.dedup();
                    k
                }
                _ => Vec::new(),
            };
            keys(a) == keys(b) && x.iter().all(|(k, v)| b.get(k).is_some_and(|w| equal(v, w)))
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
        instance: &Py,
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
            instance: instance.clone(),
            matches_type,
        };
        let inst = || repr(instance);
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
                    let (Py::Str(s), Py::Int(limit)) = (instance, value) else {
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
                    let (Py::Str(s), Py::Str(p)) = (instance, value) else {
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
                    if let Py::List(items) = instance {
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
                    let (Py::Dict(_), Py::Dict(props)) = (instance, value) else {
                        continue;
                    };
                    for (name, sub) in props {
                        if let Some(v) = instance.get(name) {
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
                    let (Py::Dict(_), Py::List(names)) = (instance, value) else {
                        continue;
                    };
                    for name in names {
                        let Py::Str(name) = name else {
                            continue;
                        };
                        if instance.get(name).is_none() {
                            out.push(error(
                                "required",
                                format!("{} is a required property", str_repr(name)),
                            ));
                        }
                    }
                }
                "additionalProperties" => {
                    let Py::Dict(obj) = instance else {
                        continue;
                    };
                    let known = schema.get("properties");
                    let extras: Vec<&String> = obj
                        .iter()
                        .map(|(k, _)| k)
                        .filter(|k| known.and_then(|p| p.get(k)).is_none())
                        .collect();
                    match value {
                        Py::Dict(_) => {
                            for extra in extras {
                                let Some(extra_value) = instance.get(extra) else {
                                    continue;
                                };
                                self.check(
                                    value,
                                    extra_value,
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
                "$ref" => {
                    // The referenced schema applies in place: its errors
                    // carry its own schema and no `$ref` step in their path.
                    let Py::Str(reference) = value else {
                        continue;
                    };
                    if let Some(target) = resolve(self.root, reference) {
                        self.check(target, instance, path, schema_path, out);
                    }
                }
                "allOf" => {
                    let Py::List(subs) = value else {
                        continue;
                    };
                    for (i, sub) in subs.iter().enumerate() {
                        self.check(
                            sub,
                            instance,
                            path,
                            &extend(schema_path, [Step::Key("allOf".into()), Step::Index(i)]),
                            out,
                        );
                    }
                }
                "minimum" | "maximum" => {
                    let (Some(got), Some(limit)) = (number(instance), number(value)) else {
                        continue;
                    };
                    if keyword == "minimum" && got < limit {
                        out.push(error(
                            "minimum",
                            format!("{} is less than the minimum of {}", inst(), repr(value)),
                        ));
                    } else if keyword == "maximum" && got > limit {
                        out.push(error(
                            "maximum",
                            format!("{} is greater than the maximum of {}", inst(), repr(value)),
                        ));
                    }
                }
                "minItems" | "maxItems" => {
                    let (Py::List(items), Py::Int(limit)) = (instance, value) else {
                        continue;
                    };
                    let len = items.len() as i128;
                    if keyword == "minItems" && len < *limit {
                        let what = if *limit == 1 {
                            "should be non-empty"
                        } else {
                            "is too short"
                        };
                        out.push(error("minItems", format!("{} {what}", inst())));
                    } else if keyword == "maxItems" && len > *limit {
                        let what = if *limit == 0 {
                            "is expected to be empty"
                        } else {
                            "is too long"
                        };
                        out.push(error("maxItems", format!("{} {what}", inst())));
                    }
                }
                "uniqueItems" => {
                    let (Py::List(items), Py::Bool(true)) = (instance, value) else {
                        continue;
                    };
                    let repeated = items
                        .iter()
                        .enumerate()
                        .any(|(i, a)| items[..i].iter().any(|b| equal(a, b)));
                    if repeated {
                        out.push(error(
                            "uniqueItems",
                            format!("{} has non-unique elements", inst()),
                        ));
                    }
                }
                "dependentRequired" => {
                    let (Py::Dict(_), Py::Dict(deps)) = (instance, value) else {
                        continue;
                    };
                    for (property, needed) in deps {
                        if instance.get(property).is_none() {
                            continue;
                        }
                        let Py::List(needed) = needed else {
                            continue;
                        };
                        for each in needed {
                            if let Py::Str(each) = each {
                                if instance.get(each).is_none() {
                                    out.push(error(
                                        "dependentRequired",
                                        format!(
                                            "{} is a dependency of {}",
                                            str_repr(each),
                                            str_repr(property)
                                        ),
                                    ));
                                }
                            }
                        }
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
        assert!(is_type(&Py::from(&json!(2.0)), "integer"));
        assert!(!is_type(&Py::from(&json!(2.5)), "integer"));
        assert!(!is_type(&Py::from(&json!(true)), "integer"));
    }

    /// A document as Python holds it (keys sorted here, as `serde_json` reads them).
    fn py(s: &str) -> Py {
        Py::from(&serde_json::from_str::<Value>(s).expect("json"))
    }

    #[test]
    fn refs_resolve_in_place_and_all_of_indexes_its_path() {
        let schema = py(
            r##"{"definitions": {"pos": {"type": "integer", "minimum": 0}},
            "properties": {"n": {"allOf": [{"$ref": "#/definitions/pos"}, {"default": 0}]}}}"##,
        );
        let e = validate_py(&schema, &py(r#"{"n": -1}"#), &|_, _| true).expect_err("below");
        assert_eq!(
            e.to_string(),
            "-1 is less than the minimum of 0\n\nFailed validating 'minimum' in schema['properties']['n']['allOf'][0]:\n    {'minimum': 0, 'type': 'integer'}\n\nOn instance['n']:\n    -1"
        );
        assert!(validate_py(&schema, &py(r#"{"n": 3.0}"#), &|_, _| true).is_ok());
    }

    #[test]
    fn array_and_dependency_keywords() {
        let schema = py(r#"{"properties": {
            "a": {"type": "array", "minItems": 1, "maxItems": 2, "uniqueItems": true},
            "b": {"maximum": 5},
            "c": {"dependentRequired": {"x": ["y"]}}}}"#);
        let msg = |doc: &str| {
            validate_py(&schema, &py(doc), &|_, _| true)
                .expect_err("invalid")
                .message
        };
        assert_eq!(msg(r#"{"a": []}"#), "[] should be non-empty");
        assert_eq!(msg(r#"{"a": [1, 2, 3]}"#), "[1, 2, 3] is too long");
        assert_eq!(
            msg(r#"{"a": [1, 1.0]}"#),
            "[1, 1.0] has non-unique elements"
        );
        assert!(validate_py(&schema, &py(r#"{"a": [1, true]}"#), &|_, _| true).is_ok());
        assert_eq!(msg(r#"{"b": 5.5}"#), "5.5 is greater than the maximum of 5");
        assert_eq!(msg(r#"{"c": {"x": 1}}"#), "'y' is a dependency of 'x'");
    }
}
