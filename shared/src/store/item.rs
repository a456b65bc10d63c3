//! The DynamoDB item layouts (docs/aws-resources.md) and their conversion to and from the domain
//! types. The in-memory store keeps the very same items, so both adapters accept and reject
//! exactly the same data.
//!
//! Reasons in `InvalidItem` name the attribute and what is wrong with it; they quote a value only
//! for enumerations (never a subscription's `clientState`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::model::{
    Binding, ChecklistItem, CircuitBreaker, ConflictPolicy, Direction, LocalTask, Origin, Priority,
    RemoteKind, SubscriptionRecord, TaskDate, TaskStatus,
};
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
    if let Some(p) = task.percent_complete {
        item.insert("percent_complete".into(), AttributeValue::N(p.to_string()));
    }
    item.insert("priority".into(), s(task.priority.as_str()));
    if let Some(due) = &task.due {
        item.insert("due".into(), s(due.to_text()));
    }
    if let Some(start) = &task.start {
        item.insert("start".into(), s(start.to_text()));
    }
    if let Some(at) = &task.completed_at {
        item.insert("completed_at".into(), timestamp(at));
    }
    item.insert("assignees".into(), string_list(&task.assignees));
    item.insert("categories".into(), string_list(&task.categories));
    item.insert(
        "checklist".into(),
        AttributeValue::L(
            task.checklist
                .iter()
                .map(|c| {
                    AttributeValue::M(HashMap::from([
                        ("id".to_owned(), s(&c.id)),
                        ("title".to_owned(), s(&c.title)),
                        ("checked".to_owned(), AttributeValue::Bool(c.checked)),
                    ]))
                })
                .collect(),
        ),
    );
    if let Some(bucket) = &task.bucket {
        item.insert("bucket".into(), s(bucket));
    }
    item.insert(
        "protected_fields".into(),
        string_list(&task.protected_fields),
    );
    item.insert(
        "version".into(),
        AttributeValue::N(task.version.to_string()),
    );
    item.insert("updated_at".into(), timestamp(&task.updated_at));
    item.insert("origin".into(), s(origin_text(&task.origin)));
    item.insert("deleted".into(), AttributeValue::Bool(task.deleted));
    item
}

fn string_list(values: &[String]) -> AttributeValue {
    AttributeValue::L(values.iter().map(s).collect())
}

/// Field names a person may protect (`protected_fields`), as the README documents them.
pub const PROTECTABLE_FIELDS: &[&str] = &[
    "title",
    "notes",
    "status",
    "percent_complete",
    "priority",
    "due",
    "start",
    "assignees",
    "categories",
    "checklist",
    "bucket",
];

/// Reads a task item. Only the key, `title`, `status`, `version`, `updated_at` and `origin` are
/// required; every other attribute may be absent (other writers omit them) and then takes its
/// default. A present attribute of the wrong type or with a value outside the contract makes the
/// whole item invalid, with a reason that names it.
pub fn task_from_item(item: &Item) -> Result<LocalTask, StoreError> {
    let r = Reader::new(item, "task");
    let status = r.string("status")?;
    let origin = r.string("origin")?;
    let priority = match r.optional_string("priority")? {
        None => Priority::Medium,
        Some(text) => Priority::parse(text).ok_or_else(|| {
            r.invalid(format!(
                "priority {text:?} is not one of \"urgent\", \"important\", \"medium\", \"low\""
            ))
        })?,
    };
    let percent_complete = match r.optional_number("percent_complete")? {
        None => None,
        Some(p) if p <= 100 => u8::try_from(p).ok(),
        Some(p) => {
            return Err(r.invalid(format!(
                "attribute percent_complete is {p}, outside 0 to 100"
            )));
        }
    };
    let protected_fields = r.string_set_or_list("protected_fields")?;
    if let Some(unknown) = protected_fields
        .iter()
        .find(|f| !PROTECTABLE_FIELDS.contains(&f.as_str()))
    {
        return Err(r.invalid(format!(
            "protected_fields names {unknown:?}, which is not a task field"
        )));
    }
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
        percent_complete,
        priority,
        due: r.optional_task_date("due")?,
        start: r.optional_task_date("start")?,
        completed_at: match r.optional_string("completed_at")? {
            None => None,
            Some(_) => Some(r.timestamp("completed_at")?),
        },
        assignees: r.string_set_or_list("assignees")?,
        categories: r.string_set_or_list("categories")?,
        checklist: r.checklist("checklist")?,
        bucket: r
            .optional_string("bucket")?
            .filter(|b| !b.is_empty())
            .map(str::to_owned),
        protected_fields,
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
    item
}

