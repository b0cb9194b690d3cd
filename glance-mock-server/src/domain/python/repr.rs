//! Python's `repr()`, of every value and of `str` in particular: one rule,
//! Python 3's, everywhere Glance quotes a value in a message.

use super::Py;

/// Python's `repr()`.
pub fn repr(v: &Py) -> String {
    match v {
        Py::None => "None".into(),
        Py::Bool(true) => "True".into(),
        Py::Bool(false) => "False".into(),
        Py::Int(n) => n.to_string(),
        Py::Float(f) => float_repr(*f),
        Py::Str(s) => str_repr(s),
        Py::List(items) => format!(
            "[{}]",
            items.iter().map(repr).collect::<Vec<_>>().join(", ")
        ),
        Py::Dict(items) => format!(
            "{{{}}}",
            items
                .iter()
                .map(|(k, v)| format!("{}: {}", str_repr(k), repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python's `repr()` of a `str`.
pub fn str_repr(s: &str) -> String {
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
            c if !is_printable(c) => {
                let n = u32::from(c);
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n < 0x10000 {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// An approximation of Python's `str.isprintable()` for one character:
/// controls, separators other than the space, format characters, private
/// use and non-characters are escaped; unassigned code points (which Python
/// also escapes) are not known here and print as themselves.
fn is_printable(c: char) -> bool {
    let n = u32::from(c);
    !(n < 0x20
        || (0x7f..=0xa0).contains(&n)
        || n == 0xad
        || n == 0x61c
        || n == 0x1680
        || n == 0x180e
        || (0x2000..=0x200f).contains(&n)
        || (0x2028..=0x202f).contains(&n)
        || (0x205f..=0x206f).contains(&n)
        || n == 0x3000
        || (0xe000..=0xf8ff).contains(&n)
        || n == 0xfeff
        || (0xfff9..=0xfffb).contains(&n)
        || (n & 0xfffe) == 0xfffe
        || n >= 0xf0000)
}

/// Python's `repr()` of a `float`: shortest round-trip digits, exponent
/// notation below 1e-4 and from 1e16.
fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    // `{:e}` gives the shortest round-trip digits: "-1.2345e-7", "1e300".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let (int_part, frac_part) = if point <= 0 {
            let zeros = "0".repeat(usize::try_from(-point).unwrap_or(0));
            ("0".to_string(), format!("{zeros}{digits}"))
        } else {
            let point = usize::try_from(point).unwrap_or(0);
            if digits.len() <= point {
                (
                    format!("{digits}{}", "0".repeat(point - digits.len())),
                    String::new(),
                )
            } else {
                (digits[..point].to_string(), digits[point..].to_string())
            }
        };
        let frac = if frac_part.is_empty() {
            "0".to_string()
        } else {
            frac_part
        };
        format!("{sign}{int_part}.{frac}")
    } else {
        let mantissa = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{esign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reprs_follow_python() {
        assert_eq!(repr(&Py::from(&json!(null))), "None");
        assert_eq!(repr(&Py::from(&json!([true, 1, "a"]))), "[True, 1, 'a']");
        assert_eq!(str_repr("it's"), "\"it's\"");
        assert_eq!(str_repr("both ' and \""), "'both \\' and \"'");
        assert_eq!(
            str_repr("tab\there\n\\ é \u{1}"),
            "'tab\\there\\n\\\\ é \\x01'"
        );
        assert_eq!(float_repr(1.5), "1.5");
        assert_eq!(float_repr(2.0), "2.0");
        assert_eq!(float_repr(1e300), "1e+300");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(123456789012345.6), "123456789012345.6");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(0.00001), "1e-05");
        assert_eq!(float_repr(-2.5e-7), "-2.5e-07");
    }

    #[test]
    fn str_reprs_quote_like_python() {
        assert_eq!(str_repr("abc"), "'abc'");
        assert_eq!(str_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(str_repr("back\\slash\n"), "'back\\\\slash\\n'");
        assert_eq!(
            str_repr("\u{1}\u{9f}\u{a0}\u{ad}é"),
            "'\\x01\\x9f\\xa0\\xadé'"
        );
    }

    /// Glance 33's own text (the `message` of its 400s, JSON-decoded):
    /// printable text beyond Latin-1 stays as it is, what `str.isprintable()`
    /// refuses is escaped by code point size. So does text from URL paths,
    /// which WSGI hands over as Latin-1 (the UTF-8 bytes of U+200B and "é").
    #[test]
    fn non_latin1_text_reprs_as_glance_prints_it() {
        // POST /v2/images {"disk_format": "日本\u200bé\u0001ж"}
        assert_eq!(str_repr("日本\u{200b}é\u{1}ж"), "'日本\\u200bé\\x01ж'");
        // POST /v2/images {"name": ["ж\u2028", "😀", "\ue000"]}
        let names = Py::List(vec!["ж\u{2028}".into(), "😀".into(), "\u{e000}".into()]);
        assert_eq!(repr(&names), "['ж\\u2028', '😀', '\\ue000']");
        // PUT /v2/images/{id}/tags/%E2%80%8B%C3%A9
        assert_eq!(
            str_repr("\u{e2}\u{80}\u{8b}\u{c3}\u{a9}"),
            "'â\\x80\\x8bÃ©'"
        );
    }
}
