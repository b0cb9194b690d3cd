//! Partial downloads: the `Range` request header (and the deprecated
//! `Content-Range` one) as webob parses them and Glance's download
//! serializer applies them, quirks included.

use axum::http::{HeaderMap, StatusCode};

use crate::api::error::ApiError;

/// Why a requested range cannot be served.
#[derive(Debug)]
pub(super) enum RangeError {
    /// An error Glance answers (400 or 416).
    Refused(ApiError),
    /// Glance's serializer raises (`None` compared with a number, `int('')`)
    /// and the WSGI server answers with its own 500 page.
    Crash,
}

impl From<ApiError> for RangeError {
    fn from(e: ApiError) -> Self {
        RangeError::Refused(e)
    }
}

/// The part of the image to send, and how the response describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Span {
    /// First byte.
    pub offset: u64,
    /// Number of bytes.
    pub len: u64,
    /// The `Content-Range` response header.
    pub content_range: String,
}

pub(super) fn not_satisfiable(detail: impl Into<String>) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "The Range requested is not available.",
    );
    e.detail = detail.into();
    e
}

/// A run of ASCII digits as a number, saturating (Python's are unbounded;
/// nothing this large can address an image).
fn number(digits: &str) -> u128 {
    digits.bytes().fold(0u128, |n, d| {
        n.saturating_mul(10).saturating_add(u128::from(d - b'0'))
    })
}

/// Split off the leading ASCII digits.
fn digits(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s.split_at(end)
}

fn spaces(s: &str) -> &str {
    s.trim_start_matches(' ')
}

/// webob's `Range.parse`: `bytes *= *(\d*) *- *(\d*)` at the start
/// (case-insensitive, anything may follow). `Ok(None)` is unparsable;
/// `Err` is the `ValueError` Python raises on `bytes=-`.
fn parse_range(header: &str) -> Result<Option<(i128, Option<u128>)>, ()> {
    let Some(rest) = header
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("bytes"))
        .map(|_| &header[5..])
    else {
        return Ok(None);
    };
    let Some(rest) = spaces(rest).strip_prefix('=') else {
        return Ok(None);
    };
    let (first, rest) = digits(spaces(rest));
    let Some(rest) = spaces(rest).strip_prefix('-') else {
        return Ok(None);
    };
    let (last, _) = digits(spaces(rest));
    let clamp = |n: u128| i128::try_from(n).unwrap_or(i128::MAX);
    match (first.is_empty(), last.is_empty()) {
        (true, true) => Err(()),
        (true, false) => Ok(Some((-clamp(number(last)), None))),
        (false, true) => Ok(Some((clamp(number(first)), None))),
        (false, false) => {
            let (start, end) = (number(first), number(last).saturating_add(1));
            Ok((start < end).then(|| (clamp(start), Some(end))))
        }
    }
}

/// webob's `ContentRange.parse` for a request: `bytes (\d+)-(\d+)/(\d+|*)`
/// or `bytes */(\d+|*)` at the start. `Ok(None)` is unparsable.
/// Returns (start, stop exclusive, length), `None` parts for `*`.
type ContentRange = (Option<u128>, Option<u128>, Option<u128>);

fn parse_content_range(header: &str) -> Option<ContentRange> {
    let rest = header.strip_prefix("bytes ")?;
    let (start, stop, rest) = if let Some(rest) = rest.strip_prefix('*') {
        (None, None, rest)
    } else {
        let (a, rest) = digits(rest);
        let rest = rest.strip_prefix('-')?;
        let (b, rest) = digits(rest);
        if a.is_empty() || b.is_empty() {
            return None;
        }
        (Some(number(a)), Some(number(b).saturating_add(1)), rest)
    };
    let rest = rest.strip_prefix('/')?;
    let length = if rest.starts_with('*') {
        None
    } else {
        let (l, _) = digits(rest);
        if l.is_empty() {
            return None;
        }
        Some(number(l))
    };
    // `_is_content_range_valid(..., response=True)`
    let valid = match (start, stop, length) {
        (None, None, _) => true,
        (Some(s), Some(e), None) => s < e,
        (Some(s), Some(e), Some(l)) => s < e && e <= l && s < l,
        _ => false,
    };
    valid.then_some((start, stop, length))
}

