//! JSON as Python's `json` module sees it: objects keep their key order, and
//! values print the way `json.dumps`, `repr` and `str` print them.
//!
//! The reference checker sorts `tags` and `versions` lists by their
//! `json.dumps` text (objects in their original key order) and sends request
//! bodies with `json.dumps`, so the port keeps key order where Python does.

use std::fmt::Write as _;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A JSON value whose objects keep their keys in document order, like a
/// Python `dict` loaded by `json.loads`.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderedJson {
    /// `null` (Python `None`).
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, integer or float.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array, in order.
    Array(Vec<OrderedJson>),
    /// An object, keys in insertion order; a repeated key keeps its first
    /// position and its last value (as in a Python `dict`).
    Object(Vec<(String, OrderedJson)>),
}

impl OrderedJson {
    /// Parses JSON bytes the way Python's `json.loads(bytes)` does for UTF-8
    /// input (a leading UTF-8 byte order mark is skipped).
    pub fn from_slice(data: &[u8]) -> Result<Self, serde_json::Error> {
        let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
        serde_json::from_slice(data)
    }

    /// The value under `key` if this is an object.
    pub fn get(&self, key: &str) -> Option<&OrderedJson> {
        match self {
            OrderedJson::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            OrderedJson::String(s) => Some(s),
            _ => None,
        }
    }

    /// Python truthiness: `None`, `False`, `0`, `""`, `[]` and `{}` are false.
    pub fn truthy(&self) -> bool {
        match self {
            OrderedJson::Null => false,
            OrderedJson::Bool(b) => *b,
            OrderedJson::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            OrderedJson::String(s) => !s.is_empty(),
            OrderedJson::Array(a) => !a.is_empty(),
            OrderedJson::Object(o) => !o.is_empty(),
        }
    }

    /// Sets `key` to `value`, keeping the key's position if it already exists.
    pub fn insert(entries: &mut Vec<(String, OrderedJson)>, key: String, value: OrderedJson) {
        if let Some(slot) = entries.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            entries.push((key, value));
        }
    }

    /// Python's `json.dumps(self)` with its default options (`", "` and
    /// `": "` separators, keys in order, non-ASCII escaped).
    pub fn dumps(&self) -> String {
        let mut out = String::new();
        self.dump_into(&mut out);
        out
    }

    fn dump_into(&self, out: &mut String) {
        match self {
            OrderedJson::Null => out.push_str("null"),
            OrderedJson::Bool(true) => out.push_str("true"),
            OrderedJson::Bool(false) => out.push_str("false"),
            OrderedJson::Number(n) => out.push_str(&number_text(n)),
            OrderedJson::String(s) => dump_str(s, out),
            OrderedJson::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.dump_into(out);
                }
                out.push(']');
            }
            OrderedJson::Object(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    dump_str(k, out);
                    out.push_str(": ");
                    v.dump_into(out);
                }
                out.push('}');
            }
        }
    }

    /// Python's `repr()` of the value as `json.loads` would have built it.
    pub fn repr(&self) -> String {
        match self {
            OrderedJson::Null => "None".to_owned(),
            OrderedJson::Bool(true) => "True".to_owned(),
            OrderedJson::Bool(false) => "False".to_owned(),
            OrderedJson::Number(n) => number_text(n),
            OrderedJson::String(s) => py_repr_str(s),
            OrderedJson::Array(items) => {
                let inner: Vec<String> = items.iter().map(OrderedJson::repr).collect();
                format!("[{}]", inner.join(", "))
            }
            OrderedJson::Object(entries) => {
                let inner: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", py_repr_str(k), v.repr()))
                    .collect();
                format!("{{{}}}", inner.join(", "))
            }
        }
    }

    /// Python's `str()` of the value: a string is itself, anything else its
    /// `repr()`.
    pub fn py_str(&self) -> String {
        match self {
            OrderedJson::String(s) => s.clone(),
            other => other.repr(),
        }
    }
}

