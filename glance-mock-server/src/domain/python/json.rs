//! JSON the way Python's `json` module reads and writes it. `json.loads`:
//! objects keep the order their keys were written in (a repeated key keeps
//! its first place and its last value), integers and floats stay apart;
//! Glance prints request bodies back in its schema errors, so their order
//! matters. `json.dumps` of a string: ASCII only.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::Py;

/// Parse `bytes` as JSON into a [`Py`] value.
pub fn parse(bytes: &[u8]) -> Result<Py, serde_json::Error> {
    serde_json::from_slice::<Ordered>(bytes).map(|o| o.0)
}

/// A [`Py`] value as `serde_json::Value` (objects then sort their keys).
pub fn to_value(v: &Py) -> Value {
    match v {
        Py::None => Value::Null,
        Py::Bool(b) => Value::Bool(*b),
        Py::Int(n) => i64::try_from(*n)
            .map(Value::from)
            .or_else(|_| u64::try_from(*n).map(Value::from))
            .unwrap_or_else(|_| float(*n as f64)),
        Py::Float(f) => float(*f),
        Py::Str(s) => Value::String(s.clone()),
        Py::List(items) => Value::Array(items.iter().map(to_value).collect()),
        Py::Dict(items) => {
            let mut m = Map::new();
            for (k, v) in items {
                m.insert(k.clone(), to_value(v));
            }
            Value::Object(m)
        }
    }
}

/// A JSON string as Python's `json.dumps` writes it (`ensure_ascii`).
pub fn dumps_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

fn float(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

struct Ordered(Py);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PyVisitor).map(Ordered)
    }
}

struct PyVisitor;

impl<'de> Visitor<'de> for PyVisitor {
    type Value = Py;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Py, E> {
        Ok(Py::None)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Py, E> {
        Ok(Py::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Py, E> {
        Ok(Py::Int(n.into()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Py, E> {
        Ok(Py::Int(n.into()))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Py, E> {
        Ok(Py::Float(f))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Py, E> {
        Ok(Py::Str(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Py, E> {
        Ok(Py::Str(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Py, A::Error> {
        let mut items = Vec::new();
        while let Some(Ordered(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Py::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Py, A::Error> {
        let mut items: Vec<(String, Py)> = Vec::new();
        while let Some((k, Ordered(v))) = map.next_entry::<String, Ordered>()? {
            match items.iter_mut().find(|(have, _)| *have == k) {
                Some(slot) => slot.1 = v,
                None => items.push((k, v)),
            }
        }
        Ok(Py::Dict(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::python::repr;

    #[test]
    fn keys_keep_their_written_order() {
        let v = parse(br#"{"b": 1, "a": [1.0, null, true], "b": "x"}"#).expect("json");
        assert_eq!(repr(&v), "{'b': 'x', 'a': [1.0, None, True]}");
        assert_eq!(to_value(&v)["a"][0], serde_json::json!(1.0));
        assert!(parse(b"{").is_err());
    }

    #[test]
    fn strings_dump_as_ascii_like_python() {
        assert_eq!(
            dumps_str("a\"b\\c\u{7f}😀"),
            r#""a\"b\\c\u007f\ud83d\ude00""#
        );
    }
}
