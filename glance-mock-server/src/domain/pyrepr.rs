//! JSON-like values printed the way Python prints them: `repr()` and
//! `pprint.pformat(width=72, sort_dicts=False)`. Glance's schema errors are
//! Python's `jsonschema` messages, which embed both, so matching Glance's
//! text means matching Python's formatting to the character.

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

/// `pprint.pformat(v, width=width, sort_dicts=False)`.
pub fn pformat(v: &Py, width: usize) -> String {
    let mut out = String::new();
    Printer { width }.format(v, &mut out, 0, 0, 0);
    out
}

struct Printer {
    width: usize,
}

impl Printer {
    fn format(&self, v: &Py, out: &mut String, indent: usize, allowance: usize, level: usize) {
        let rep = repr(v);
        let max_width = self.width.saturating_sub(indent + allowance);
        if char_len(&rep) > max_width {
            match v {
                Py::Dict(items) if !items.is_empty() => {
                    return self.dict(items, out, indent, allowance, level + 1);
                }
                Py::List(items) if !items.is_empty() => {
                    return self.list(items, out, indent, allowance, level + 1);
                }
                Py::Str(s) => return self.string(s, out, indent, allowance, level + 1),
                _ => {}
            }
        }
        out.push_str(&rep);
    }

    fn dict(
        &self,
        items: &[(String, Py)],
        out: &mut String,
        indent: usize,
        allowance: usize,
        level: usize,
    ) {
        out.push('{');
        let indent = indent + 1;
        let allowance = allowance + 1;
        let last_index = items.len() - 1;
        for (i, (key, value)) in items.iter().enumerate() {
            let last = i == last_index;
            let rep = str_repr(key);
            out.push_str(&rep);
            out.push_str(": ");
            self.format(
                value,
                out,
                indent + char_len(&rep) + 2,
                if last { allowance } else { 1 },
                level,
            );
            if !last {
                out.push_str(",\n");
                out.push_str(&" ".repeat(indent));
            }
        }
        out.push('}');
    }

    fn list(&self, items: &[Py], out: &mut String, indent: usize, allowance: usize, level: usize) {
        out.push('[');
        let indent = indent + 1;
        let allowance = allowance + 1;
        let last_index = items.len() - 1;
        for (i, item) in items.iter().enumerate() {
            let last = i == last_index;
            if i > 0 {
                out.push_str(",\n");
                out.push_str(&" ".repeat(indent));
            }
            self.format(item, out, indent, if last { allowance } else { 1 }, level);
        }
        out.push(']');
    }

    /// `PrettyPrinter._pprint_str`: split long strings into adjacent
    /// literals at line ends and whitespace runs.
    fn string(&self, s: &str, out: &mut String, indent: usize, allowance: usize, level: usize) {
        if s.is_empty() {
            out.push_str(&str_repr(s));
            return;
        }
        let (indent, allowance) = if level == 1 {
            (indent + 1, allowance + 1)
        } else {
            (indent, allowance)
        };
        let max_width = self.width.saturating_sub(indent);
        let mut max_width1 = max_width;
        let lines = split_lines_keep_ends(s);
        let mut chunks: Vec<String> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let last_line = i == lines.len() - 1;
            let rep = str_repr(line);
            if last_line {
                max_width1 = max_width1.saturating_sub(allowance);
            }
            if char_len(&rep) <= max_width1 {
                chunks.push(rep);
                continue;
            }
            let parts = word_parts(line);
            let mut max_width2 = max_width;
            let mut current = String::new();
            for (j, part) in parts.iter().enumerate() {
                let candidate = format!("{current}{part}");
                if j == parts.len() - 1 && last_line {
                    max_width2 = max_width2.saturating_sub(allowance);
                }
                if char_len(&str_repr(&candidate)) > max_width2 {
                    if !current.is_empty() {
                        chunks.push(str_repr(&current));
                    }
                    current = (*part).to_string();
                } else {
                    current = candidate;
                }
            }
            if !current.is_empty() {
                chunks.push(str_repr(&current));
            }
        }
        if chunks.len() == 1 {
            out.push_str(&str_repr(s));
            return;
        }
        if level == 1 {
            out.push('(');
        }
        for (i, chunk) in chunks.iter().enumerate() {
            if i > 0 {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
            }
            out.push_str(chunk);
        }
        if level == 1 {
            out.push(')');
        }
    }
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Python's `str.isspace()` for one character (what `\s` matches).
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `str.splitlines(keepends=True)`.
fn split_lines_keep_ends(s: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = match c {
            '\r' => match chars.peek() {
                Some((j, '\n')) => {
                    let j = *j;
                    chars.next();
                    j + 1
                }
                _ => i + 1,
            },
            '\n' | '\u{0b}' | '\u{0c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}' | '\u{2028}'
            | '\u{2029}' => i + c.len_utf8(),
            _ => continue,
        };
        lines.push(&s[start..end]);
        start = end;
    }
    if start < s.len() {
        lines.push(&s[start..]);
    }
    lines
}

/// `re.findall(r'\S*\s*', s)` without the final empty match: runs of
/// non-space characters, each with the whitespace that follows it.
fn word_parts(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (i, c) in s.char_indices() {
        let space = is_py_space(c);
        if in_space && !space {
            parts.push(&s[start..i]);
            start = i;
        }
        in_space = space;
    }
    if start < s.len() {
        parts.push(&s[start..]);
    }
    parts
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
    fn short_values_stay_on_one_line() {
        let v = Py::from(&json!({"type": "string", "maxLength": 255}));
        assert_eq!(pformat(&v, 72), "{'maxLength': 255, 'type': 'string'}");
    }

    #[test]
    fn long_dicts_wrap_one_item_per_line() {
        let v = Py::Dict(vec![
            (
                "type".into(),
                Py::List(vec!["null".into(), "string".into()]),
            ),
            (
                "description".into(),
                "Descriptive name for the image".into(),
            ),
            ("maxLength".into(), 255.into()),
        ]);
        assert_eq!(
            pformat(&v, 72),
            "{'type': ['null', 'string'],\n 'description': 'Descriptive name for the image',\n 'maxLength': 255}"
        );
    }

    #[test]
    fn long_strings_split_into_literals() {
        let words: Vec<String> = (0..20).map(|i| format!("word{i}")).collect();
        let v = Py::Str(words.join(" "));
        assert_eq!(
            pformat(&v, 72),
            "('word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 '\n 'word11 word12 word13 word14 word15 word16 word17 word18 word19')"
        );
        // Nested strings split without parentheses.
        let nested = Py::List(vec![v]);
        assert!(pformat(&nested, 72).starts_with("['word0"));
        // Without whitespace there is nothing to split at.
        let long = Py::Str("k".repeat(100));
        assert_eq!(pformat(&long, 72), str_repr(&"k".repeat(100)));
    }

    #[test]
    fn strings_split_at_line_ends() {
        let v = Py::Str("a\nb".repeat(40));
        let out = pformat(&v, 72);
        assert!(out.starts_with("('a\\n'\n 'ba\\n'\n"), "{out}");
        assert!(out.ends_with("'b')"), "{out}");
    }
}
