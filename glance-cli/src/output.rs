//! Printing results: python-glanceclient's tables, or JSON.

use clap::ValueEnum;
use comfy_table::{ContentArrangement, Table};
use glance_client::Image;
use serde_json::Value;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables as python-glanceclient prints them.
    Table,
    /// JSON for scripts.
    Json,
}

/// python-glanceclient's PrettyTable look: `+---+` borders, `-` under the header.
const PRETTYTABLE: &str = "||--+-++|    ++++++";

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(PRETTYTABLE)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().copied());
    t
}

/// A value as python-glanceclient's `print_dict` shows it: `str()` for
/// scalars, `json.dumps` (with its `, ` and `: ` separators) for lists and
/// objects.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => py_json(other),
    }
}

/// `json.dumps(v)` with Python's default separators.
fn py_json(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(py_json).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), py_json(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        other => other.to_string(),
    }
}

/// A value as a `print_list` cell: falsy values blank (glanceclient's
/// `or ''`), lists as Python's repr.
fn list_cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => String::new(),
        Some(Value::Number(n)) if n.as_f64() == Some(0.0) => String::new(),
        Some(Value::String(s)) if s.is_empty() => String::new(),
        Some(Value::Array(a)) if a.is_empty() => String::new(),
        Some(Value::Array(a)) => {
            let inner: Vec<String> = a
                .iter()
                .map(|i| match i {
                    Value::String(s) => format!("'{s}'"),
                    other => cell(other),
                })
                .collect();
            format!("[{}]", inner.join(", "))
        }
        Some(v) => cell(v),
    }
}

/// Print `value` as pretty JSON (the `-f json` output of every command).
pub fn print_json(value: &Value) {
    emit(&serde_json::to_string_pretty(value).unwrap_or_default());
}

/// Any serialisable result as a JSON value (`Null` if it cannot be).
pub fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// glanceclient's `print_dict`: a Property/Value table sorted by property,
/// values wrapped at `max_width`. With `-f json`, the object itself.
pub fn print_dict(value: &Value, format: Format, max_width: usize) {
    if format == Format::Json {
        print_json(value);
        return;
    }
    let mut rows: Vec<(&String, &Value)> = match value {
        Value::Object(map) => map.iter().collect(),
        _ => Vec::new(),
    };
    rows.sort_by(|a, b| a.0.cmp(b.0));
    let mut t = table(&["Property", "Value"]);
    // PrettyTable's max_width holds for both columns, and a column with a
    // wrapped value is exactly max_width wide (it sizes columns from the
    // unwrapped values).
    let too_long = |s: &str| max_width > 0 && s.lines().any(|l| l.chars().count() > max_width);
    let mut wrapped = [false, false];
    for (k, v) in rows {
        let text = cell(v);
        wrapped[0] |= too_long(k);
        wrapped[1] |= too_long(&text);
        t.add_row(vec![wrap(k, max_width), wrap(&text, max_width)]);
    }
    for (i, w) in wrapped.into_iter().enumerate() {
        if let (true, Some(col), Ok(width)) = (w, t.column_mut(i), u16::try_from(max_width + 2)) {
            col.set_constraint(comfy_table::ColumnConstraint::Absolute(
                comfy_table::Width::Fixed(width),
            ));
        }
    }
    emit(&t.to_string());
}

/// glanceclient's `print_list`: one row per object, a column per header;
/// the key of a header is its lower-case form with `_` for spaces
/// (`Member ID` → `member_id`). With `-f json`, the objects themselves.
pub fn print_list(rows: &[Value], columns: &[&str], format: Format) {
    let keyed: Vec<(&str, String)> = columns
        .iter()
        .map(|c| (*c, c.to_ascii_lowercase().replace(' ', "_")))
        .collect();
    let keyed: Vec<(&str, &str)> = keyed.iter().map(|(c, k)| (*c, k.as_str())).collect();
    print_list_keyed(rows, &keyed, format);
}

/// [`print_list`] with explicit `(header, key)` pairs.
pub fn print_list_keyed(rows: &[Value], columns: &[(&str, &str)], format: Format) {
    if format == Format::Json {
        print_json(&Value::Array(rows.to_vec()));
        return;
    }
    let header: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
    let mut t = table(&header);
    for row in rows {
        t.add_row(columns.iter().map(|(_, key)| list_cell(row.get(*key))));
    }
    emit(&t.to_string());
}

