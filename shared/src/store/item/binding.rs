//! The binding item of the sync table, with its circuit breaker, and the text of a remote kind
//! that every item naming a remote side uses.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::attrs::{Reader, n, s, timestamp};
use super::{Item, listed_under, sync_key};
use crate::model::{Binding, CircuitBreaker, ConflictPolicy, Direction, RemoteKind};
use crate::ports::StoreError;

pub const BINDING_TYPE: &str = "binding";

/// The attribute holding a binding's circuit breaker; updated on its own (UpdateItem), so a
/// failure count never overwrites an operator's edit of the binding.
pub const BREAKER: &str = "breaker";

/// Set (true) by `tasksync bindings add` until the first sync completed; absent means false.
pub const FIRST_SYNC_PENDING: &str = "first_sync_pending";
pub const FIRST_SYNC_COMPLETED_AT: &str = "first_sync_completed_at";
/// Set while an operator paused the binding.
pub const PAUSED_AT: &str = "paused_at";
/// The last hint acknowledged while paused.
pub const HINT_WHILE_PAUSED_AT: &str = "hint_while_paused_at";

/// Primary key of a binding item.
pub fn binding_key(binding_id: &str) -> Item {
    sync_key(BINDING_TYPE, binding_id)
}

pub fn remote_kind_text(kind: RemoteKind) -> &'static str {
    match kind {
        RemoteKind::Todo => "todo",
        RemoteKind::Planner => "planner",
    }
}

pub(super) fn parse_remote_kind(text: &str) -> Option<RemoteKind> {
    match text {
        "todo" => Some(RemoteKind::Todo),
        "planner" => Some(RemoteKind::Planner),
        _ => None,
    }
}

pub fn binding_to_item(binding: &Binding) -> Item {
    let mut item = binding_key(&binding.id);
    item.extend(listed_under(BINDING_TYPE, &binding.id));
    item.insert("id".into(), s(&binding.id));
    item.insert("local_list_id".into(), s(&binding.local_list_id));
    item.insert("remote".into(), s(remote_kind_text(binding.remote)));
    item.insert("user_id".into(), s(&binding.user_id));
    item.insert(
        "remote_container_id".into(),
        s(&binding.remote_container_id),
    );
    item.insert("direction".into(), s(binding.direction.as_str()));
    item.insert(
        "conflict_policy".into(),
        s(binding.conflict_policy.as_str()),
    );
    item.insert(
        "import_completed".into(),
        AttributeValue::Bool(binding.import_completed),
    );
    item.insert("time_zone".into(), s(&binding.time_zone));
    if let Some(breaker) = &binding.breaker {
        item.insert(BREAKER.into(), breaker_to_attribute(breaker));
    }
    if binding.first_sync_pending {
        item.insert(FIRST_SYNC_PENDING.into(), AttributeValue::Bool(true));
    }
    for (name, at) in [
        (FIRST_SYNC_COMPLETED_AT, &binding.first_sync_completed_at),
        (PAUSED_AT, &binding.paused_at),
        (HINT_WHILE_PAUSED_AT, &binding.hint_while_paused_at),
    ] {
        if let Some(at) = at {
            item.insert(name.into(), timestamp(at));
        }
    }
    item
}

pub fn breaker_to_attribute(breaker: &CircuitBreaker) -> AttributeValue {
    let mut m = HashMap::from([
        ("failures".to_owned(), n(breaker.failures)),
        ("reason".to_owned(), s(&breaker.reason)),
        (
            "last_failure_at".to_owned(),
            timestamp(&breaker.last_failure_at),
        ),
    ]);
    if let Some(until) = &breaker.open_until {
        m.insert("open_until".to_owned(), timestamp(until));
    }
    AttributeValue::M(m)
}

fn breaker_from_attribute(value: &AttributeValue) -> Result<CircuitBreaker, StoreError> {
    let AttributeValue::M(m) = value else {
        return Err(StoreError::InvalidItem(
            "binding item: attribute breaker is not a map (M)".to_owned(),
        ));
    };
    let r = Reader::new(m, "binding breaker");
    Ok(CircuitBreaker {
        failures: r.count("failures")?,
        reason: r.string("reason")?.to_owned(),
        last_failure_at: r.timestamp("last_failure_at")?,
        open_until: r.optional_timestamp("open_until")?,
    })
}

/// Reads a binding. The policy attributes were added after the first slice: absent ones take the
/// defaults of [`Binding::todo`].
pub fn binding_from_item(item: &Item) -> Result<Binding, StoreError> {
    let r = Reader::new(item, "binding");
    let remote = r.string("remote")?;
    let direction = match r.optional_string("direction")? {
        None => Direction::Both,
        Some(text) => Direction::parse(text).ok_or_else(|| {
            r.invalid(format!(
                "direction {text:?} is not one of \"both\", \"to_remote\", \"to_local\""
            ))
        })?,
    };
    let conflict_policy = match r.optional_string("conflict_policy")? {
        None => ConflictPolicy::RemoteWins,
        Some(text) => ConflictPolicy::parse(text).ok_or_else(|| {
            r.invalid(format!(
                "conflict_policy {text:?} is not one of \"remote_wins\", \"local_wins\", \"newer\""
            ))
        })?,
    };
    Ok(Binding {
        id: r.string("id")?.to_owned(),
        local_list_id: r.string("local_list_id")?.to_owned(),
        remote: parse_remote_kind(remote).ok_or_else(|| {
            r.invalid(format!(
                "remote {remote:?} is neither \"todo\" nor \"planner\""
            ))
        })?,
        user_id: r.string("user_id")?.to_owned(),
        remote_container_id: r.string("remote_container_id")?.to_owned(),
        direction,
        conflict_policy,
        import_completed: r.optional_bool("import_completed")?.unwrap_or(false),
        time_zone: r.optional_string("time_zone")?.unwrap_or("UTC").to_owned(),
        breaker: item.get(BREAKER).map(breaker_from_attribute).transpose()?,
        first_sync_pending: r.optional_bool(FIRST_SYNC_PENDING)?.unwrap_or(false),
        first_sync_completed_at: r.optional_timestamp(FIRST_SYNC_COMPLETED_AT)?,
        paused_at: r.optional_timestamp(PAUSED_AT)?,
        hint_while_paused_at: r.optional_timestamp(HINT_WHILE_PAUSED_AT)?,
    })
}
