//! Sync-table items of the scheduler (docs/scheduler.md): the binding schedule, and the
//! attributes a mapping item carries so a sweep can read a binding's remote ETags with one gsi1
//! Query. Shared by the DynamoDB and in-memory adapters, like `item`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::item::{GSI1_PK, GSI1_SK, Item, PK, SK, remote_kind_text};
use crate::model::RemoteKind;
use crate::ports::{MappedEtags, StoreError};
use crate::scheduler::{BindingSchedule, Failure, GuardReport, IntervalClass, QuietListing};

pub const SCHEDULE_SK: &str = "schedule";
/// gsi1 partition of every schedule; gsi1sk is `{due time}#{binding id}`.
pub const DUE_PARTITION: &str = "due";
pub const REVISION: &str = "revision";

/// gsi1 partition of the mapping items of one binding (the remote-keyed item only).
pub fn mapping_partition(binding_id: &str) -> String {
    format!("mapping#{binding_id}")
}

/// Attribute names on a mapping item that the sweep reads (docs/scheduler.md).
pub const MAPPING_REMOTE_ID: &str = "remote_id";
pub const MAPPING_REMOTE_ETAG: &str = "remote_etag";
pub const MAPPING_REMOTE_DETAILS_ETAG: &str = "remote_details_etag";

/// The attributes the reconcile engine adds to the **remote-keyed** mapping item
/// (`pk=remote#{kind}#{remote_id}`, `sk=mapping`) so the sweep sees it: the gsi1 keys and the
/// ETags recorded as base. Merge them into the item on every mapping write.
pub fn mapping_index_attributes(
    binding_id: &str,
    remote_id: &str,
    etag: Option<&str>,
    details_etag: Option<&str>,
) -> Item {
    let mut item = HashMap::from([
        (GSI1_PK.to_owned(), s(mapping_partition(binding_id))),
        (GSI1_SK.to_owned(), s(remote_id)),
        (MAPPING_REMOTE_ID.to_owned(), s(remote_id)),
    ]);
    if let Some(etag) = etag {
        item.insert(MAPPING_REMOTE_ETAG.to_owned(), s(etag));
    }
    if let Some(details) = details_etag {
        item.insert(MAPPING_REMOTE_DETAILS_ETAG.to_owned(), s(details));
    }
    item
}

/// Reads the sweep's view of a mapping item found under `mapping#{binding}`.
pub fn mapped_etags_from_item(item: &Item) -> Result<(String, MappedEtags), StoreError> {
    let id = match item.get(MAPPING_REMOTE_ID).or_else(|| item.get(GSI1_SK)) {
        Some(AttributeValue::S(id)) if !id.is_empty() => id.clone(),
        _ => {
            return Err(StoreError::InvalidItem(
                "mapping item: attribute remote_id is missing".to_owned(),
            ));
        }
    };
    let text = |name: &str| match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    };
    Ok((
        id,
        MappedEtags {
            etag: text(MAPPING_REMOTE_ETAG),
            details_etag: text(MAPPING_REMOTE_DETAILS_ETAG),
        },
    ))
}

