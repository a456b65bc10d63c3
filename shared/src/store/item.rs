//! The DynamoDB item layouts (docs/aws-resources.md) and their conversion to and from the domain
//! types. The in-memory store keeps the very same items, so both adapters accept and reject
//! exactly the same data.
//!
//! Reasons in `InvalidItem` name the attribute and what is wrong with it; they quote a value only
//! for enumerations (never a subscription's `clientState`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::model::{Binding, LocalTask, Origin, RemoteKind, SubscriptionRecord, TaskStatus};
use crate::ports::StoreError;

pub type Item = HashMap<String, AttributeValue>;

// Tasks table attributes (the public item schema).
pub const TASK_LIST_ID: &str = "list_id";
pub const TASK_ID: &str = "id";

// Sync table key attributes.
pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";

pub const BINDING_TYPE: &str = "binding";
pub const SUBSCRIPTION_TYPE: &str = "subscription";

/// Primary key of a binding item.
pub fn binding_key(binding_id: &str) -> Item {
    sync_key(BINDING_TYPE, binding_id)
}

/// Primary key of a subscription item.
pub fn subscription_key(subscription_id: &str) -> Item {
    sync_key(SUBSCRIPTION_TYPE, subscription_id)
}

fn sync_key(item_type: &str, id: &str) -> Item {
    HashMap::from([
        (PK.to_owned(), s(format!("{item_type}#{id}"))),
        (SK.to_owned(), s(item_type)),
    ])
}

/// Primary key of a task item.
pub fn task_key(list_id: &str, task_id: &str) -> Item {
    HashMap::from([
        (TASK_LIST_ID.to_owned(), s(list_id)),
        (TASK_ID.to_owned(), s(task_id)),
    ])
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn timestamp(at: &DateTime<Utc>) -> AttributeValue {
    // Full precision, so a read gives back exactly what was written.
    s(at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

pub fn origin_text(origin: &Origin) -> String {
    match origin {
        Origin::Sync => "sync".to_owned(),
        Origin::App(name) => format!("app:{name}"),
    }
}

fn parse_origin(text: &str) -> Option<Origin> {
    if text == "sync" {
        Some(Origin::Sync)
    } else {
        text.strip_prefix("app:")
            .map(|name| Origin::App(name.to_owned()))
    }
}

pub fn remote_kind_text(kind: RemoteKind) -> &'static str {
    match kind {
        RemoteKind::Todo => "todo",
        RemoteKind::Planner => "planner",
    }
}

fn parse_remote_kind(text: &str) -> Option<RemoteKind> {
    match text {
        "todo" => Some(RemoteKind::Todo),
        "planner" => Some(RemoteKind::Planner),
        _ => None,
    }
}

pub fn task_to_item(task: &LocalTask) -> Item {
    let mut item = task_key(&task.list_id, &task.id);
    item.insert("title".into(), s(&task.title));
    item.insert("notes".into(), s(&task.notes));
    item.insert("status".into(), s(task.status.as_str()));
    item.insert(
        "version".into(),
        AttributeValue::N(task.version.to_string()),
    );
    item.insert("updated_at".into(), timestamp(&task.updated_at));
    item.insert("origin".into(), s(origin_text(&task.origin)));
    item.insert("deleted".into(), AttributeValue::Bool(task.deleted));
    item
}

/// Reads a task item. `notes` and `deleted` may be absent (other writers omit them); every other
/// attribute is required.
pub fn task_from_item(item: &Item) -> Result<LocalTask, StoreError> {
    let r = Reader::new(item, "task");
    let status = r.string("status")?;
    let origin = r.string("origin")?;
    Ok(LocalTask {
        list_id: r.string(TASK_LIST_ID)?.to_owned(),
        id: r.string(TASK_ID)?.to_owned(),
        title: r.string("title")?.to_owned(),
        notes: r.optional_string("notes")?.unwrap_or_default().to_owned(),
        status: TaskStatus::parse(status).ok_or_else(|| {
            r.invalid(format!(
                "status {status:?} is not one of \"not_started\", \"in_progress\", \"completed\""
            ))
        })?,
        version: r.number("version")?,
        updated_at: r.timestamp("updated_at")?,
        origin: parse_origin(origin).ok_or_else(|| {
            r.invalid(format!(
                "origin {origin:?} is neither \"sync\" nor \"app:<name>\""
            ))
        })?,
        deleted: r.optional_bool("deleted")?.unwrap_or(false),
    })
}

pub fn binding_to_item(binding: &Binding) -> Item {
    let mut item = binding_key(&binding.id);
    item.insert(GSI1_PK.into(), s(BINDING_TYPE));
    item.insert(GSI1_SK.into(), s(&binding.id));
    item.insert("id".into(), s(&binding.id));
    item.insert("local_list_id".into(), s(&binding.local_list_id));
    item.insert("remote".into(), s(remote_kind_text(binding.remote)));
    item.insert("user_id".into(), s(&binding.user_id));
    item.insert(
        "remote_container_id".into(),
        s(&binding.remote_container_id),
    );
    item
}

pub fn binding_from_item(item: &Item) -> Result<Binding, StoreError> {
    let r = Reader::new(item, "binding");
    let remote = r.string("remote")?;
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
    })
}

pub fn subscription_to_item(record: &SubscriptionRecord) -> Item {
    let mut item = subscription_key(&record.id);
    item.insert(GSI1_PK.into(), s(SUBSCRIPTION_TYPE));
    item.insert(GSI1_SK.into(), s(&record.id));
    item.insert("id".into(), s(&record.id));
    item.insert("binding_id".into(), s(&record.binding_id));
    item.insert("client_state".into(), s(&record.client_state));
    item.insert("tenant_id".into(), s(&record.tenant_id));
    item.insert("expires_at".into(), timestamp(&record.expires_at));
    item
}

