//! Formatting of instants and durations the way operators read them: RFC 3339 in UTC for
//! instants, and kubeadm's short residual-time form (`364d`, `9y`, `5h`) for durations.
//!
//! Report types hold [`OffsetDateTime`] and [`Duration`] values; [`serde_time`] serializes them
//! as this text, the one JSON form of every time in a report.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// An instant as RFC 3339 in UTC, to the second (`2026-11-25T11:22:11Z`).
pub fn rfc3339(at: OffsetDateTime) -> String {
    let at = at
        .checked_to_offset(UtcOffset::UTC)
        .unwrap_or(at)
        .replace_nanosecond(0)
        .unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// A remaining duration in kubeadm's `certs check-expiration` style; negative durations print
/// as `expired`.
pub fn short_duration(d: Duration) -> String {
    if d.is_negative() {
        return "expired".to_string();
    }
    let secs = d.whole_seconds();
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 60 * 60 {
        format!("{}m", secs / 60)
    } else if secs < 48 * 60 * 60 {
        format!("{}h", secs / 3600)
    } else if secs < 2 * 365 * 86400 {
        format!("{}d", secs / 86400)
    } else {
        format!("{}y", secs / (365 * 86400))
    }
}

/// `#[serde(serialize_with = ...)]` helpers: times in reports as JSON, in one place.
///
/// Instants are RFC 3339 strings in UTC to the second ([`rfc3339`]); a time left is two fields,
/// `residual` ([`short_duration`]) and `residual_seconds`.
pub mod serde_time {
    use serde::Serializer;
    use time::{Duration, OffsetDateTime};

    /// An instant as an RFC 3339 string.
    pub fn rfc3339<S: Serializer>(at: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::rfc3339(*at))
    }

    /// An optional instant as an RFC 3339 string, or `null`.
    pub fn opt_rfc3339<S: Serializer>(
        at: &Option<OffsetDateTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => s.serialize_str(&super::rfc3339(*at)),
            None => s.serialize_none(),
        }
    }

    /// An optional instant as an RFC 3339 string, or `""` when unknown.
    pub fn rfc3339_or_empty<S: Serializer>(
        at: &Option<OffsetDateTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&at.map(super::rfc3339).unwrap_or_default())
    }

    /// A time left, for a `#[serde(flatten)]` field: `residual` as kubeadm prints it (`364d`,
    /// `expired`) and `residual_seconds` (negative when past).
    pub fn residual<S: Serializer>(left: &Duration, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut fields = s.serialize_struct("Residual", 2)?;
        fields.serialize_field("residual", &super::short_duration(*left))?;
        fields.serialize_field("residual_seconds", &left.whole_seconds())?;
        fields.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_durations_follow_kubeadm() {
        assert_eq!(short_duration(Duration::seconds(-1)), "expired");
        assert_eq!(short_duration(Duration::seconds(59)), "59s");
        assert_eq!(short_duration(Duration::minutes(59)), "59m");
        assert_eq!(short_duration(Duration::hours(47)), "47h");
        assert_eq!(short_duration(Duration::days(364)), "364d");
        assert_eq!(short_duration(Duration::days(3650)), "10y");
    }

    #[test]
    fn rfc3339_is_utc_to_the_second() {
        let t = time::macros::datetime!(2026-11-25 11:22:11.5 +01:00);
        assert_eq!(rfc3339(t), "2026-11-25T10:22:11Z");
    }
}