/// What the request asks for of an image of `size` bytes (`None`: no data
/// yet, where Glance's own comparisons fail with a 500).
pub(super) fn requested(
    headers: &HeaderMap,
    size: Option<u64>,
) -> Result<Option<Span>, RangeError> {
    let text = |name: &str| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    if let Some(range) = text("range") {
        if range.contains(',') {
            return Err(ApiError::bad_request(
                "Requests with multiple ranges are not supported in Glance. You may make multiple single-range requests instead.",
            )
            .into());
        }
        let (start, end) = parse_range(&range)
            .map_err(|()| RangeError::Crash)?
            .ok_or_else(|| not_satisfiable("Invalid Range header."))?;
        let size = size.ok_or(RangeError::Crash)?;
        let total = i128::from(size);
        if start >= total {
            return Err(not_satisfiable(format!(
                "Invalid start position in Range header. Start position MUST be in the inclusive range [0, {}].",
                total - 1
            ))
            .into());
        }
        // ResponseSerializer.download
        let offset = if start >= 0 {
            start
        } else if -start < total {
            total + start
        } else {
            0
        };
        let (len, last) = match end
            .and_then(|e| i128::try_from(e).ok())
            .filter(|e| *e < total)
        {
            Some(end) => (end - offset, end - 1),
            None => (total - offset, total - 1),
        };
        return Ok(Some(span(offset, len, last, total)));
    }
    if let Some(content_range) = text("content-range") {
        let (start, stop, length) = parse_content_range(&content_range)
            .ok_or_else(|| not_satisfiable("Invalid Content-Range header."))?;
        let size = size.ok_or(RangeError::Crash)?;
        let total = u128::from(size);
        // `bytes */...` leaves start and stop None, which Glance then
        // compares with numbers: a 500.
        let (Some(start), Some(stop)) = (start, stop) else {
            return Err(RangeError::Crash);
        };
        let last = i128::from(size) - 1;
        if length.is_none() && stop > total {
            return Err(not_satisfiable(format!(
                "Invalid stop position in Content-Range header. The stop position MUST be in the inclusive range [0, {last}]."
            ))
            .into());
        }
        if start >= total {
            return Err(not_satisfiable(format!(
                "Invalid start position in Content-Range header. Start position MUST be in the inclusive range [0, {last}]."
            ))
            .into());
        }
        // Glance announces the span as asked even past the end of the
        // data; only the bytes that exist are sent.
        let (start, stop) = (start as i128, i128::try_from(stop).unwrap_or(i128::MAX));
        let len = stop.min(i128::from(size)) - start;
        let mut s = span(start, len, stop - 1, i128::from(size));
        s.content_range = format!("bytes {start}-{}/{size}", stop - 1);
        return Ok(Some(s));
    }
    Ok(None)
}