pub fn subscription_from_item(item: &Item) -> Result<SubscriptionRecord, StoreError> {
    let r = Reader::new(item, "subscription");
    Ok(SubscriptionRecord {
        id: r.string("id")?.to_owned(),
        binding_id: r.string("binding_id")?.to_owned(),
        client_state: r.string("client_state")?.to_owned(),
        tenant_id: r.string("tenant_id")?.to_owned(),
        expires_at: r.timestamp("expires_at")?,
    })
}

/// Typed access to an item's attributes with reasons that name the item kind and attribute.
struct Reader<'a> {
    item: &'a Item,
    kind: &'static str,
}

impl<'a> Reader<'a> {
    fn new(item: &'a Item, kind: &'static str) -> Self {
        Self { item, kind }
    }

    fn invalid(&self, reason: String) -> StoreError {
        StoreError::InvalidItem(format!("{} item: {reason}", self.kind))
    }

    fn type_error(&self, name: &str, expected: &str) -> StoreError {
        self.invalid(format!("attribute {name} is not {expected}"))
    }

    fn get(&self, name: &str) -> Result<&'a AttributeValue, StoreError> {
        self.item
            .get(name)
            .ok_or_else(|| self.invalid(format!("attribute {name} is missing")))
    }

    fn string(&self, name: &str) -> Result<&'a str, StoreError> {
        match self.get(name)? {
            AttributeValue::S(v) => Ok(v),
            _ => Err(self.type_error(name, "a string (S)")),
        }
    }

    fn optional_string(&self, name: &str) -> Result<Option<&'a str>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v)),
            Some(_) => Err(self.type_error(name, "a string (S)")),
        }
    }

    fn optional_bool(&self, name: &str) -> Result<Option<bool>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::Bool(v)) => Ok(Some(*v)),
            Some(_) => Err(self.type_error(name, "a boolean (BOOL)")),
        }
    }

    fn number(&self, name: &str) -> Result<u64, StoreError> {
        match self.get(name)? {
            AttributeValue::N(v) => v.parse().map_err(|_| {
                self.invalid(format!(
                    "attribute {name} is not a non-negative integer: {v:?}"
                ))
            }),
            _ => Err(self.type_error(name, "a number (N)")),
        }
    }

    fn timestamp(&self, name: &str) -> Result<DateTime<Utc>, StoreError> {
        let text = self.string(name)?;
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                self.invalid(format!(
                    "attribute {name} is not an RFC 3339 timestamp ({e}): {text:?}"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn task() -> LocalTask {
        LocalTask {
            list_id: "l1".into(),
            id: "t1".into(),
            title: "Write the report".into(),
            notes: "with numbers".into(),
            status: TaskStatus::InProgress,
            version: 7,
            updated_at: Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap(),
            origin: Origin::App("planner-agent".into()),
            deleted: false,
        }
    }

    #[test]
    fn task_items_round_trip_with_full_timestamp_precision() {
        let item = task_to_item(&task());
        assert_eq!(item.get("version"), Some(&AttributeValue::N("7".into())));
        assert_eq!(
            item.get("updated_at"),
            Some(&AttributeValue::S("2023-11-14T22:13:20.123456789Z".into()))
        );
        assert_eq!(task_from_item(&item).unwrap(), task());
    }

    #[test]
    fn other_writers_may_omit_notes_and_deleted() {
        let mut item = task_to_item(&task());
        item.remove("notes");
        item.remove("deleted");
        let read = task_from_item(&item).unwrap();
        assert_eq!(read.notes, "");
        assert!(!read.deleted);
    }

    #[test]
    fn invalid_task_items_name_the_attribute() {
        let cases: [(&str, Option<AttributeValue>, &str); 6] = [
            ("title", None, "title is missing"),
            (
                "status",
                Some(AttributeValue::S("done".into())),
                "status \"done\"",
            ),
            (
                "version",
                Some(AttributeValue::S("7".into())),
                "version is not a number",
            ),
            (
                "version",
                Some(AttributeValue::N("-1".into())),
                "version is not a non-negative",
            ),
            (
                "updated_at",
                Some(AttributeValue::S("yesterday".into())),
                "updated_at is not an RFC 3339",
            ),
            (
                "origin",
                Some(AttributeValue::S("someone".into())),
                "origin \"someone\"",
            ),
        ];
        for (name, value, expected) in cases {
            let mut item = task_to_item(&task());
            match value {
                Some(v) => item.insert(name.into(), v),
                None => item.remove(name),
            };
            match task_from_item(&item) {
                Err(StoreError::InvalidItem(reason)) => {
                    assert!(
                        reason.contains(expected),
                        "{reason} should contain {expected}"
                    )
                }
                other => panic!("{name}: expected InvalidItem, got {other:?}"),
            }
        }
    }

    #[test]
    fn invalid_subscription_reasons_never_quote_the_client_state() {
        let record = SubscriptionRecord {
            id: "s".into(),
            binding_id: "b".into(),
            client_state: "super-secret".into(),
            tenant_id: "t".into(),
            expires_at: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
        };
        let mut item = subscription_to_item(&record);
        assert_eq!(subscription_from_item(&item).unwrap(), record);
        item.insert("expires_at".into(), AttributeValue::N("1".into()));
        let err = subscription_from_item(&item).unwrap_err().to_string();
        assert!(!err.contains("super-secret"), "{err}");
        assert!(err.contains("expires_at"), "{err}");
    }
}