/// The attribute holding a binding's circuit breaker; updated on its own (UpdateItem), so a
/// failure count never overwrites an operator's edit of the binding.
pub const BREAKER: &str = "breaker";

pub fn breaker_to_attribute(breaker: &CircuitBreaker) -> AttributeValue {
    let mut m = HashMap::from([
        (
            "failures".to_owned(),
            AttributeValue::N(breaker.failures.to_string()),
        ),
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
        failures: u32::try_from(r.number("failures")?).unwrap_or(u32::MAX),
        reason: r.string("reason")?.to_owned(),
        last_failure_at: r.timestamp("last_failure_at")?,
        open_until: match r.optional_string("open_until")? {
            None => None,
            Some(_) => Some(r.timestamp("open_until")?),
        },
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

    fn optional_number(&self, name: &str) -> Result<Option<u64>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(_) => self.number(name).map(Some),
        }
    }

    fn optional_task_date(&self, name: &str) -> Result<Option<TaskDate>, StoreError> {
        match self.optional_string(name)? {
            None | Some("") => Ok(None),
            Some(text) => TaskDate::parse(text).map(Some).ok_or_else(|| {
                self.invalid(format!(
                    "attribute {name} is neither a calendar date (YYYY-MM-DD) nor an RFC 3339 instant: {text:?}"
                ))
            }),
        }
    }

    /// A list of strings (L of S) or a string set (SS); absent is empty.
    fn string_set_or_list(&self, name: &str) -> Result<Vec<String>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(Vec::new()),
            Some(AttributeValue::Ss(values)) => Ok(values.clone()),
            Some(AttributeValue::L(values)) => values
                .iter()
                .map(|v| match v {
                    AttributeValue::S(text) => Ok(text.clone()),
                    _ => Err(self.type_error(name, "a list of strings (L of S)")),
                })
                .collect(),
            Some(_) => {
                Err(self.type_error(name, "a list of strings (L of S) or a string set (SS)"))
            }
        }
    }

    fn checklist(&self, name: &str) -> Result<Vec<ChecklistItem>, StoreError> {
        let values = match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => return Ok(Vec::new()),
            Some(AttributeValue::L(values)) => values,
            Some(_) => return Err(self.type_error(name, "a list (L) of maps")),
        };
        values
            .iter()
            .map(|v| {
                let AttributeValue::M(m) = v else {
                    return Err(self.type_error(name, "a list (L) of maps {id, title, checked}"));
                };
                let r = Reader::new(m, "task checklist item");
                Ok(ChecklistItem {
                    id: r.string("id")?.to_owned(),
                    title: r.string("title")?.to_owned(),
                    checked: r.optional_bool("checked")?.unwrap_or(false),
                })
            })
            .collect()
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

// ---- Mapping, sync issues, dead-letter reasons (issue 4) ----

pub const MAPPING_SK: &str = "mapping";
pub const ISSUE_TYPE: &str = "issue";
pub const DLQ_TYPE: &str = "dlq";

/// Key of the mapping item found by the local id.
pub fn mapping_local_key(list_id: &str, task_id: &str) -> Item {
    HashMap::from([
        (PK.to_owned(), s(format!("local#{list_id}#{task_id}"))),
        (SK.to_owned(), s(MAPPING_SK)),
    ])
}

/// Key of the mapping item found by the remote id.
pub fn mapping_remote_key(kind: RemoteKind, remote_id: &str) -> Item {
    HashMap::from([
        (
            PK.to_owned(),
            s(format!("remote#{}#{remote_id}", remote_kind_text(kind))),
        ),
        (SK.to_owned(), s(MAPPING_SK)),
    ])
}

