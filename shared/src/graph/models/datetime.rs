//! The date rules. Planner dates are UTC instants (docs/graph-behaviour.md §2.1). To Do dates are
//! `dateTimeTimeZone` values: a wall-clock time plus a zone name that may be a Windows name
//! ("Eastern Standard Time"); Graph answers in UTC with 7 fractional digits (§3.5).
//!
//! A due date a person set is a calendar day, not an instant. It is written as the start of that
//! day in the binding's zone (what the To Do and Planner apps do) and read back by converting
//! the instant into the same zone. Because both directions use the binding's zone, the day is
//! the same in every zone the binding may have, round trip after round trip, across daylight-saving
//! changes (a midnight that does not exist is moved forward to the first valid time that day).

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::windows_zones::WINDOWS_TO_IANA;
use crate::graph::GraphError;

/// Graph's `dateTimeTimeZone`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateTimeTimeZone {
    /// Wall-clock time without offset, e.g. `2020-07-25T16:00:00` or
    /// `2020-07-25T04:00:00.0000000`.
    #[serde(rename = "dateTime")]
    pub date_time: String,
    /// A Windows zone name, an IANA name or `UTC`.
    #[serde(rename = "timeZone")]
    pub time_zone: String,
}

/// The zone in which a binding's calendar days are read and written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarZone {
    tz: Tz,
    /// The Windows name sent to Graph for this zone, when there is one.
    windows_name: Option<&'static str>,
}

/// Resolves a zone name as Graph may send it: Windows, IANA, or `UTC`.
pub fn resolve_zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    if name.eq_ignore_ascii_case("utc") || name.eq_ignore_ascii_case("tzone://Microsoft/Utc") {
        return Some(Tz::UTC);
    }
    if let Some((_, iana)) = WINDOWS_TO_IANA
        .iter()
        .find(|(windows, _)| windows.eq_ignore_ascii_case(name))
    {
        return iana.parse().ok();
    }
    name.parse().ok()
}

impl CalendarZone {
    /// A zone from a Windows or IANA name.
    pub fn parse(name: &str) -> Result<Self, GraphError> {
        let tz = resolve_zone(name)
            .ok_or_else(|| GraphError::Protocol(format!("unknown time zone {name:?}")))?;
        Ok(Self::from_tz(tz))
    }

    pub fn from_tz(tz: Tz) -> Self {
        let windows_name = WINDOWS_TO_IANA
            .iter()
            .find(|(_, iana)| resolve_iana(iana) == Some(tz))
            .map(|(windows, _)| *windows);
        Self { tz, windows_name }
    }

    pub fn utc() -> Self {
        Self::from_tz(Tz::UTC)
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The first instant of `date` in this zone.
    pub fn start_of_day(&self, date: NaiveDate) -> DateTime<Utc> {
        local_to_utc(self.tz, date.and_time(NaiveTime::MIN))
    }

    /// The calendar day an instant falls on in this zone. A value exactly at midnight UTC that
    /// is not the start of a day here was written by a client that stores days as UTC
    /// midnights; it means that UTC day.
    pub fn calendar_day(&self, instant: DateTime<Utc>) -> NaiveDate {
        let local = instant.with_timezone(&self.tz).date_naive();
        if self.start_of_day(local) == instant {
            return local;
        }
        if instant.time() == NaiveTime::MIN {
            return instant.date_naive();
        }
        local
    }
}

/// Every Windows zone name this module knows (for tests and validation of configuration).
pub fn windows_zone_names() -> impl Iterator<Item = &'static str> {
    WINDOWS_TO_IANA.iter().map(|(windows, _)| *windows)
}

fn resolve_iana(name: &str) -> Option<Tz> {
    name.parse().ok()
}

/// A local wall-clock time in `tz` as an instant: the earlier of two on a fall-back overlap, and
/// on a spring-forward gap the first valid time after it.
fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = local;
    // Gaps are at most a few hours; step in 15-minute increments (some zones shift by 30 min).
    for _ in 0..(4 * 26) {
        match tz.from_local_datetime(&probe) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(earliest, _) => return earliest.with_timezone(&Utc),
            LocalResult::None => {
                probe += Duration::minutes(15);
            }
        }
    }
    // No zone has a day-long gap; fall back to reading the wall clock as UTC.
    Utc.from_utc_datetime(&local)
}

impl DateTimeTimeZone {
    /// An instant as Graph writes it: UTC, 7 fractional digits.
    pub fn from_utc(instant: DateTime<Utc>) -> Self {
        let nanos = instant.timestamp_subsec_nanos() % 1_000_000_000;
        Self {
            date_time: format!("{}.{:07}", instant.format("%Y-%m-%dT%H:%M:%S"), nanos / 100),
            time_zone: "UTC".to_owned(),
        }
    }

