//! Printing results: python-glanceclient's tables, or JSON.

use comfy_table::{ContentArrangement, Table};
use glance_client::Image;
use serde_json::Value;

use crate::cli::Format;

/// python-glanceclient's PrettyTable look: `+---+` borders, `-` under the header.
const PRETTYTABLE: &str = "||--+-++|    ++++++";

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(PRETTYTABLE)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().copied());
    t
}

/// A value as Python's `str()` prints it in a table cell.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// Wrap `s` into lines of at most `width` characters.
fn wrap(s: &str, width: usize) -> String {
    if width == 0 || s.chars().count() <= width {
        return s.to_owned();
    }
    let chars: Vec<char> = s.chars().collect();
    chars
        .chunks(width)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
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

/// `image-show` and friends: a Property/Value table sorted by property.
pub fn print_image(image: &Image, format: Format, human_readable: bool, max_width: usize) {
    let mut value = serde_json::to_value(image).unwrap_or(Value::Null);
    if format == Format::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        return;
    }
    let Value::Object(map) = &mut value else {
        return;
    };
    for hidden in ["self", "file", "schema", "access"] {
        map.remove(hidden);
    }
    if map.get("virtual_size").is_none_or(Value::is_null) {
        map.insert("virtual_size".into(), Value::String("Not available".into()));
    }
    if human_readable {
        map.insert("size".into(), Value::String(human_size(image.size)));
    }
    let mut rows: Vec<(&String, &Value)> = map.iter().collect();
    rows.sort_by(|a, b| a.0.cmp(b.0));
    let mut t = table(&["Property", "Value"]);
    for (k, v) in rows {
        t.add_row(vec![k.clone(), wrap(&cell(v), max_width)]);
    }
    println!("{t}");
}

/// A list of images with the given columns (header names as glanceclient's).
pub fn print_images(images: &[Image], columns: &[&str], format: Format) {
    if format == Format::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(images).unwrap_or_default()
        );
        return;
    }
    let mut t = table(columns);
    for img in images {
        let value = serde_json::to_value(img).unwrap_or(Value::Null);
        t.add_row(columns.iter().map(|c| {
            let key = c.to_ascii_lowercase().replace(' ', "_");
            match value.get(&key) {
                // glanceclient prints falsy values as blanks in lists.
                None | Some(Value::Null) | Some(Value::Bool(false)) => String::new(),
                Some(Value::Number(n)) if n.as_u64() == Some(0) => String::new(),
                Some(Value::String(s)) if s.is_empty() => String::new(),
                Some(v) => cell(v),
            }
        }));
    }
    println!("{t}");
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
    fn tables_look_like_prettytable() {
        let mut t = table(&["ID", "Name"]);
        t.add_row(vec!["1", "a"]);
        assert_eq!(
            t.to_string(),
            "+----+------+\n| ID | Name |\n+----+------+\n| 1  | a    |\n+----+------+"
        );
    }
}
