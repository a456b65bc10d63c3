//! Times as the tables print them: absolute in UTC where an operator copies them, relative where
//! a glance should tell how long ago or how soon.

use chrono::{DateTime, Duration, Utc};

/// "2026-11-22 03:04:05Z".
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// "in 2d 22h", "4m 3s ago", "now": two units at most, enough to judge at a glance.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let delta = at - now;
    if delta.num_seconds() == 0 {
        return "now".to_owned();
    }
    let span = span(delta.abs());
    if delta > Duration::zero() {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

fn span(d: Duration) -> String {
    let secs = d.num_seconds();
    let (days, hours, minutes, seconds) = (
        secs / 86_400,
        secs % 86_400 / 3_600,
        secs % 3_600 / 60,
        secs % 60,
    );
    let units = [(days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")];
    let first = units.iter().position(|(n, _)| *n > 0).unwrap_or(3);
    units
        .iter()
        .skip(first)
        .take(2)
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap()
    }

    #[test]
    fn relative_times_keep_two_units() {
        let at = |secs: i64| now() + Duration::seconds(secs);
        assert_eq!(relative(at(0), now()), "now");
        assert_eq!(relative(at(59), now()), "in 59s");
        assert_eq!(relative(at(-243), now()), "4m 3s ago");
        assert_eq!(relative(at(28 * 60), now()), "in 28m");
        assert_eq!(
            relative(at(2 * 86_400 + 22 * 3_600 + 59), now()),
            "in 2d 22h"
        );
        assert_eq!(relative(at(86_400 + 59), now()), "in 1d");
    }
}
