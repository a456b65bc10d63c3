//! The table `tasksync status` prints: one row per binding with short cells, capitals marking
//! what needs an operator, then one line per problem with its whole reason.

use chrono::{DateTime, Utc};
use tasksync::ops::binding_status::{Attention, BindingStatus, FailureView};

use crate::output::table;
use crate::when::{relative, timestamp};

/// One row per binding with short cells (capitals mark what needs an operator), then one line
/// per problem with its whole reason, since that is what an operator acts on.
pub fn status_table(statuses: &[BindingStatus], now: DateTime<Utc>) -> String {
    if statuses.is_empty() {
        return "No bindings.\n".to_owned();
    }
    let rows: Vec<Vec<String>> = statuses.iter().map(|s| row(s, now)).collect();
    let mut text = table(
        &[
            "BINDING",
            "LIST",
            "REMOTE",
            "DIRECTION",
            "SUBSCRIPTION",
            "LAST SWEEP",
            "NEXT DUE",
            "INTERVAL",
            "GUARD",
            "BREAKER",
            "LEASE",
        ],
        &rows,
    );
    let problems: Vec<String> = statuses
        .iter()
        .flat_map(|s| {
            s.needs_operator
                .iter()
                .map(move |attention| problem(s, *attention, now))
        })
        .collect();
    let needing = statuses
        .iter()
        .filter(|s| !s.needs_operator.is_empty())
        .count();
    if needing == 0 {
        text.push_str(&format!(
            "{} binding(s); none needs an operator.\n",
            statuses.len()
        ));
    } else {
        text.push_str(&format!(
            "{} binding(s); {needing} need(s) an operator:\n",
            statuses.len()
        ));
        for line in problems {
            text.push_str(&format!("  {line}\n"));
        }
    }
    text
}

fn row(s: &BindingStatus, now: DateTime<Utc>) -> Vec<String> {
    let dash = || "-".to_owned();
    let subscription = match &s.subscription {
        None if s.remote == "planner" => "- (no notifications)".to_owned(),
        None => dash(),
        Some(sub) => match (&sub.failure, &sub.id) {
            // A refused renewal leaves the old subscription serving until it expires.
            (Some(f), Some(id)) => format!(
                "{}, expires {}; FAILING ({}), retry {}",
                id_suffix(id),
                sub.expires_at
                    .map_or_else(|| "-".to_owned(), |at| relative(at, now)),
                attempts(f),
                relative(f.next_retry, now)
            ),
            (Some(f), None) => format!(
                "FAILING ({}), retry {}",
                attempts(f),
                relative(f.next_retry, now)
            ),
            (None, Some(id)) => match sub.expires_at {
                Some(at) if at <= now => format!("{} EXPIRED {}", id_suffix(id), relative(at, now)),
                Some(at) => format!("{}, expires {}", id_suffix(id), relative(at, now)),
                None => id_suffix(id),
            },
            (None, None) => "none yet".to_owned(),
        },
    };
    let last_sweep = match (&s.sweep_failure, s.last_swept_at) {
        (Some(f), _) => format!("FAILING ({})", attempts(f)),
        (None, Some(at)) => relative(at, now),
        (None, None) if s.scheduled => "never".to_owned(),
        (None, None) => dash(),
    };
    let next_due = match s.next_due_at {
        Some(at) => relative(at, now),
        None => "not scheduled yet".to_owned(),
    };
    let guard = match &s.deletion_guard {
        None => dash(),
        Some(g) if g.approved => format!("approved {} of {}", g.vanished, g.mapped),
        Some(g) => format!(
            "WITHHELD {} of {}, {}",
            g.vanished,
            g.mapped,
            relative(g.since, now)
        ),
    };
    let breaker = match &s.breaker {
        None => dash(),
        Some(b) => match b.open_until {
            Some(until) => format!("OPEN until {}", until.format("%H:%MZ")),
            None => format!("{} failure(s)", b.failures),
        },
    };
    let lease = match &s.lease {
        None => dash(),
        Some(l) => format!("{}, expires {}", l.holder, relative(l.expires_at, now)),
    };
    vec![
        s.binding_id.clone(),
        s.local_list_id.clone(),
        format!("{} {}", s.remote, short_container(&s.remote_container_id)),
        s.direction.to_owned(),
        subscription,
        last_sweep,
        next_due,
        s.interval.unwrap_or("-").to_owned(),
        guard,
        breaker,
        lease,
    ]
}

fn problem(s: &BindingStatus, attention: Attention, now: DateTime<Utc>) -> String {
    let id = &s.binding_id;
    match attention {
        Attention::SubscriptionFailing => {
            match s.subscription.as_ref().and_then(|x| x.failure.as_ref()) {
                Some(f) => format!(
                    "{id}: subscription failing ({}, next retry {}): {}",
                    attempts(f),
                    relative(f.next_retry, now),
                    f.reason
                ),
                None => format!("{id}: subscription failing"),
            }
        }
        Attention::SubscriptionExpired => format!(
            "{id}: the subscription expired without a renewal attempt: is the scheduler running?"
        ),
        Attention::SweepFailing => match &s.sweep_failure {
            Some(f) => format!(
                "{id}: sweep failing ({}, next retry {}): {}",
                attempts(f),
                relative(f.next_retry, now),
                f.reason
            ),
            None => format!("{id}: sweep failing"),
        },
        Attention::DeletionsWithheld => match &s.deletion_guard {
            Some(g) => format!(
                "{id}: deletions withheld: {} of {} mapped tasks vanished (since {}); if they were meant to go, run `tasksync approve-deletions {id}`",
                g.vanished,
                g.mapped,
                timestamp(g.since)
            ),
            None => format!("{id}: deletions withheld"),
        },
        Attention::BreakerOpen => match &s.breaker {
            Some(b) => format!(
                "{id}: circuit breaker open until {} after {} failure(s): {}",
                b.open_until.map_or_else(|| "-".to_owned(), timestamp),
                b.failures,
                b.reason
            ),
            None => format!("{id}: circuit breaker open"),
        },
    }
}

