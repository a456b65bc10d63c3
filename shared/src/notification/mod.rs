//! Parsing of Graph change-notification collections, the webhook's untrusted input.
//!
//! The body Graph POSTs is a `changeNotificationCollection` (docs/graph-behaviour.md §1.6): an
//! object with a required `value` array of items, each either a change notification (`changeType`)
//! or a lifecycle notification (`lifecycleEvent`, §1.8), never both.
//!
//! Two levels of strictness, on purpose:
//! - The collection's shape (JSON object with a `value` array) is what tells a Graph delivery
//!   from garbage; a body that fails it is refused whole ([`CollectionError`]), so the sender gets
//!   a 400 and nothing is enqueued.
//! - Items are judged one by one. One POST can mix items of several subscriptions (§1.6), so one
//!   malformed item must not cost the others their delivery: it becomes an [`ItemError`] next to
//!   the good items.
//!
//! Unknown fields are ignored everywhere (Graph adds fields over time, e.g. `encryptedContent`,
//! `validationTokens`); required fields (`subscriptionId`, `tenantId`,
//! `subscriptionExpirationDateTime`, and `resource` on change notifications) must be present
//! and well-typed. Unknown `changeType` or `lifecycleEvent` values are kept as `Unknown` so the
//! caller decides. The parser works on a `serde_json::Value` and never indexes, so it cannot
//! panic on any input (see the property tests in `shared/tests/notification_*.rs`).

mod client_state;
mod todo_resource;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

pub use client_state::ClientState;
pub(crate) use client_state::{HiddenInDebug, debug_hiding_client_state};
pub use todo_resource::{MAX_ID_LEN, TodoTaskResource, parse_todo_task_resource, valid_id};

/// What changed, per `changeType` (docs/graph-behaviour.md §1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Created,
    Updated,
    Deleted,
    /// `unknownFutureValue` or a value added after this build. Notifications are hints, so the
    /// item is still useful: the worker reads the task's current state either way.
    Unknown,
}

impl ChangeType {
    fn parse(value: &str) -> Self {
        match value {
            "created" => ChangeType::Created,
            "updated" => ChangeType::Updated,
            "deleted" => ChangeType::Deleted,
            _ => ChangeType::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Created => "created",
            ChangeType::Updated => "updated",
            ChangeType::Deleted => "deleted",
            ChangeType::Unknown => "unknown",
        }
    }
}

/// What a lifecycle notification announces (docs/graph-behaviour.md §1.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleEvent {
    /// Notifications were lost (e.g. throttling): resync.
    Missed,
    /// Graph removed the subscription: create a new one, then resync.
    SubscriptionRemoved,
    /// Graph's token for the subscription (or the subscription) is about to expire.
    ReauthorizationRequired,
    /// A value added after this build.
    Unknown,
}

impl LifecycleEvent {
    fn parse(value: &str) -> Self {
        match value {
            "missed" => LifecycleEvent::Missed,
            "subscriptionRemoved" => LifecycleEvent::SubscriptionRemoved,
            "reauthorizationRequired" => LifecycleEvent::ReauthorizationRequired,
            _ => LifecycleEvent::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleEvent::Missed => "missed",
            LifecycleEvent::SubscriptionRemoved => "subscriptionRemoved",
            LifecycleEvent::ReauthorizationRequired => "reauthorizationRequired",
            LifecycleEvent::Unknown => "unknown",
        }
    }
}

/// The fields every notification item carries, change or lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub subscription_id: String,
    /// `None` when the item carries no `clientState`; ours always set one, so such an item
    /// cannot be authentic.
    pub client_state: Option<ClientState>,
    pub tenant_id: String,
    pub subscription_expiration: DateTime<Utc>,
}

/// A change notification: "something happened to this resource".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeNotification {
    pub envelope: Envelope,
    pub change_type: ChangeType,
    pub resource: String,
    /// `resourceData.id`, when present and usable.
    pub resource_data_id: Option<String>,
}

impl ChangeNotification {
    /// The To Do task the notification is about: `resourceData.id` when Graph sent it, otherwise
    /// the last segment of a todoTask `resource` path. `None` for any other resource.
    pub fn todo_task_id(&self) -> Option<String> {
        self.resource_data_id
            .clone()
            .or_else(|| parse_todo_task_resource(&self.resource).map(|r| r.task_id))
    }
}

/// A lifecycle notification: "something happened to the subscription".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleNotification {
    pub envelope: Envelope,
    pub event: LifecycleEvent,
}

/// One well-formed item of a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    Change(ChangeNotification),
    Lifecycle(LifecycleNotification),
}