    /// The start of calendar day `date` in `zone`, named with the zone's Windows name (as the To
    /// Do app writes it), or as a UTC instant for zones without one.
    pub fn for_calendar_day(date: NaiveDate, zone: &CalendarZone) -> Self {
        match zone.windows_name {
            Some(windows) if zone.tz != Tz::UTC => {
                let start = zone.start_of_day(date).with_timezone(&zone.tz);
                Self {
                    date_time: start.naive_local().format("%Y-%m-%dT%H:%M:%S").to_string(),
                    time_zone: windows.to_owned(),
                }
            }
            _ => Self::from_utc(zone.start_of_day(date)),
        }
    }

    /// The instant this value names.
    pub fn to_utc(&self) -> Result<DateTime<Utc>, GraphError> {
        let tz = resolve_zone(&self.time_zone).ok_or_else(|| {
            GraphError::Protocol(format!("unknown time zone {:?}", self.time_zone))
        })?;
        let local = parse_wall_clock(&self.date_time)?;
        Ok(local_to_utc(tz, local))
    }

    /// The calendar day this value means in `zone` (see the module doc).
    pub fn calendar_day(&self, zone: &CalendarZone) -> Result<NaiveDate, GraphError> {
        Ok(zone.calendar_day(self.to_utc()?))
    }
}

/// `2020-07-25T16:00:00`, with up to 7 (or 9) fractional digits; a trailing `Z` is tolerated.
fn parse_wall_clock(value: &str) -> Result<NaiveDateTime, GraphError> {
    let trimmed = value.trim().trim_end_matches('Z');
    NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M"))
        .map_err(|e| {
            GraphError::Protocol(format!("dateTime {value:?} is not a wall-clock time: {e}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_windows_name_maps_to_a_known_zone() {
        for (windows, iana) in WINDOWS_TO_IANA {
            assert!(
                resolve_iana(iana).is_some(),
                "{windows} maps to unknown {iana}"
            );
        }
        assert_eq!(
            resolve_zone("Eastern Standard Time"),
            Some(chrono_tz::America::New_York)
        );
        assert_eq!(
            resolve_zone("eastern standard time"),
            Some(chrono_tz::America::New_York)
        );
        assert_eq!(
            resolve_zone("Europe/Berlin"),
            Some(chrono_tz::Europe::Berlin)
        );
        assert_eq!(resolve_zone("UTC"), Some(Tz::UTC));
        assert_eq!(resolve_zone("Mars Standard Time"), None);
    }

    #[test]
    fn graph_doc_example_converts_to_utc() {
        let v = DateTimeTimeZone {
            date_time: "2020-07-25T16:00:00".into(),
            time_zone: "Eastern Standard Time".into(),
        };
        let utc = v.to_utc().unwrap();
        assert_eq!(utc.to_rfc3339(), "2020-07-25T20:00:00+00:00");
        assert_eq!(
            DateTimeTimeZone::from_utc(utc).date_time,
            "2020-07-25T20:00:00.0000000"
        );
    }

    #[test]
    fn a_day_written_in_eastern_time_reads_back_as_the_same_day() {
        let zone = CalendarZone::parse("Eastern Standard Time").unwrap();
        let day = NaiveDate::from_ymd_opt(2024, 3, 10).unwrap(); // US spring-forward day
        let written = DateTimeTimeZone::for_calendar_day(day, &zone);
        assert_eq!(written.time_zone, "Eastern Standard Time");
        assert_eq!(written.date_time, "2024-03-10T00:00:00");
        let stored = DateTimeTimeZone::from_utc(written.to_utc().unwrap());
        assert_eq!(stored.date_time, "2024-03-10T05:00:00.0000000");
        assert_eq!(stored.calendar_day(&zone).unwrap(), day);
    }

    #[test]
    fn a_midnight_that_does_not_exist_moves_forward_within_the_day() {
        // Chile springs forward at 24:00 on the first Saturday of September.
        let zone = CalendarZone::parse("Pacific SA Standard Time").unwrap();
        let day = NaiveDate::from_ymd_opt(2024, 9, 8).unwrap();
        let start = zone.start_of_day(day);
        assert_eq!(start.with_timezone(&zone.tz()).date_naive(), day);
        assert_eq!(zone.calendar_day(start), day);
    }

    #[test]
    fn utc_midnights_from_other_clients_keep_their_day() {
        let zone = CalendarZone::parse("Pacific Standard Time").unwrap();
        let v = DateTimeTimeZone {
            date_time: "2024-05-10T00:00:00.0000000".into(),
            time_zone: "UTC".into(),
        };
        assert_eq!(
            v.calendar_day(&zone).unwrap(),
            NaiveDate::from_ymd_opt(2024, 5, 10).unwrap()
        );
    }
}
