//! `pprint.pformat`, as `jsonschema` uses it to show the failing schema.

use super::{Py, is_py_space, repr, str_repr};

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