/// The mapping's attributes without a key (both items of a pair hold the same).
pub fn mapping_attributes(m: &crate::sync::Mapping) -> Item {
    let mut item = Item::new();
    item.insert("binding_id".into(), s(&m.binding_id));
    item.insert("local_list_id".into(), s(&m.local_list_id));
    item.insert("local_id".into(), s(&m.local_id));
    item.insert("remote_kind".into(), s(remote_kind_text(m.remote_kind)));
    if let Some(id) = &m.remote_id {
        item.insert("remote_id".into(), s(id));
    }
    if let Some(etag) = &m.task_etag {
        item.insert("task_etag".into(), s(etag));
    }
    if let Some(etag) = &m.details_etag {
        item.insert("details_etag".into(), s(etag));
    }
    item.insert(
        "local_version".into(),
        AttributeValue::N(m.local_version.to_string()),
    );
    item.insert(
        "base".into(),
        s(serde_json::to_string(&m.base).unwrap_or_else(|_| "{}".to_owned())),
    );
    item.insert("revision".into(), AttributeValue::N(m.revision.to_string()));
    item.insert("state".into(), s(m.state.as_str()));
    item.insert("created_at".into(), timestamp(&m.created_at));
    item.insert("updated_at".into(), timestamp(&m.updated_at));
    if let Some(e) = &m.last_error {
        item.insert("last_error".into(), s(e));
    }
    if !m.last_conflicts.is_empty() {
        item.insert(
            "last_conflicts".into(),
            s(serde_json::to_string(&m.last_conflicts).unwrap_or_else(|_| "[]".to_owned())),
        );
    }
    item
}

/// The by-remote item of a pair: the mapping plus the scheduler's sweep index (gsi1
/// `mapping#{binding}`, the remote ETags, `schedule_item::mapping_index_attributes`), so a sweep
/// lists a binding's mapped ETags with one Query. A deleted pair leaves the index.
pub fn mapping_remote_item(m: &crate::sync::Mapping, attributes: &Item, remote_id: &str) -> Item {
    let mut item = attributes.clone();
    if m.state != crate::sync::MappingState::Deleted {
        item.extend(super::schedule_item::mapping_index_attributes(
            &m.binding_id,
            remote_id,
            m.task_etag.as_deref(),
            m.details_etag.as_deref(),
        ));
    }
    item.extend(mapping_remote_key(m.remote_kind, remote_id));
    item
}

pub fn mapping_from_item(item: &Item) -> Result<crate::sync::Mapping, StoreError> {
    let r = Reader::new(item, "mapping");
    let kind = r.string("remote_kind")?;
    let state = r.string("state")?;
    let base_text = r.string("base")?;
    Ok(crate::sync::Mapping {
        binding_id: r.string("binding_id")?.to_owned(),
        local_list_id: r.string("local_list_id")?.to_owned(),
        local_id: r.string("local_id")?.to_owned(),
        remote_kind: parse_remote_kind(kind)
            .ok_or_else(|| r.invalid(format!("remote_kind {kind:?} is unknown")))?,
        remote_id: r.optional_string("remote_id")?.map(str::to_owned),
        task_etag: r.optional_string("task_etag")?.map(str::to_owned),
        details_etag: r.optional_string("details_etag")?.map(str::to_owned),
        local_version: r.number("local_version")?,
        base: serde_json::from_str(base_text)
            .map_err(|e| r.invalid(format!("attribute base is not a field map: {e}")))?,
        revision: r.number("revision")?,
        state: crate::sync::MappingState::parse(state)
            .ok_or_else(|| r.invalid(format!("state {state:?} is unknown")))?,
        created_at: r.timestamp("created_at")?,
        updated_at: r.timestamp("updated_at")?,
        last_error: r.optional_string("last_error")?.map(str::to_owned),
        last_conflicts: match r.optional_string("last_conflicts")? {
            None => Vec::new(),
            Some(text) => serde_json::from_str(text).map_err(|e| {
                r.invalid(format!(
                    "attribute last_conflicts is not a conflict list: {e}"
                ))
            })?,
        },
    })
}

