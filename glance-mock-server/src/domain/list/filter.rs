//! The filters of an image list: Glance's `_make_conditions_from_filters`
//! and how each matches a record, the `images` table's columns compared as
//! SQLite compares them, and the `in:` / operator syntax of filter values.

use std::cmp::Ordering;

use ::time::OffsetDateTime;

use super::bad;
use crate::domain::{Fault, Image, time};

/// A condition `_make_conditions_from_filters` builds.
#[derive(Debug, Clone)]
pub(super) enum Filter {
    /// `name`, `id`, `status`, `container_format`, `disk_format`: `eq:` or
    /// `in:` (the column is one of the values).
    OneOf(Column, Vec<String>),
    /// Any other column: `column = 'value'` as SQLite compares them.
    Equals(Column, String),
    /// `<column>_min` / `<column>_max`: the column against an integer.
    Range {
        column: Column,
        min: bool,
        bound: i64,
    },
    /// `created_at` / `updated_at` with an operator.
    Time(Column, &'static str, OffsetDateTime),
    /// Not a column: an extra property equal to the value.
    Property(String, String),
    Tag(String),
    Protected(bool),
}

/// A column of Glance's `images` table (`hasattr(models.Image, key)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Column {
    Id,
    Name,
    Status,
    Visibility,
    Checksum,
    OsHashAlgo,
    OsHashValue,
    Owner,
    DiskFormat,
    ContainerFormat,
    Size,
    VirtualSize,
    MinDisk,
    MinRam,
    Protected,
    OsHidden,
    Deleted,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

/// A column's value as SQLite holds it: booleans as 0/1, datetimes as text.
pub(super) enum Sql<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    /// A datetime (stored as `YYYY-MM-DD HH:MM:SS.ffffff` text).
    Time,
}

impl Column {
    pub(super) fn of(name: &str) -> Option<Column> {
        Some(match name {
            "id" => Column::Id,
            "name" => Column::Name,
            "status" => Column::Status,
            "visibility" => Column::Visibility,
            "checksum" => Column::Checksum,
            "os_hash_algo" => Column::OsHashAlgo,
            "os_hash_value" => Column::OsHashValue,
            "owner" => Column::Owner,
            "disk_format" => Column::DiskFormat,
            "container_format" => Column::ContainerFormat,
            "size" => Column::Size,
            "virtual_size" => Column::VirtualSize,
            "min_disk" => Column::MinDisk,
            "min_ram" => Column::MinRam,
            "protected" => Column::Protected,
            "os_hidden" => Column::OsHidden,
            "deleted" => Column::Deleted,
            "created_at" => Column::CreatedAt,
            "updated_at" => Column::UpdatedAt,
            "deleted_at" => Column::DeletedAt,
            _ => return None,
        })
    }

    pub(super) fn value(self, img: &Image) -> Sql<'_> {
        fn text(s: &Option<String>) -> Sql<'_> {
            s.as_deref().map_or(Sql::Null, Sql::Text)
        }
        let int = |n: Option<u64>| n.map_or(Sql::Null, |n| Sql::Int(n as i64));
        match self {
            Column::Id => Sql::Text(&img.id),
            Column::Name => text(&img.name),
            Column::Status => Sql::Text(img.status.as_str()),
            Column::Visibility => Sql::Text(img.visibility.as_str()),
            Column::Checksum => text(&img.checksum),
            Column::OsHashAlgo => text(&img.os_hash_algo),
            Column::OsHashValue => text(&img.os_hash_value),
            Column::Owner => text(&img.owner),
            Column::DiskFormat => text(&img.disk_format),
            Column::ContainerFormat => text(&img.container_format),
            Column::Size => int(img.size),
            Column::VirtualSize => int(img.virtual_size),
            Column::MinDisk => Sql::Int(img.min_disk),
            Column::MinRam => Sql::Int(img.min_ram),
            Column::Protected => Sql::Int(i64::from(img.protected)),
            Column::OsHidden => Sql::Int(i64::from(img.os_hidden)),
            // Listed images are never deleted.
            Column::Deleted => Sql::Int(0),
            Column::DeletedAt => Sql::Null,
            Column::CreatedAt | Column::UpdatedAt => Sql::Time,
        }
    }
}

