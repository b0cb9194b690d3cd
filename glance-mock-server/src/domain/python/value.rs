//! Values as Python holds them: [`Py`], what `json.loads` returns, and
//! the few `str` and truth rules Glance's messages depend on.

use serde_json::Value;

/// A value as Python sees it after `json.loads`; dicts keep their order.
#[derive(Debug, Clone, PartialEq)]
pub enum Py {
    /// `None`
    None,
    /// `True` / `False`
    Bool(bool),
    /// `int`
    Int(i128),
    /// `float`
    Float(f64),
    /// `str`
    Str(String),
    /// `list`
    List(Vec<Py>),
    /// `dict`, in insertion order.
    Dict(Vec<(String, Py)>),
}

impl Py {
    /// The entry `key` of a dict.
    pub fn get(&self, key: &str) -> Option<&Py> {
        match self {
            Py::Dict(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl From<&Value> for Py {
    fn from(v: &Value) -> Self {
        match v {
            Value::Null => Py::None,
            Value::Bool(b) => Py::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Py::Int(i.into()),
                (None, Some(u)) => Py::Int(u.into()),
                _ => Py::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Py::Str(s.clone()),
            Value::Array(a) => Py::List(a.iter().map(Py::from).collect()),
            Value::Object(o) => Py::Dict(o.iter().map(|(k, v)| (k.clone(), Py::from(v))).collect()),
        }
    }
}

impl From<&str> for Py {
    fn from(s: &str) -> Self {
        Py::Str(s.to_owned())
    }
}

impl From<bool> for Py {
    fn from(b: bool) -> Self {
        Py::Bool(b)
    }
}

impl From<i64> for Py {
    fn from(n: i64) -> Self {
        Py::Int(n.into())
    }
}

/// Python's `str()` of a value `json.loads` returned: a string as it is,
/// anything else as its `repr()` (`None`, `True`, `1e-05`, `['a']`).
pub fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => super::repr(&Py::from(other)),
    }
}

/// Python's truth value of a JSON value: `None`, `False`, zero and empty
/// strings, lists and objects are false.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python's `str.isspace()` for one character (what `\s` matches).
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_print_and_test_like_python() {
        assert_eq!(str_of(&json!(true)), "True");
        assert_eq!(str_of(&json!(5)), "5");
        assert_eq!(str_of(&json!("x")), "x");
        assert_eq!(str_of(&json!(null)), "None");
        assert_eq!(str_of(&json!(1e-5)), "1e-05");
        assert_eq!(str_of(&json!(["ж", {"a": 1.0}])), "['ж', {'a': 1.0}]");
        for falsy in [
            json!(null),
            json!(false),
            json!(0),
            json!(0.0),
            json!(""),
            json!([]),
            json!({}),
        ] {
            assert!(!truthy(&falsy), "{falsy}");
        }
        for t in [
            json!(true),
            json!(1),
            json!("0"),
            json!([0]),
            json!({"a": 1}),
        ] {
            assert!(truthy(&t), "{t}");
        }
    }
}