/// A span within the image; `offset` and `len` are known to fit.
fn span(offset: i128, len: i128, last: i128, total: i128) -> Span {
    Span {
        offset: u64::try_from(offset).unwrap_or(0),
        len: u64::try_from(len).unwrap_or(0),
        content_range: format!("bytes {offset}-{last}/{total}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ask(
        name: &'static str,
        value: &str,
        size: Option<u64>,
    ) -> Result<Option<Span>, (u16, String)> {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).expect("header"));
        requested(&h, size).map_err(|e| match e {
            RangeError::Refused(e) => (e.status.as_u16(), e.detail.clone() + &e.explanation),
            RangeError::Crash => (500, String::new()),
        })
    }

    fn range(value: &str, size: u64) -> Option<(u64, u64, String)> {
        ask("range", value, Some(size))
            .ok()
            .flatten()
            .map(|s| (s.offset, s.len, s.content_range))
    }

    fn cr(a: u64, n: u64, header: &str) -> Option<(u64, u64, String)> {
        Some((a, n, header.to_owned()))
    }

    #[test]
    fn ranges_as_glance_serves_them() {
        assert_eq!(range("bytes=0-4", 11), cr(0, 5, "bytes 0-4/11"));
        assert_eq!(range("bytes=6-", 11), cr(6, 5, "bytes 6-10/11"));
        assert_eq!(range("bytes=-3", 11), cr(8, 3, "bytes 8-10/11"));
        assert_eq!(range("bytes=3-100", 11), cr(3, 8, "bytes 3-10/11"));
        assert_eq!(range("bytes=-30", 11), cr(0, 11, "bytes 0-10/11"));
        assert_eq!(range("bytes=-0", 11), cr(0, 11, "bytes 0-10/11"));
        assert_eq!(range("BYTES = 2 - 3", 11), cr(2, 2, "bytes 2-3/11"));
        assert_eq!(range("bytes=1-2junk", 11), cr(1, 2, "bytes 1-2/11"));
        assert_eq!(
            range("bytes=0-99", 1_048_583),
            cr(0, 100, "bytes 0-99/1048583")
        );
        assert_eq!(
            range("bytes=1048500-", 1_048_583),
            cr(1_048_500, 83, "bytes 1048500-1048582/1048583")
        );
        assert_eq!(
            range("bytes=0-99999999999999999999999999999999999999999999", 11),
            cr(0, 11, "bytes 0-10/11")
        );
        // An empty image and a suffix: Glance's "bytes 0--1/0".
        assert_eq!(range("bytes=-5", 0), cr(0, 0, "bytes 0--1/0"));
    }

    #[test]
    fn range_errors() {
        let start = "Invalid start position in Range header. Start position MUST be in the inclusive range [0, 10].";
        assert!(
            matches!(ask("range", "bytes=11-", Some(11)), Err((416, m)) if m.starts_with(start))
        );
        assert!(matches!(
            ask("range", "bytes=99999999999999999999999-", Some(11)),
            Err((416, m)) if m.starts_with(start)
        ));
        assert!(
            matches!(ask("range", "bytes=0-", Some(0)), Err((416, m)) if m.contains("[0, -1]"))
        );
        assert!(
            matches!(ask("range", "bytes=5-3", Some(11)), Err((416, m)) if m.starts_with("Invalid Range header."))
        );
        assert!(matches!(ask("range", "items=0-3", Some(11)), Err((416, _))));
        assert!(matches!(ask("range", "", Some(11)), Err((416, _))));
        assert!(matches!(
            ask("range", "bytes=0-1,5-6", Some(11)),
            Err((400, _))
        ));
        assert!(matches!(ask("range", "bytes=-", Some(11)), Err((500, _))));
        // No data yet: Glance compares with None.
        assert!(matches!(ask("range", "bytes=0-4", None), Err((500, _))));
        assert!(matches!(ask("range", "bytes=5-2", None), Err((416, _))));
        assert!(matches!(ask("range", "bytes=1-2,3-4", None), Err((400, _))));
        assert_eq!(
            ask("range", "bytes=0-4", Some(11)).map(|s| s.is_some()),
            Ok(true)
        );
        assert_eq!(
            requested(&HeaderMap::new(), None).map(|s| s.is_none()).ok(),
            Some(true)
        );
    }

    #[test]
    fn deprecated_content_range() {
        let cr_ask = |v: &str, size| {
            ask("content-range", v, Some(size))
                .ok()
                .flatten()
                .map(|s| (s.offset, s.len, s.content_range))
        };
        assert_eq!(cr_ask("bytes 0-4/*", 11), cr(0, 5, "bytes 0-4/11"));
        assert_eq!(cr_ask("bytes 2-5/11", 11), cr(2, 4, "bytes 2-5/11"));
        assert_eq!(cr_ask("bytes 2-50/100", 11), cr(2, 9, "bytes 2-50/11"));
        assert!(matches!(
            ask("content-range", "bytes 0-40/*", Some(11)),
            Err((416, m)) if m.starts_with("Invalid stop position in Content-Range header.")
        ));
        assert!(matches!(
            ask("content-range", "bytes 20-40/100", Some(11)),
            Err((416, m)) if m.starts_with("Invalid start position in Content-Range header.")
        ));
        assert!(
            matches!(ask("content-range", "bytes 4-2/*", Some(11)), Err((416, m)) if m.starts_with("Invalid Content-Range header."))
        );
        assert!(matches!(
            ask("content-range", "bytes */*", Some(11)),
            Err((500, _))
        ));
        assert!(matches!(
            ask("content-range", "bytes 0-4/*", None),
            Err((500, _))
        ));
    }
}