/// The records of an operator listing that can be read; a damaged one is logged and skipped, so
/// it cannot hide every other record from the operator (both adapters list this way).
pub(crate) fn readable_records<T>(
    items: Vec<Item>,
    read: impl Fn(&Item) -> Result<T, StoreError>,
) -> Vec<T> {
    items
        .iter()
        .filter_map(|item| match read(item) {
            Ok(record) => Some(record),
            Err(e) => {
                tracing::warn!(error = %e, "skipping an operator record that cannot be read");
                None
            }
        })
        .collect()
}

pub fn issue_key(list_id: &str, task_id: &str) -> Item {
    HashMap::from([
        (PK.to_owned(), s(format!("issue#{list_id}#{task_id}"))),
        (SK.to_owned(), s(ISSUE_TYPE)),
    ])
}

pub fn issue_to_item(issue: &crate::sync::SyncIssue) -> Item {
    let mut item = issue_key(&issue.list_id, &issue.task_id);
    item.insert(GSI1_PK.into(), s(ISSUE_TYPE));
    item.insert(
        GSI1_SK.into(),
        s(format!("{}#{}", issue.list_id, issue.task_id)),
    );
    item.insert("list_id".into(), s(&issue.list_id));
    item.insert("task_id".into(), s(&issue.task_id));
    item.insert("binding_id".into(), s(&issue.binding_id));
    item.insert("reason".into(), s(&issue.reason));
    item.insert("at".into(), timestamp(&issue.at));
    item
}

pub fn issue_from_item(item: &Item) -> Result<crate::sync::SyncIssue, StoreError> {
    let r = Reader::new(item, "sync issue");
    Ok(crate::sync::SyncIssue {
        list_id: r.string("list_id")?.to_owned(),
        task_id: r.string("task_id")?.to_owned(),
        binding_id: r.string("binding_id")?.to_owned(),
        reason: r.string("reason")?.to_owned(),
        at: r.timestamp("at")?,
    })
}

pub fn dead_letter_key(message_id: &str) -> Item {
    sync_key(DLQ_TYPE, message_id)
}

pub fn dead_letter_to_item(record: &crate::sync::DeadLetterReason) -> Item {
    let mut item = dead_letter_key(&record.message_id);
    item.insert(GSI1_PK.into(), s(DLQ_TYPE));
    item.insert(GSI1_SK.into(), s(&record.message_id));
    item.insert("message_id".into(), s(&record.message_id));
    item.insert("kind".into(), s(&record.kind));
    item.insert("reason".into(), s(&record.reason));
    item.insert(
        "receive_count".into(),
        AttributeValue::N(record.receive_count.to_string()),
    );
    item.insert("at".into(), timestamp(&record.at));
    item
}

pub fn dead_letter_from_item(item: &Item) -> Result<crate::sync::DeadLetterReason, StoreError> {
    let r = Reader::new(item, "dead-letter reason");
    Ok(crate::sync::DeadLetterReason {
        message_id: r.string("message_id")?.to_owned(),
        kind: r.string("kind")?.to_owned(),
        reason: r.string("reason")?.to_owned(),
        receive_count: u32::try_from(r.number("receive_count")?).unwrap_or(u32::MAX),
        at: r.timestamp("at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn task() -> LocalTask {
        LocalTask {
            notes: "with numbers".into(),
            status: TaskStatus::InProgress,
            percent_complete: Some(40),
            priority: Priority::Important,
            due: Some(TaskDate::Day(
                chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            )),
            start: Some(TaskDate::Instant(
                Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
            )),
            assignees: vec!["u1".into()],
            categories: vec!["category2".into()],
            checklist: vec![ChecklistItem {
                id: "c1".into(),
                title: "step".into(),
                checked: true,
            }],
            bucket: Some("bucket-1".into()),
            protected_fields: vec!["title".into()],
            version: 7,
            updated_at: Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap(),
            ..LocalTask::new(
                "l1",
                "t1",
                "Write the report",
                Origin::App("planner-agent".into()),
            )
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