pub(super) fn filter_matches(f: &Filter, img: &Image) -> bool {
    match f {
        Filter::Tag(t) => img.tags.contains(t),
        Filter::Protected(b) => img.protected == *b,
        Filter::Time(column, op, t) => {
            let v = if *column == Column::CreatedAt {
                img.created_at
            } else {
                img.updated_at
            };
            match *op {
                "eq" => v == *t,
                "neq" => v != *t,
                "gt" => v > *t,
                "gte" => v >= *t,
                "lt" => v < *t,
                _ => v <= *t,
            }
        }
        Filter::OneOf(column, values) => match column.value(img) {
            Sql::Text(s) => values.iter().any(|v| v == s),
            _ => false,
        },
        Filter::Equals(column, wanted) => match column.value(img) {
            Sql::Null | Sql::Time => false,
            Sql::Text(s) => s == wanted,
            // An integer column converts a text that reads as a number.
            Sql::Int(n) => sqlite_number(wanted).is_some_and(|w| w == n as f64),
        },
        Filter::Range { column, min, bound } => {
            let o = match column.value(img) {
                Sql::Null => return false,
                Sql::Int(n) => n.cmp(bound),
                // A text column compares the bound as text.
                Sql::Text(s) => s.as_bytes().cmp(bound.to_string().as_bytes()),
                // Any text sorts after any integer in SQLite.
                Sql::Time => Ordering::Greater,
            };
            if *min { o.is_ge() } else { o.is_le() }
        }
        Filter::Property(key, wanted) => img.properties.get(key) == Some(wanted),
    }
}

/// SQLite's numeric reading of a text compared with an integer column:
/// surrounding spaces, a sign, digits with an optional fraction and
/// exponent (`0100`, `100.0`, `1e2`). `None` when it stays text.
pub(super) fn sqlite_number(text: &str) -> Option<f64> {
    let t = text.trim_matches([' ', '\t', '\n', '\r', '\x0c']);
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) || !exponent_ok {
        return None;
    }
    t.parse().ok()
}

/// `glance.common.utils.split_filter_op`: the text before the first `:`
/// is the operator, unless the whole value reads as an ISO 8601 time.
pub(super) fn split_filter_op(value: &str) -> (&str, &str) {
    match value.split_once(':') {
        Some((op, rest)) if time::parse_iso8601(value).is_none() => (op, rest),
        _ => ("eq", value),
    }
}

/// `split_filter_value_for_quotes`: the quotes checked
/// (`validate_quotes`), then the list split on commas, a double-quoted
/// item kept whole (backslash escapes in it kept as they are).
pub(super) fn split_in(list: &str) -> Result<Vec<String>, Fault> {
    let chars: Vec<char> = list.chars().collect();
    let mut open = true;
    for (i, c) in chars.iter().enumerate() {
        if *c != '"' || (i > 0 && chars[i - 1] == '\\') {
            continue;
        }
        if open && i > 0 && chars[i - 1] != ',' {
            return Err(bad(format!(
                "Invalid filter value {list}. There is no comma before opening quotation mark."
            )));
        }
        if !open && i + 1 != chars.len() && chars[i + 1] != ',' {
            return Err(bad(format!(
                "Invalid filter value {list}. There is no comma after closing quotation mark."
            )));
        }
        open = !open;
    }
    if !open {
        return Err(bad(format!(
            "Invalid filter value {list}. The quote is not closed."
        )));
    }
    // re.findall(r'"([^"\\]*(?:\\.[^"\\]*)*)",?|([^,]+),?|,', list)
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '"' {
            if let Some((item, end)) = quoted(&chars, i + 1) {
                out.push(item);
                i = end + usize::from(chars.get(end) == Some(&','));
                continue;
            }
        }
        if chars[i] == ',' {
            out.push(String::new());
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i] != ',' {
            i += 1;
        }
        out.push(chars[start..i].iter().collect());
        i += usize::from(i < chars.len());
    }
    Ok(out)
}

/// The inside of a double-quoted item starting at `from` (just after the
/// quote) and the index after its closing quote; `None` if it never closes.
pub(super) fn quoted(chars: &[char], from: usize) -> Option<(String, usize)> {
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '"' => return Some((chars[from..i].iter().collect(), i + 1)),
            '\\' if i + 1 < chars.len() && chars[i + 1] != '\n' => i += 2,
            '\\' => return None,
            _ => i += 1,
        }
    }
    None
}
