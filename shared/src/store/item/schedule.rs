//! The binding schedule item of the sync table (docs/scheduler.md): when a binding is next due,
//! its lease, and what the last sweep and subscription attempts left behind.

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::attrs::{ItemExt, Reader, item_of, n, s};
use super::binding::{parse_remote_kind, remote_kind_text};
use super::{Item, PK, SK, listed_under};
use crate::ports::StoreError;
use crate::scheduler::{BindingSchedule, Failure, GuardReport, IntervalClass, QuietListing};

pub use super::sweep_index::{
    MAPPING_REMOTE_DETAILS_ETAG, MAPPING_REMOTE_ETAG, MAPPING_REMOTE_ID, mapped_etags_from_item,
    mapping_index_attributes, mapping_partition,
};

pub const SCHEDULE_SK: &str = "schedule";
/// gsi1 partition of every schedule; gsi1sk is `{due time}#{binding id}`.
pub const DUE_PARTITION: &str = "due";
pub const REVISION: &str = "revision";

pub fn schedule_key(binding_id: &str) -> Item {
    item_of([
        (PK, s(format!("binding#{binding_id}"))),
        (SK, s(SCHEDULE_SK)),
    ])
}

/// Fixed-width UTC text, so the index's string order is time order.
pub fn sortable_time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

/// Upper bound for "due at or before `now`" in gsi1sk order (`#` < `$`).
pub fn due_bound(now: &DateTime<Utc>) -> String {
    format!("{}$", sortable_time(now))
}

fn time(at: &DateTime<Utc>) -> AttributeValue {
    s(sortable_time(at))
}

/// The revision a stored schedule is at (0 when it has none), `None` when there is no item: what
/// a schedule write's condition compares.
pub(crate) fn stored_revision(item: Option<&Item>) -> Option<u64> {
    item.map(|i| i.whole_number(REVISION).unwrap_or(0))
}

/// The bindings that have a schedule, from the items of the due partition.
pub(crate) fn scheduled_binding_ids<'a>(
    items: impl IntoIterator<Item = &'a Item>,
) -> HashSet<String> {
    items
        .into_iter()
        .filter_map(|i| i.text("binding_id").map(str::to_owned))
        .collect()
}

/// The item for `schedule` at revision `revision`.
pub fn schedule_to_item(schedule: &BindingSchedule, revision: u64) -> Item {
    let mut item = schedule_key(&schedule.binding_id);
    item.extend(listed_under(
        DUE_PARTITION,
        format!(
            "{}#{}",
            sortable_time(&schedule.due_at),
            schedule.binding_id
        ),
    ));
    item.insert("binding_id".into(), s(&schedule.binding_id));
    item.insert("remote".into(), s(remote_kind_text(schedule.remote)));
    item.insert(REVISION.into(), n(revision));
    item.insert("due_at".into(), time(&schedule.due_at));
    item.insert("next_sweep_at".into(), time(&schedule.next_sweep_at));
    item.insert("interval".into(), s(schedule.interval.as_str()));
    let mut opt_time = |name: &str, at: &Option<DateTime<Utc>>| {
        if let Some(at) = at {
            item.insert(name.into(), time(at));
        }
    };
    opt_time("last_swept_at", &schedule.last_swept_at);
    opt_time("last_change_at", &schedule.last_change_at);
    opt_time("lease_expires_at", &schedule.lease_expires_at);
    opt_time("subscription_expires_at", &schedule.subscription_expires_at);
    let mut opt_text = |name: &str, v: &Option<String>| {
        if let Some(v) = v {
            item.insert(name.into(), s(v));
        }
    };
    opt_text("lease_owner", &schedule.lease_owner);
    opt_text("delta_link", &schedule.delta_link);
    opt_text("subscription_id", &schedule.subscription_id);
    for (prefix, failure) in [
        ("subscription_failure", &schedule.subscription_failure),
        ("sweep_failure", &schedule.sweep_failure),
    ] {
        if let Some(f) = failure {
            item.insert(format!("{prefix}_reason"), s(&f.reason));
            item.insert(format!("{prefix}_attempts"), n(f.attempts));
            item.insert(format!("{prefix}_next_retry"), time(&f.next_retry));
        }
    }
    if let Some(g) = &schedule.deletion_guard {
        item.insert("guard_at".into(), time(&g.at));
        item.insert("guard_vanished".into(), n(g.vanished));
        item.insert("guard_mapped".into(), n(g.mapped));
    }
    item.insert(
        "deletions_approved".into(),
        AttributeValue::Bool(schedule.deletions_approved),
    );
    if let Some(q) = &schedule.quiet_listing {
        item.insert("quiet_digest".into(), s(&q.digest));
        item.insert("quiet_mapped".into(), n(q.mapped));
        item.insert("quiet_compared_at".into(), time(&q.compared_at));
    }
    item
}

