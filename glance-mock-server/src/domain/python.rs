//! Values as Glance's Python prints them into messages: `repr()` of a
//! string (as `jsonschema` quotes it) and `str()` of a JSON scalar.

use std::fmt::Write as _;

use serde_json::Value;

/// Python's `repr()` of a `str`: single quotes unless the text holds a
/// single quote and no double quote, backslash escapes for the quote,
/// backslash and `\t`, `\n`, `\r`, and `\xNN` for the other characters
/// Python does not print (C0 and C1 controls, DEL, no-break space, soft
/// hyphen).
///
/// Characters above U+00FF are kept as they are; Glance's text taken from
/// URL paths never has any (the WSGI layer decodes paths as Latin-1).
pub fn repr_str(s: &str) -> String {
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
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_unprintable_latin1(c) => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn is_unprintable_latin1(c: char) -> bool {
    matches!(u32::from(c), 0x00..=0x1f | 0x7f..=0xa0 | 0xad)
}

/// Python's `str()` of a JSON scalar as `json.loads` returns it:
/// `True`, `False`, `None`, numbers and strings as they are.
pub fn str_of(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repr_quotes_like_python() {
        assert_eq!(repr_str("abc"), "'abc'");
        assert_eq!(repr_str("it's"), "\"it's\"");
        assert_eq!(repr_str("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(repr_str("back\\slash\n"), "'back\\\\slash\\n'");
        assert_eq!(
            repr_str("\u{1}\u{9f}\u{a0}\u{ad}é"),
            "'\\x01\\x9f\\xa0\\xadé'"
        );
    }

    #[test]
    fn scalars_print_and_test_like_python() {
        assert_eq!(str_of(&json!(true)), "True");
        assert_eq!(str_of(&json!(5)), "5");
        assert_eq!(str_of(&json!("x")), "x");
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