pub fn schedule_key(binding_id: &str) -> Item {
    HashMap::from([
        (PK.to_owned(), s(format!("binding#{binding_id}"))),
        (SK.to_owned(), s(SCHEDULE_SK)),
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

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn time(at: &DateTime<Utc>) -> AttributeValue {
    s(sortable_time(at))
}

/// The item for `schedule` at revision `revision`.
pub fn schedule_to_item(schedule: &BindingSchedule, revision: u64) -> Item {
    let mut item = schedule_key(&schedule.binding_id);
    item.insert(GSI1_PK.into(), s(DUE_PARTITION));
    item.insert(
        GSI1_SK.into(),
        s(format!(
            "{}#{}",
            sortable_time(&schedule.due_at),
            schedule.binding_id
        )),
    );
    item.insert("binding_id".into(), s(&schedule.binding_id));
    item.insert("remote".into(), s(remote_kind_text(schedule.remote)));
    item.insert(REVISION.into(), AttributeValue::N(revision.to_string()));
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
            item.insert(
                format!("{prefix}_attempts"),
                AttributeValue::N(f.attempts.to_string()),
            );
            item.insert(format!("{prefix}_next_retry"), time(&f.next_retry));
        }
    }
    if let Some(g) = &schedule.deletion_guard {
        item.insert("guard_at".into(), time(&g.at));
        item.insert(
            "guard_vanished".into(),
            AttributeValue::N(g.vanished.to_string()),
        );
        item.insert(
            "guard_mapped".into(),
            AttributeValue::N(g.mapped.to_string()),
        );
    }
    item.insert(
        "deletions_approved".into(),
        AttributeValue::Bool(schedule.deletions_approved),
    );
    if let Some(q) = &schedule.quiet_listing {
        item.insert("quiet_digest".into(), s(&q.digest));
        item.insert(
            "quiet_mapped".into(),
            AttributeValue::N(q.mapped.to_string()),
        );
        item.insert("quiet_compared_at".into(), time(&q.compared_at));
    }
    item
}

pub fn schedule_from_item(item: &Item) -> Result<BindingSchedule, StoreError> {
    let r = Reader(item);
    let remote = match r.string("remote")?.as_str() {
        "todo" => RemoteKind::Todo,
        "planner" => RemoteKind::Planner,
        other => return Err(r.invalid(format!("remote {other:?} is neither todo nor planner"))),
    };
    let interval_text = r.string("interval")?;
    let failure = |prefix: &str| -> Result<Option<Failure>, StoreError> {
        match r.opt_string(&format!("{prefix}_reason"))? {
            None => Ok(None),
            Some(reason) => Ok(Some(Failure {
                reason,
                attempts: u32::try_from(r.number(&format!("{prefix}_attempts"))?)
                    .unwrap_or(u32::MAX),
                next_retry: r.time(&format!("{prefix}_next_retry"))?,
            })),
        }
    };
    let guard = match r.opt_time("guard_at")? {
        None => None,
        Some(at) => Some(GuardReport {
            at,
            vanished: u32::try_from(r.number("guard_vanished")?).unwrap_or(u32::MAX),
            mapped: u32::try_from(r.number("guard_mapped")?).unwrap_or(u32::MAX),
        }),
    };
    let quiet_listing = match r.opt_string("quiet_digest")? {
        None => None,
        Some(digest) => Some(QuietListing {
            digest,
            mapped: u32::try_from(r.number("quiet_mapped")?).unwrap_or(u32::MAX),
            compared_at: r.time("quiet_compared_at")?,
        }),
    };
    Ok(BindingSchedule {
        binding_id: r.string("binding_id")?,
        remote,
        revision: r.number(REVISION)?,
        due_at: r.time("due_at")?,
        next_sweep_at: r.time("next_sweep_at")?,
        interval: IntervalClass::parse(&interval_text)
            .ok_or_else(|| r.invalid(format!("interval {interval_text:?} is unknown")))?,
        last_swept_at: r.opt_time("last_swept_at")?,
        last_change_at: r.opt_time("last_change_at")?,
        lease_owner: r.opt_string("lease_owner")?,
        lease_expires_at: r.opt_time("lease_expires_at")?,
        delta_link: r.opt_string("delta_link")?,
        subscription_id: r.opt_string("subscription_id")?,
        subscription_expires_at: r.opt_time("subscription_expires_at")?,
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

struct Reader<'a>(&'a Item);

impl Reader<'_> {
    fn invalid(&self, reason: String) -> StoreError {
        StoreError::InvalidItem(format!("schedule item: {reason}"))
    }

    fn opt_string(&self, name: &str) -> Result<Option<String>, StoreError> {
        match self.0.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v.clone())),
            Some(_) => Err(self.invalid(format!("attribute {name} is not a string (S)"))),
        }
    }

    fn string(&self, name: &str) -> Result<String, StoreError> {
        self.opt_string(name)?
            .ok_or_else(|| self.invalid(format!("attribute {name} is missing")))
    }

    fn number(&self, name: &str) -> Result<u64, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::N(v)) => v.parse().map_err(|_| {
                self.invalid(format!("attribute {name} is not a non-negative integer"))
            }),
            Some(_) => Err(self.invalid(format!("attribute {name} is not a number (N)"))),
            None => Err(self.invalid(format!("attribute {name} is missing"))),
        }
    }

    fn opt_time(&self, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.opt_string(name)? {
            None => Ok(None),
            Some(text) => DateTime::parse_from_rfc3339(&text)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| self.invalid(format!("attribute {name} is not an RFC 3339 time"))),
        }
    }

    fn time(&self, name: &str) -> Result<DateTime<Utc>, StoreError> {
        self.opt_time(name)?
            .ok_or_else(|| self.invalid(format!("attribute {name} is missing")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn mapping_index_attributes_read_back() {
        let item = mapping_index_attributes("b", "r1", Some("W/\"1\""), None);
        let (id, etags) = mapped_etags_from_item(&item).unwrap();
        assert_eq!(id, "r1");
        assert_eq!(etags.etag.as_deref(), Some("W/\"1\""));
        assert_eq!(etags.details_etag, None);
    }
}
