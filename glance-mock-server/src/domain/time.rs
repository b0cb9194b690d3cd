//! Timestamps as Glance renders them: `YYYY-MM-DDThh:mm:ssZ`, whole seconds.

use time::OffsetDateTime;
use time::macros::format_description;

/// The current time, truncated to whole seconds as Glance stores it.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(0).unwrap_or(t)
}

/// Render a timestamp the way Glance's API does.
pub fn format(t: OffsetDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&fmt).unwrap_or_default()
}

/// `t` in seconds since the epoch, to the microsecond (Python's
/// `time.time()`, as the image cache records it).
pub fn epoch_seconds(t: OffsetDateTime) -> f64 {
    (t.unix_timestamp_nanos() / 1_000) as f64 / 1e6
}

/// The timestamps Glance's `created_at`/`updated_at` filters accept: the
/// grammar of Python's `iso8601` package (what `oslo_utils.timeutils.
/// parse_isotime` uses), which is looser than RFC 3339 — `2000`,
/// `2000-01`, `2000-1-1`, `20000101`, `2000-01-01T10`, `…T0000`,
/// `…+01`, `…+0100` all pass — yet refuses a lowercase `t` or `z`. No zone
/// means UTC. Values out of range (month 13, second 60, year 0) are
/// refused, as Python's `datetime` refuses them.
pub fn parse_iso8601(s: &str) -> Option<OffsetDateTime> {
    use std::sync::LazyLock;
    static GRAMMAR: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
        regex::Regex::new(
            r"(?x)^
            (?P<year>[0-9]{4})
            (
              ( -(?P<monthdash>[0-9]{1,2}) | (?P<month>[0-9]{2}) )
              (
                ( -(?P<daydash>[0-9]{1,2}) | (?P<day>[0-9]{2}) )
                (
                  [\x20T]
                  (?P<hour>[0-9]{2})
                  (:?(?P<minute>[0-9]{2}))?
                  ( :?(?P<second>[0-9]{1,2}) ([.,](?P<fraction>[0-9]+))? )?
                  (?P<tz> Z | (?P<sign>[-+])(?P<tzh>[0-9]{2}):?(?P<tzm>[0-9]{2})? )?
                )?
              )?
            )?
            \n?$",
        )
        .ok()
    });
    let caps = GRAMMAR.as_ref()?.captures(s)?;
    let num = |name: &str, default: u32| -> Option<u32> {
        caps.name(name)
            .map_or(Some(default), |m| m.as_str().parse().ok())
    };
    // `YYYYMM` is not a date (the package's negative look-ahead).
    if caps.name("month").is_some() && caps.name("daydash").is_none() && caps.name("day").is_none()
    {
        return None;
    }
    let year: i32 = caps.name("year")?.as_str().parse().ok()?;
    if year < 1 {
        return None;
    }
    let month = caps
        .name("monthdash")
        .or_else(|| caps.name("month"))
        .map_or(Some(1), |m| m.as_str().parse::<u8>().ok())?;
    let day = caps
        .name("daydash")
        .or_else(|| caps.name("day"))
        .map_or(Some(1), |m| m.as_str().parse::<u8>().ok())?;
    let micros = match caps.name("fraction") {
        Some(f) => {
            let digits: String = f
                .as_str()
                .chars()
                .chain(std::iter::repeat('0'))
                .take(6)
                .collect();
            digits.parse::<u32>().ok()?
        }
        None => 0,
    };
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let clock = time::Time::from_hms_micro(
        u8::try_from(num("hour", 0)?).ok()?,
        u8::try_from(num("minute", 0)?).ok()?,
        u8::try_from(num("second", 0)?).ok()?,
        micros,
    )
    .ok()?;
    let offset = match caps.name("sign") {
        Some(sign) => {
            let h = i8::try_from(num("tzh", 0)?).ok()?;
            let m = i8::try_from(num("tzm", 0)?).ok()?;
            let (h, m) = if sign.as_str() == "-" {
                (-h, -m)
            } else {
                (h, m)
            };
            time::UtcOffset::from_hms(h, m, 0).ok()?
        }
        None => time::UtcOffset::UTC,
    };
    Some(time::PrimitiveDateTime::new(date, clock).assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each form and the answer Glance 33 gave for `created_at=gt:<form>`
    /// (200 = parsed, 400 = refused).
    #[test]
    fn the_iso8601_package_grammar() {
        let cases = [
            ("2000", true),
            ("2000-01", true),
            ("2000-01-01", true),
            ("20000101", true),
            ("2000-1-1", true),
            ("2000-01-01T10", true),
            ("2000-01-01 10:00:00", true),
            ("2000-01-01T0000", true),
            ("2000-01-01T00:00", true),
            ("2000-01-01T00:00:00+0100", true),
            ("2000-01-01T00:00:00+01", true),
            ("2000-01-01T00:00:00-05:30", true),
            ("2000-01-01T00:00:00.123", true),
            ("2000-01-01T00:00:00.123456789Z", true),
            ("200", false),
            ("200001", false),
            ("2000-13-01", false),
            ("2000-02-30", false),
            ("2000-01-01T25:00", false),
            ("2000-01-01T00:00:60", false),
            ("2000-01-01Tx", false),
            ("2000W01", false),
            ("2000-001", false),
            ("2000-01-01T00:00:00Z ", false),
            ("2000-01-01T00:00:00z", false),
            ("2000-01-01t00:00", false),
            ("2000-01-01T00:00:00UTC", false),
            ("+2000", false),
            ("0000-01-01", false),
        ];
        for (form, ok) in cases {
            assert_eq!(parse_iso8601(form).is_some(), ok, "{form:?}");
        }
    }

    #[test]
    fn zones_and_defaults_give_the_same_instant() {
        let utc = parse_iso8601("2000-01-01T01:00:00Z");
        assert_eq!(parse_iso8601("2000-01-01T02:00+01"), utc);
        assert_eq!(parse_iso8601("2000-01-01T0100"), utc);
        assert_eq!(parse_iso8601("2000-01-01 01"), utc);
        assert_eq!(parse_iso8601("2000"), parse_iso8601("2000-01-01T00:00:00Z"));
        assert_eq!(
            parse_iso8601("2000-01-01T00:00:00.5").map(|t| t.microsecond()),
            Some(500_000)
        );
    }
}
