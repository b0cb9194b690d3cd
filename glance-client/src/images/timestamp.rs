//! Glance's timestamps (`2026-01-01T00:00:00Z`) and comma-separated store
//! lists, read into typed values and written back in the same form.

use serde::{Deserialize, Deserializer, Serializer};
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::info::StoreId;

/// Read a timestamp as Glance writes it (`oslo_utils.timeutils.isotime`,
/// RFC 3339 in UTC) or in the looser ISO 8601 forms older services use; no
/// zone means UTC, as Glance means it.
pub(crate) fn parse(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(s, &Iso8601::DEFAULT))
        .ok()
        .or_else(|| {
            PrimitiveDateTime::parse(s, &Iso8601::DEFAULT)
                .ok()
                .map(PrimitiveDateTime::assume_utc)
        })
}

/// Write a timestamp as Glance does: UTC, `Z`, whole seconds unless the
/// value has a fraction.
pub(crate) fn format(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let formatted = if t.nanosecond() == 0 {
        t.format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
    } else {
        t.format(&Rfc3339)
    };
    formatted.unwrap_or_default()
}

/// `Option<OffsetDateTime>` fields: `null` and absence are `None`.
pub(crate) mod optional {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => parse(&s).map(Some).ok_or_else(|| {
                serde::de::Error::custom(format!("{s:?} is not an ISO 8601 date-time"))
            }),
        }
    }

    pub(crate) fn serialize<S: Serializer>(
        t: &Option<OffsetDateTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format(*t)),
            None => s.serialize_none(),
        }
    }
}

/// `stores`: `"fast,cheap"` on the wire, a list of ids here; absent,
/// `null` or empty is no store.
pub(crate) mod store_list {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<StoreId>, D::Error> {
        Ok(Option::<String>::deserialize(d)?
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(StoreId::from)
            .collect())
    }

    pub(crate) fn serialize<S: Serializer>(stores: &[StoreId], s: S) -> Result<S::Ok, S::Error> {
        if stores.is_empty() {
            return s.serialize_none();
        }
        let joined: Vec<&str> = stores.iter().map(StoreId::as_str).collect();
        s.serialize_str(&joined.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn glance_forms_read_and_written_back() {
        let t = datetime!(2026-01-01 00:00:00 UTC);
        assert_eq!(parse("2026-01-01T00:00:00Z"), Some(t));
        assert_eq!(parse("2026-01-01T00:00:00"), Some(t));
        assert_eq!(parse("2026-01-01T01:00:00+01:00"), Some(t));
        assert_eq!(parse("last tuesday"), None);
        assert_eq!(format(t), "2026-01-01T00:00:00Z");
        assert_eq!(
            format(datetime!(2026-01-01 01:00:00.5 +01:00)),
            "2026-01-01T00:00:00.5Z"
        );
    }
}
