//! `dateTimeTimeZone` values (docs/graph-behaviour.md §3.5): requests carry a wall-clock time and a
//! zone name, responses carry the same instant in UTC with 7 fractional digits.
//!
//! Clients send Windows zone names ("Eastern Standard Time") as often as IANA ones, so Windows
//! names are mapped onto the IANA zone that CLDR's `windowsZones.xml` gives for territory "001";
//! the IANA rules (via `chrono-tz`) then decide DST. Wall-clock times that fall in a DST gap are
//! read with the offset in force before the jump (02:30 on a US spring-forward night is 07:30 UTC
//! in New York); times that occur twice take the first occurrence (the DST one).

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Windows zone id → IANA zone (CLDR windowsZones, territory 001). Not exhaustive: the zones an
/// app is likely to send; others can be sent by IANA name.
const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("UTC", "Etc/UTC"),
    ("Coordinated Universal Time", "Etc/UTC"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("Romance Standard Time", "Europe/Paris"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("FLE Standard Time", "Europe/Kiev"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("Turkey Standard Time", "Europe/Istanbul"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("Israel Standard Time", "Asia/Jerusalem"),
    ("Egypt Standard Time", "Africa/Cairo"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("Pakistan Standard Time", "Asia/Karachi"),
    ("India Standard Time", "Asia/Calcutta"),
    ("SE Asia Standard Time", "Asia/Bangkok"),
    ("China Standard Time", "Asia/Shanghai"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("Taipei Standard Time", "Asia/Taipei"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("Korea Standard Time", "Asia/Seoul"),
    ("W. Australia Standard Time", "Australia/Perth"),
    ("Cen. Australia Standard Time", "Australia/Adelaide"),
    ("AUS Central Standard Time", "Australia/Darwin"),
    ("E. Australia Standard Time", "Australia/Brisbane"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Mountain Standard Time", "America/Denver"),
    ("Central Standard Time", "America/Chicago"),
    ("Central Standard Time (Mexico)", "America/Mexico_City"),
    ("Canada Central Standard Time", "America/Regina"),
    ("Eastern Standard Time", "America/New_York"),
    ("SA Pacific Standard Time", "America/Bogota"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("Newfoundland Standard Time", "America/St_Johns"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("Argentina Standard Time", "America/Buenos_Aires"),
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ZoneError {
    #[error("the dateTime value '{0}' is not a valid date and time")]
    BadDateTime(String),
    #[error("the time zone '{0}' is not supported")]
    UnknownZone(String),
}

/// Resolves a Windows or IANA zone name (Windows names case-insensitively, as Exchange does).
pub fn resolve_zone(name: &str) -> Result<Tz, ZoneError> {
    let trimmed = name.trim();
    let iana = WINDOWS_ZONES
        .iter()
        .find(|(windows, _)| windows.eq_ignore_ascii_case(trimmed))
        .map_or(trimmed, |(_, iana)| *iana);
    iana.parse::<Tz>()
        .map_err(|_| ZoneError::UnknownZone(name.to_owned()))
}

/// Reads `{dateTime, timeZone}` as an instant. A `dateTime` that carries its own offset (`Z` or
/// `+hh:mm`) is taken as that instant, whatever `timeZone` says.
pub fn to_utc(date_time: &str, zone: &str) -> Result<DateTime<Utc>, ZoneError> {
    let text = date_time.trim();
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(text) {
        return Ok(with_offset.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .map_err(|_| ZoneError::BadDateTime(date_time.to_owned()))?;
    let tz = resolve_zone(zone)?;
    if let Some(first) = tz.from_local_datetime(&naive).earliest() {
        return Ok(first.with_timezone(&Utc));
    }
    // In a spring-forward gap: the wall-clock reading one hour later exists and, read with the
    // post-jump offset, names the instant the pre-jump offset would give.
    let shifted = naive + Duration::hours(1);
    tz.from_local_datetime(&shifted)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .ok_or_else(|| ZoneError::BadDateTime(date_time.to_owned()))
}

/// Graph's DateTimeOffset text: UTC with exactly 7 fractional digits and `Z`
/// (docs/graph-behaviour.md §3.1, e.g. `2020-08-18T09:03:05.8339192Z`).
pub fn format_offset(t: DateTime<Utc>) -> String {
    format!("{}Z", format_wall_clock(t))
}

/// The `dateTime` part of a UTC dateTimeTimeZone: 7 fractional digits, no offset.
pub fn format_wall_clock(t: DateTime<Utc>) -> String {
    let ticks = (t.timestamp_subsec_nanos() / 100).min(9_999_999);
    format!("{}.{ticks:07}", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// The response form of a stored instant.
pub fn to_json(t: DateTime<Utc>) -> serde_json::Value {
    serde_json::json!({"dateTime": format_wall_clock(t), "timeZone": "UTC"})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn eastern_both_sides_of_the_us_spring_change() {
        // 2026-03-08 is the second Sunday of March: EST (-5) before, EDT (-4) after.
        assert_eq!(
            to_utc("2026-03-07T16:00:00", "Eastern Standard Time").unwrap(),
            utc("2026-03-07T21:00:00Z")
        );
        assert_eq!(
            to_utc("2026-03-09T16:00:00", "Eastern Standard Time").unwrap(),
            utc("2026-03-09T20:00:00Z")
        );
    }

    #[test]
    fn gap_uses_the_offset_before_the_jump_and_overlap_the_first_occurrence() {
        assert_eq!(
            to_utc("2026-03-08T02:30:00", "Eastern Standard Time").unwrap(),
            utc("2026-03-08T07:30:00Z")
        );
        // 2026-11-01 01:30 happens twice in New York; the first is EDT.
        assert_eq!(
            to_utc("2026-11-01T01:30:00", "eastern standard time").unwrap(),
            utc("2026-11-01T05:30:00Z")
        );
    }

    #[test]
    fn iana_names_fixed_zones_and_explicit_offsets() {
        assert_eq!(
            to_utc("2026-07-01T12:00:00.0000000", "Europe/Berlin").unwrap(),
            utc("2026-07-01T10:00:00Z")
        );
        assert_eq!(
            to_utc("2026-07-01T12:00:00", "India Standard Time").unwrap(),
            utc("2026-07-01T06:30:00Z")
        );
        assert_eq!(
            to_utc("2026-07-01T12:00:00Z", "Pacific Standard Time").unwrap(),
            utc("2026-07-01T12:00:00Z")
        );
        assert!(matches!(
            to_utc("2026-07-01T12:00:00", "Mars/Olympus"),
            Err(ZoneError::UnknownZone(_))
        ));
        assert!(matches!(
            to_utc("yesterday", "UTC"),
            Err(ZoneError::BadDateTime(_))
        ));
    }

    #[test]
    fn formats_seven_fractional_digits() {
        let t = utc("2020-08-18T09:03:05.833919234Z");
        assert_eq!(format_offset(t), "2020-08-18T09:03:05.8339192Z");
        assert_eq!(
            format_wall_clock(utc("2020-08-18T09:03:05Z")),
            "2020-08-18T09:03:05.0000000"
        );
    }
}
