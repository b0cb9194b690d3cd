//! Python's `int()`, on text and on the values `json.loads` returns.

use super::Py;

/// `int(text)`: surrounding whitespace, a sign, digits with single
/// underscores between them. `None` where Python raises; far beyond any
/// bound Glance checks, the value saturates.
pub fn int_of_str(text: &str) -> Option<i128> {
    let t = text.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let n = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0i128, |n, d| {
            n.saturating_mul(10).saturating_add(i128::from(d - b'0'))
        });
    Some(if negative { -n } else { n })
}

/// [`int_of_str`] clamped to `i64`, the range of every integer Glance
/// reads from a query or a header.
pub fn int64_of_str(text: &str) -> Option<i64> {
    int_of_str(text).map(clamp)
}

/// `int(value)` on a JSON value: floats truncate toward zero, booleans
/// count, numeric strings parse; clamped to `i64`.
pub fn int64_of(v: &Py) -> Option<i64> {
    match v {
        Py::Int(n) => Some(clamp(*n)),
        Py::Float(f) if f.is_finite() => Some(f.trunc() as i64),
        Py::Bool(b) => Some(i64::from(*b)),
        Py::Str(s) => int64_of_str(s),
        _ => None,
    }
}

fn clamp(n: i128) -> i64 {
    n.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_parse_like_python() {
        assert_eq!(int_of_str("12"), Some(12));
        assert_eq!(int_of_str(" 12 "), Some(12));
        assert_eq!(int_of_str("+3"), Some(3));
        assert_eq!(int_of_str("-0"), Some(0));
        assert_eq!(int_of_str("-1_0"), Some(-10));
        assert_eq!(int_of_str("5_0"), Some(50));
        for bad in [
            "", "1.5", "abc", "1__0", "_1", "1_", "0x10", "- 1", "+-1", "5.0",
        ] {
            assert_eq!(int_of_str(bad), None, "{bad}");
        }
    }

    #[test]
    fn big_ints_saturate() {
        assert_eq!(int64_of_str("99999999999999999999"), Some(i64::MAX));
        assert_eq!(int64_of_str("-99999999999999999999"), Some(i64::MIN));
        assert_eq!(int_of_str(&"9".repeat(60)), Some(i128::MAX));
    }

    #[test]
    fn values_convert_like_python() {
        assert_eq!(int64_of(&Py::Float(-9.9)), Some(-9));
        assert_eq!(int64_of(&Py::Bool(true)), Some(1));
        assert_eq!(int64_of(&Py::Str(" 7 ".into())), Some(7));
        assert_eq!(int64_of(&Py::None), None);
        assert_eq!(int64_of(&Py::Float(f64::NAN)), None);
    }
}