/// A table as PrettyTable prints it with its default alignment (every
/// header and cell centred, as python-glanceclient's `cache-list`).
pub fn print_centred(header: &[&str], rows: &[Vec<String>]) {
    emit(&centred(header, rows).to_string());
}

fn centred(header: &[&str], rows: &[Vec<String>]) -> Table {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let header: Vec<String> = header
        .iter()
        .zip(&widths)
        .map(|(h, w)| centre(h, *w))
        .collect();
    let mut t = Table::new();
    t.load_preset(PRETTYTABLE)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header);
    for row in rows {
        t.add_row(row.iter().zip(&widths).map(|(c, w)| centre(c, *w)));
    }
    t
}

/// Python's `str.center` (as `wcwidth.center`): with an odd margin, the
/// extra space goes left when `width` is odd, right when it is even.
fn centre(text: &str, width: usize) -> String {
    let margin = width.saturating_sub(text.chars().count());
    let left = margin / 2 + (margin & width & 1);
    format!("{}{text}{}", " ".repeat(left), " ".repeat(margin - left))
}

/// Write `text` and a newline to stdout. A closed pipe (`glance … | head`)
/// is not an error worth a panic: the rest of the output is dropped.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

/// Python's `textwrap` chunks: words, runs of spaces, and words split
/// after a hyphen between letters (`glance-` `direct`).
fn chunks(para: &str) -> Vec<Vec<char>> {
    let mut out: Vec<Vec<char>> = Vec::new();
    let chars: Vec<char> = para.chars().collect();
    let mut cur: Vec<char> = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        let space = c == ' ';
        if !cur.is_empty() && (cur[0] == ' ') != space {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
        // textwrap's rule: after `ab-` or `a-b-`, before `c` + optional
        // hyphen + `d`, where letters are word characters but digits.
        let lt = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphabetic() || *c == '_')
        };
        let at = |j: Option<usize>, want: char| j.and_then(|j| chars.get(j)) == Some(&want);
        let back = |n: usize| i.checked_sub(n);
        let hyphen_break = c == '-'
            && ((lt(back(1)) && lt(back(2))) || (lt(back(1)) && at(back(2), '-') && lt(back(3))))
            && lt(Some(i + 1))
            && (lt(Some(i + 2)) || (at(Some(i + 2), '-') && lt(Some(i + 3))));
        if hyphen_break {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Wrap `s` at `width` characters as Python's `textwrap.fill` does for
/// PrettyTable's `max_width`: at spaces and after hyphens, long words
/// split to fill the line.
fn wrap(s: &str, width: usize) -> String {
    if width == 0 {
        return s.to_owned();
    }
    let is_space = |c: &Vec<char>| c.first() == Some(&' ');
    let mut lines: Vec<String> = Vec::new();
    for para in s.split('\n') {
        if para.chars().count() <= width {
            lines.push(para.to_owned());
            continue;
        }
        let mut stack = chunks(para);
        stack.reverse();
        let mut first = true;
        while !stack.is_empty() {
            if !first && stack.last().is_some_and(is_space) {
                stack.pop();
            }
            first = false;
            let mut line: Vec<char> = Vec::new();
            while let Some(chunk) = stack.last() {
                if line.len() + chunk.len() <= width {
                    line.extend(chunk.iter());
                    stack.pop();
                } else {
                    break;
                }
            }
            if let Some(chunk) = stack.last_mut() {
                if chunk.len() > width {
                    let room = width.saturating_sub(line.len()).max(1);
                    // Python 3's textwrap breaks a long word after its
                    // last hyphen that fits, if any.
                    let end = chunk[..room]
                        .iter()
                        .rposition(|c| *c == '-')
                        .filter(|&h| h > 0 && chunk[..h].iter().any(|c| *c != '-'))
                        .map_or(room, |h| h + 1);
                    line.extend(chunk.drain(..end));
                }
            }
            while line.last() == Some(&' ') {
                line.pop();
            }
            if !line.is_empty() {
                lines.push(line.into_iter().collect());
            }
        }
    }
    lines.join("\n")
}

/// Sizes in base 1024 with glanceclient's suffixes (`1.4GB`, `106B`).
pub fn human_size(size: Option<u64>) -> String {
    let Some(mut value) = size.map(|s| s as f64) else {
        return "0B".into();
    };
    let suffixes = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB"];
    let mut i = 0;
    while value >= 1024.0 && i < suffixes.len() - 1 {
        value /= 1024.0;
        i += 1;
    }
    let text = format!("{value:.1}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{}", suffixes[i])
}

/// glanceclient's `print_image`: the image without `self`, `file`,
/// `schema` and `access` (and without `stores` when it has none), `virtual_size` "Not available" when unset, and
/// the size human-readable on demand. With `-f json`, the whole image.
pub fn print_image(image: &Image, format: Format, human_readable: bool, max_width: usize) {
    let mut value = to_value(image);
    if format == Format::Json {
        print_json(&value);
        return;
    }
    let Value::Object(map) = &mut value else {
        return;
    };
    for hidden in ["self", "file", "schema", "access"] {
        map.remove(hidden);
    }
    // Glance sends `stores` only for an image with data in some store;
    // the model writes "none" as null, which glanceclient never sees.
    if map.get("stores").is_some_and(Value::is_null) {
        map.remove("stores");
    }
    if map.get("virtual_size").is_none_or(Value::is_null) {
        map.insert("virtual_size".into(), Value::String("Not available".into()));
    }
    if human_readable {
        map.insert("size".into(), Value::String(human_size(image.size)));
    }
    print_dict(&value, format, max_width);
}

/// A list of images with the given columns (header names as glanceclient's).
pub fn print_images(images: &[Image], columns: &[&str], format: Format) {
    let rows: Vec<Value> = images.iter().map(to_value).collect();
    print_list(&rows, columns, format);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_match_glanceclient() {
        assert_eq!(human_size(Some(106)), "106B");
        assert_eq!(human_size(Some(1_024_000)), "1000kB");
        assert_eq!(human_size(Some(1_048_576)), "1MB");
        assert_eq!(human_size(Some(1_476_395_008)), "1.4GB");
        assert_eq!(human_size(Some(9_761_280)), "9.3MB");
        assert_eq!(human_size(None), "0B");
    }

    #[test]
    fn long_values_wrap_at_spaces() {
        assert_eq!(wrap("aaa bbb ccc", 7), "aaa bbb\nccc");
        assert_eq!(wrap("abcdefghij", 4), "abcd\nefgh\nij");
        assert_eq!(wrap("short", 80), "short");
        // textwrap breaks after hyphens and fills lines with long words.
        assert_eq!(
            wrap("aa [\"glance-direct\"]", 12),
            "aa [\"glance-\ndirect\"]"
        );
        assert_eq!(wrap("ab cdefgh", 4), "ab c\ndefg\nh");
        assert_eq!(
            wrap("11073cb0-64a5-46af-9e5a-7eed413476f3", 20),
            "11073cb0-64a5-46af-\n9e5a-7eed413476f3"
        );
    }

    #[test]
    fn cells_print_like_python() {
        let v = serde_json::json!({"a": [1, "b"]});
        assert_eq!(cell(&v), r#"{"a": [1, "b"]}"#);
        assert_eq!(
            list_cell(Some(&serde_json::json!(["x", "y"]))),
            "['x', 'y']"
        );
        assert_eq!(list_cell(Some(&serde_json::json!(0))), "");
        assert_eq!(list_cell(None), "");
    }

    #[test]
    fn centring_is_pythons() {
        assert_eq!(centre("ab", 5), "  ab ");
        assert_eq!(centre("ab", 6), "  ab  ");
        assert_eq!(centre("abc", 6), " abc  ");
        assert_eq!(centre("a", 4), " a  ");
        assert_eq!(centre("abcd", 2), "abcd");
        let t = centred(&["Size", "Hits"], &[vec!["12345".into(), "0".into()]]);
        assert_eq!(
            t.to_string(),
            "+-------+------+\n|  Size | Hits |\n+-------+------+\n| 12345 |  0   |\n+-------+------+"
        );
    }

    #[test]
    fn tables_look_like_prettytable() {
        let mut t = table(&["ID", "Name"]);
        t.add_row(vec!["1", "a"]);
        assert_eq!(
            t.to_string(),
            "+----+------+\n| ID | Name |\n+----+------+\n| 1  | a    |\n+----+------+"
        );
    }
}