impl Notification {
    pub fn envelope(&self) -> &Envelope {
        match self {
            Notification::Change(c) => &c.envelope,
            Notification::Lifecycle(l) => &l.envelope,
        }
    }
}

/// Why the body as a whole is not a notification collection. The `Display` text is short and
/// safe to return to the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectionError {
    #[error("body is not valid JSON")]
    NotJson,
    #[error("body is not a JSON object")]
    NotAnObject,
    #[error("body has no \"value\" array")]
    MissingValue,
    #[error("\"value\" is not an array")]
    ValueNotArray,
}

/// Why one item was not understood. Field names are Graph's, for logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    #[error("item is not a JSON object")]
    NotAnObject,
    #[error("required field {0} is missing")]
    MissingField(&'static str),
    #[error("field {0} has the wrong type or an invalid value")]
    InvalidField(&'static str),
    #[error("item has both changeType and lifecycleEvent")]
    BothKinds,
    #[error("item has neither changeType nor lifecycleEvent")]
    NeitherKind,
}

/// A parsed collection: every item in order, each either understood or not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotificationCollection {
    pub items: Vec<Result<Notification, ItemError>>,
}

impl NotificationCollection {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Parses a `changeNotificationCollection` body.
pub fn parse_collection(body: &[u8]) -> Result<NotificationCollection, CollectionError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| CollectionError::NotJson)?;
    let Value::Object(mut root) = value else {
        return Err(CollectionError::NotAnObject);
    };
    let items = match root.remove("value") {
        None | Some(Value::Null) => return Err(CollectionError::MissingValue),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(CollectionError::ValueNotArray),
    };
    Ok(NotificationCollection {
        items: items.iter().map(parse_item).collect(),
    })
}

/// Parses one item of the `value` array.
pub fn parse_item(item: &Value) -> Result<Notification, ItemError> {
    let Value::Object(fields) = item else {
        return Err(ItemError::NotAnObject);
    };
    let change_type = optional_str(fields, "changeType")?;
    let lifecycle_event = optional_str(fields, "lifecycleEvent")?;
    let envelope = parse_envelope(fields)?;
    match (change_type, lifecycle_event) {
        (Some(_), Some(_)) => Err(ItemError::BothKinds),
        (None, None) => Err(ItemError::NeitherKind),
        (None, Some(event)) => Ok(Notification::Lifecycle(LifecycleNotification {
            envelope,
            event: LifecycleEvent::parse(event),
        })),
        (Some(change_type), None) => {
            let resource = required_str(fields, "resource")?.to_owned();
            Ok(Notification::Change(ChangeNotification {
                envelope,
                change_type: ChangeType::parse(change_type),
                resource,
                resource_data_id: resource_data_id(fields)?,
            }))
        }
    }
}

fn parse_envelope(fields: &Map<String, Value>) -> Result<Envelope, ItemError> {
    let subscription_id = required_str(fields, "subscriptionId")?;
    if valid_id(subscription_id).is_none() {
        return Err(ItemError::InvalidField("subscriptionId"));
    }
    let tenant_id = required_str(fields, "tenantId")?;
    let expiration = required_str(fields, "subscriptionExpirationDateTime")?;
    let subscription_expiration = DateTime::parse_from_rfc3339(expiration)
        .map_err(|_| ItemError::InvalidField("subscriptionExpirationDateTime"))?
        .with_timezone(&Utc);
    Ok(Envelope {
        subscription_id: subscription_id.to_owned(),
        client_state: optional_str(fields, "clientState")?.map(ClientState::new),
        tenant_id: tenant_id.to_owned(),
        subscription_expiration,
    })
}

/// `resourceData.id`: optional, but when present it must be a usable id (it ends up in a Graph
/// URL path in the worker).
fn resource_data_id(fields: &Map<String, Value>) -> Result<Option<String>, ItemError> {
    let data = match fields.get("resourceData") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(data)) => data,
        Some(_) => return Err(ItemError::InvalidField("resourceData")),
    };
    match data.get("id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) => valid_id(id)
            .map(|id| Some(id.to_owned()))
            .ok_or(ItemError::InvalidField("resourceData.id")),
        Some(_) => Err(ItemError::InvalidField("resourceData.id")),
    }
}

/// A required string field; an empty string counts as missing.
fn required_str<'a>(
    fields: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, ItemError> {
    optional_str(fields, name)?
        .filter(|s| !s.is_empty())
        .ok_or(ItemError::MissingField(name))
}

/// An optional string field; `null` counts as absent, any other non-string is an error.
fn optional_str<'a>(
    fields: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, ItemError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ItemError::InvalidField(name)),
    }
}