impl From<&serde_json::Value> for OrderedJson {
    fn from(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => OrderedJson::Null,
            serde_json::Value::Bool(b) => OrderedJson::Bool(*b),
            serde_json::Value::Number(n) => OrderedJson::Number(n.clone()),
            serde_json::Value::String(s) => OrderedJson::String(s.clone()),
            serde_json::Value::Array(a) => {
                OrderedJson::Array(a.iter().map(OrderedJson::from).collect())
            }
            serde_json::Value::Object(o) => OrderedJson::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), OrderedJson::from(v)))
                    .collect(),
            ),
        }
    }
}

impl From<&OrderedJson> for serde_json::Value {
    fn from(v: &OrderedJson) -> Self {
        match v {
            OrderedJson::Null => serde_json::Value::Null,
            OrderedJson::Bool(b) => serde_json::Value::Bool(*b),
            OrderedJson::Number(n) => serde_json::Value::Number(n.clone()),
            OrderedJson::String(s) => serde_json::Value::String(s.clone()),
            OrderedJson::Array(a) => {
                serde_json::Value::Array(a.iter().map(serde_json::Value::from).collect())
            }
            OrderedJson::Object(o) => serde_json::Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::from(v)))
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for OrderedJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OrderedVisitor)
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = OrderedJson;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<OrderedJson, E> {
        serde_json::Number::from_f64(v)
            .map(OrderedJson::Number)
            .ok_or_else(|| E::custom("a JSON number must be finite"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<OrderedJson, E> {
        Ok(OrderedJson::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<OrderedJson, E> {
        Ok(OrderedJson::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<OrderedJson, D::Error> {
        OrderedJson::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OrderedJson, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(OrderedJson::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedJson, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, OrderedJson>()? {
            OrderedJson::insert(&mut entries, k, v);
        }
        Ok(OrderedJson::Object(entries))
    }
}

impl Serialize for OrderedJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OrderedJson::Null => serializer.serialize_unit(),
            OrderedJson::Bool(b) => serializer.serialize_bool(*b),
            OrderedJson::Number(n) => n.serialize(serializer),
            OrderedJson::String(s) => serializer.serialize_str(s),
            OrderedJson::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            OrderedJson::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Python's `json.dumps` of a `serde_json::Value` (its keys in the order the
/// value holds them).
pub fn dumps_value(v: &serde_json::Value) -> String {
    OrderedJson::from(v).dumps()
}

/// Python's `repr()` of a `serde_json::Value`.
pub fn repr_value(v: &serde_json::Value) -> String {
    OrderedJson::from(v).repr()
}

/// Python's `==` between two decoded JSON values: numbers compare by value
/// (`1 == 1.0`, and `True == 1`), objects ignore key order.
pub fn py_eq(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as V;
    match (a, b) {
        (V::Null, V::Null) => true,
        (V::String(x), V::String(y)) => x == y,
        (V::Array(x), V::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (V::Object(x), V::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        (V::Bool(_) | V::Number(_), V::Bool(_) | V::Number(_)) => num_eq(a, b),
        _ => false,
    }
}

/// Numeric equality with Python's rules for `bool`, `int` and `float`.
fn num_eq(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    enum N {
        Int(i128),
        Float(f64),
    }
    fn num(v: &serde_json::Value) -> Option<N> {
        match v {
            serde_json::Value::Bool(b) => Some(N::Int(i128::from(*b))),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Some(N::Int(i128::from(i)))
                } else if let Some(u) = n.as_u64() {
                    Some(N::Int(i128::from(u)))
                } else {
                    n.as_f64().map(N::Float)
                }
            }
            _ => None,
        }
    }
    match (num(a), num(b)) {
        (Some(N::Int(x)), Some(N::Int(y))) => x == y,
        (Some(N::Float(x)), Some(N::Float(y))) => x == y,
        // Python compares int and float exactly: equal only when the float
        // is integral and converts back to the same integer.
        (Some(N::Int(i)), Some(N::Float(f))) | (Some(N::Float(f)), Some(N::Int(i))) => {
            f.fract() == 0.0 && f == i as f64 && (f as i128) == i
        }
        _ => false,
    }
}

/// A number as Python prints it: integers as digits, floats as `repr(float)`.
fn number_text(n: &serde_json::Number) -> String {
    if n.is_f64() {
        n.as_f64().map_or_else(|| n.to_string(), py_float_repr)
    } else {
        n.to_string()
    }
}

/// Python's `repr(float)`: the shortest round-tripping digits, positional
/// notation when the decimal exponent is in [-4, 16), scientific otherwise.
pub fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest round-tripping digits too.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if f < 0.0 { "-" } else { "" };
    // Python's decpt: value = 0.DIGITS * 10**decpt.
    let decpt = exp + 1;
    let ndigits = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if (-4 < decpt) && (decpt <= 16) {
        if decpt <= 0 {
            let zeros = "0".repeat(usize::try_from(-decpt).unwrap_or(0));
            format!("{sign}0.{zeros}{digits}")
        } else if decpt >= ndigits {
            let zeros = "0".repeat(usize::try_from(decpt - ndigits).unwrap_or(0));
            format!("{sign}{digits}{zeros}.0")
        } else {
            let split = usize::try_from(decpt).unwrap_or(0);
            format!("{sign}{}.{}", &digits[..split], &digits[split..])
        }
    } else {
        let (head, tail) = digits.split_at(1);
        let mant = if tail.is_empty() {
            head.to_owned()
        } else {
            format!("{head}.{tail}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mant}e{esign}{:02}", exp.abs())
    }
}

/// `json.dumps` of a string with `ensure_ascii=True`.
fn dump_str(s: &str, out: &mut String) {
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
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Python's `repr(str)`.
pub fn py_repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x7f => out.push(c),
            c if printable(c) => out.push(c),
            c if (c as u32) <= 0xff => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push(quote);
    out
}

/// An approximation of Python's `str.isprintable()` for one non-ASCII char.
fn printable(c: char) -> bool {
    !(c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(c as u32, 0xad | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2064 | 0xfeff))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1.5e16, "1.5e+16"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (123.456, "123.456"),
            (1.2345e-7, "1.2345e-07"),
        ];
        for (f, want) in cases {
            assert_eq!(py_float_repr(f), want, "{f}");
        }
    }

    #[test]
    fn dumps_matches_python() {
        let v = OrderedJson::from_slice(
            br#"{"b": [1, 2.0, "\u00e9\ud83d\ude00"], "a": {"x": null, "y": true}}"#,
        )
        .expect("valid JSON");
        assert_eq!(
            v.dumps(),
            r#"{"b": [1, 2.0, "\u00e9\ud83d\ude00"], "a": {"x": null, "y": true}}"#
        );
        assert_eq!(
            v.repr(),
            "{'b': [1, 2.0, 'é😀'], 'a': {'x': None, 'y': True}}"
        );
        assert_eq!(py_repr_str("it's"), "\"it's\"");
    }

    #[test]
    fn duplicate_keys_keep_first_position_last_value() {
        let v = OrderedJson::from_slice(br#"{"a": 1, "b": 2, "a": 3}"#).expect("valid JSON");
        assert_eq!(v.dumps(), r#"{"a": 3, "b": 2}"#);
    }

    #[test]
    fn python_equality() {
        use serde_json::json;
        assert!(py_eq(&json!(1), &json!(1.0)));
        assert!(py_eq(&json!(true), &json!(1)));
        assert!(!py_eq(&json!(1), &json!("1")));
        assert!(py_eq(&json!({"a": [1, 2]}), &json!({"a": [1.0, 2]})));
    }
}