fn attempts(f: &FailureView) -> String {
    if f.attempts == 1 {
        "attempt 1".to_owned()
    } else {
        format!("{} attempts", f.attempts)
    }
}

/// To Do list ids run past 100 characters; the table keeps both ends (`--json` has them whole).
fn short_container(id: &str) -> String {
    let len = id.chars().count();
    if len <= 32 {
        return id.to_owned();
    }
    let head: String = id.chars().take(10).collect();
    let tail: String = id.chars().skip(len - 10).collect();
    format!("{head}…{tail}")
}

fn id_suffix(id: &str) -> String {
    let len = id.chars().count();
    if len <= 8 {
        return id.to_owned();
    }
    let tail: String = id.chars().skip(len - 8).collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use tasksync::model::{Binding, CircuitBreaker, RemoteKind};
    use tasksync::scheduler::{BindingSchedule, Failure, GuardReport};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap()
    }

    #[test]
    fn a_failing_renewal_still_shows_the_subscription_that_serves() {
        let binding = Binding::todo("b", "team", "u", "list-1");
        let mut s = BindingSchedule::new("b", RemoteKind::Todo, now());
        s.subscription_id = Some("sub-0123456789".into());
        s.subscription_expires_at = Some(now() + Duration::minutes(45));
        s.subscription_failure = Some(Failure {
            reason: "409 Conflict".into(),
            attempts: 2,
            next_retry: now() + Duration::minutes(2),
        });
        let status = BindingStatus::of(&binding, Some(&s), now());
        let row = row(&status, now());
        assert_eq!(
            row.get(4).map(String::as_str),
            Some("…23456789, expires in 45m; FAILING (2 attempts), retry in 2m")
        );
    }

    #[test]
    fn the_table_marks_problems_in_capitals_and_lists_each_with_its_reason() {
        let healthy = {
            let binding = Binding::todo("b-ok", "team", "u", "list-1");
            let mut s = BindingSchedule::new("b-ok", RemoteKind::Todo, now());
            s.subscription_id = Some("0123456789abcdef".into());
            s.subscription_expires_at = Some(now() + Duration::hours(70));
            s.last_swept_at = Some(now() - Duration::minutes(2));
            s.due_at = now() + Duration::minutes(28);
            BindingStatus::of(&binding, Some(&s), now())
        };
        let troubled = {
            let mut binding = Binding::planner("p-bad", "ops", "plan-9");
            binding.breaker = Some(CircuitBreaker {
                failures: 5,
                reason: "the plan is gone (404)".into(),
                last_failure_at: now(),
                open_until: Some(now() + Duration::minutes(10)),
            });
            let mut s = BindingSchedule::new("p-bad", RemoteKind::Planner, now());
            s.deletion_guard = Some(GuardReport {
                at: now() - Duration::hours(1),
                vanished: 12,
                mapped: 17,
            });
            s.sweep_failure = Some(Failure {
                reason: "Graph said 503".into(),
                attempts: 2,
                next_retry: now() + Duration::minutes(2),
            });
            s.lease_owner = Some("run-7".into());
            s.lease_expires_at = Some(now() + Duration::minutes(3));
            s.due_at = now() + Duration::minutes(3);
            BindingStatus::of(&binding, Some(&s), now())
        };
        let text = status_table(&[healthy, troubled], now());
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("BINDING  LIST  REMOTE"), "{text}");
        assert!(lines[1].starts_with("b-ok"), "{text}");
        assert!(lines[1].contains("…89abcdef, expires in 2d 22h"), "{text}");
        assert!(lines[1].contains("2m ago"), "{text}");
        assert!(lines[1].contains("in 28m"), "{text}");
        assert!(lines[1].contains("safety_net"), "{text}");
        assert!(lines[2].starts_with("p-bad"), "{text}");
        assert!(lines[2].contains("planner plan-9"), "{text}");
        assert!(lines[2].contains("- (no notifications)"), "{text}");
        assert!(lines[2].contains("FAILING (2 attempts)"), "{text}");
        assert!(lines[2].contains("WITHHELD 12 of 17, 1h ago"), "{text}");
        assert!(lines[2].contains("OPEN until 03:10Z"), "{text}");
        assert!(lines[2].ends_with("run-7, expires in 3m"), "{text}");
        assert_eq!(lines[3], "2 binding(s); 1 need(s) an operator:");
        assert_eq!(
            lines[4],
            "  p-bad: sweep failing (2 attempts, next retry in 2m): Graph said 503"
        );
        assert!(lines[5].contains("12 of 17 mapped tasks vanished (since 2026-11-22 02:00:00Z)"));
        assert!(lines[5].ends_with("`tasksync approve-deletions p-bad`"));
        assert_eq!(
            lines[6],
            "  p-bad: circuit breaker open until 2026-11-22 03:10:00Z after 5 failure(s): the plan is gone (404)"
        );
        assert_eq!(status_table(&[], now()), "No bindings.\n");
    }
}