pub fn schedule_from_item(item: &Item) -> Result<BindingSchedule, StoreError> {
    let r = Reader::new(item, "schedule");
    let remote_text = r.string("remote")?;
    let remote = parse_remote_kind(remote_text).ok_or_else(|| {
        r.invalid(format!(
            "remote {remote_text:?} is neither todo nor planner"
        ))
    })?;
    let interval_text = r.string("interval")?;
    let text = |name: &str| -> Result<Option<String>, StoreError> {
        Ok(r.optional_string(name)?.map(str::to_owned))
    };
    let failure = |prefix: &str| -> Result<Option<Failure>, StoreError> {
        match text(&format!("{prefix}_reason"))? {
            None => Ok(None),
            Some(reason) => Ok(Some(Failure {
                reason,
                attempts: r.count(&format!("{prefix}_attempts"))?,
                next_retry: r.timestamp(&format!("{prefix}_next_retry"))?,
            })),
        }
    };
    let guard = match r.optional_timestamp("guard_at")? {
        None => None,
        Some(at) => Some(GuardReport {
            at,
            vanished: r.count("guard_vanished")?,
            mapped: r.count("guard_mapped")?,
        }),
    };
    let quiet_listing = match text("quiet_digest")? {
        None => None,
        Some(digest) => Some(QuietListing {
            digest,
            mapped: r.count("quiet_mapped")?,
            compared_at: r.timestamp("quiet_compared_at")?,
        }),
    };
    Ok(BindingSchedule {
        binding_id: r.string("binding_id")?.to_owned(),
        remote,
        revision: r.number(REVISION)?,
        due_at: r.timestamp("due_at")?,
        next_sweep_at: r.timestamp("next_sweep_at")?,
        interval: IntervalClass::parse(interval_text)
            .ok_or_else(|| r.invalid(format!("interval {interval_text:?} is unknown")))?,
        last_swept_at: r.optional_timestamp("last_swept_at")?,
        last_change_at: r.optional_timestamp("last_change_at")?,
        lease_owner: text("lease_owner")?,
        lease_expires_at: r.optional_timestamp("lease_expires_at")?,
        delta_link: text("delta_link")?,
        subscription_id: text("subscription_id")?,
        subscription_expires_at: r.optional_timestamp("subscription_expires_at")?,
        subscription_failure: failure("subscription_failure")?,
        sweep_failure: failure("sweep_failure")?,
        deletion_guard: guard,
        deletions_approved: matches!(
            item.get("deletions_approved"),
            Some(AttributeValue::Bool(true))
        ),
        quiet_listing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RemoteKind;
    use crate::store::item::GSI1_SK;
    use chrono::TimeZone;

    #[test]
    fn schedules_round_trip_and_sort_by_due_time() {
        let now = Utc.timestamp_opt(1_800_000_000, 123_456_000).unwrap();
        let mut schedule = BindingSchedule::new("b1", RemoteKind::Todo, now);
        schedule.delta_link = Some("https://graph/delta?$deltatoken=x".into());
        schedule.subscription_id = Some("s1".into());
        schedule.subscription_expires_at = Some(now);
        schedule.subscription_failure = Some(Failure {
            reason: "handshake failed".into(),
            attempts: 3,
            next_retry: now,
        });
        schedule.deletion_guard = Some(GuardReport {
            at: now,
            vanished: 9,
            mapped: 10,
        });
        schedule.quiet_listing = Some(QuietListing {
            digest: "ab".repeat(32),
            mapped: 7,
            compared_at: now,
        });
        let item = schedule_to_item(&schedule, 4);
        let mut back = schedule_from_item(&item).unwrap();
        assert_eq!(back.revision, 4);
        back.revision = 0;
        assert_eq!(back, schedule);
        let sk = |i: &Item| match i.get(GSI1_SK) {
            Some(AttributeValue::S(v)) => v.clone(),
            _ => String::new(),
        };
        assert!(sk(&item) < due_bound(&now));
        schedule.due_at = now + chrono::Duration::microseconds(1);
        assert!(sk(&schedule_to_item(&schedule, 1)) > due_bound(&now));
    }
}
