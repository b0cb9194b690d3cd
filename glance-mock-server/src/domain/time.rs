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
