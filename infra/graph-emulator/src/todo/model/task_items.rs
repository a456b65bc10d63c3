//! A task's sub-items, linked resources and checklist items (docs/graph-behaviour.md §3.1). They
//! are stored inside the task, as Exchange does, so writing one is a task write; `TaskItem` is
//! what the handlers need to treat both kinds alike.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::fields::{is_ignorable, optional_string, string_field, unknown_property};
use super::{Task, TodoError, bad};
use crate::todo::timezone;

#[derive(Debug, Clone)]
pub struct LinkedResource {
    pub id: String,
    pub web_url: Option<String>,
    pub application_name: Option<String>,
    pub display_name: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ChecklistItem {
    pub id: String,
    pub display_name: String,
    pub is_checked: bool,
    pub checked: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
}

/// One kind of sub-item: where it lives in the task, how a body creates or changes one, and the
/// JSON Graph shows for it.
pub trait TaskItem: Sized + Send + Sync + 'static {
    /// The navigation property, e.g. `checklistItems`.
    const COLLECTION: &'static str;
    /// The entity name in "not found" errors, e.g. `checklistItem`.
    const ENTITY: &'static str;
    fn items(task: &Task) -> &Vec<Self>;
    fn items_mut(task: &mut Task) -> &mut Vec<Self>;
    fn id(&self) -> &str;
    fn create(body: &Map<String, Value>, now: DateTime<Utc>) -> Result<Self, TodoError>;
    fn apply(&mut self, body: &Map<String, Value>, now: DateTime<Utc>) -> Result<(), TodoError>;
    fn to_json(&self) -> Value;
}

impl TaskItem for LinkedResource {
    const COLLECTION: &'static str = "linkedResources";
    const ENTITY: &'static str = "linkedResource";
    fn items(task: &Task) -> &Vec<Self> {
        &task.linked_resources
    }
    fn items_mut(task: &mut Task) -> &mut Vec<Self> {
        &mut task.linked_resources
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn create(body: &Map<String, Value>, _now: DateTime<Utc>) -> Result<Self, TodoError> {
        new_linked_resource(body)
    }
    fn apply(&mut self, body: &Map<String, Value>, _now: DateTime<Utc>) -> Result<(), TodoError> {
        apply_linked_resource(self, body)
    }
    fn to_json(&self) -> Value {
        linked_resource_json(self)
    }
}

impl TaskItem for ChecklistItem {
    const COLLECTION: &'static str = "checklistItems";
    const ENTITY: &'static str = "checklistItem";
    fn items(task: &Task) -> &Vec<Self> {
        &task.checklist
    }
    fn items_mut(task: &mut Task) -> &mut Vec<Self> {
        &mut task.checklist
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn create(body: &Map<String, Value>, now: DateTime<Utc>) -> Result<Self, TodoError> {
        new_checklist_item(body, now)
    }
    fn apply(&mut self, body: &Map<String, Value>, now: DateTime<Utc>) -> Result<(), TodoError> {
        apply_checklist_item(self, body, now)
    }
    fn to_json(&self) -> Value {
        checklist_item_json(self)
    }
}

/// The sub-items given inline in a task create body (`linkedResources: [...]`).
pub(super) fn inline_items<T: TaskItem>(
    value: &Value,
    now: DateTime<Utc>,
) -> Result<Vec<T>, TodoError> {
    let items = value
        .as_array()
        .ok_or_else(|| bad(format!("{} must be an array.", T::COLLECTION)))?;
    items
        .iter()
        .map(|item| {
            item.as_object()
                .ok_or_else(|| bad(format!("each {} must be an object.", T::ENTITY)))
                .and_then(|o| T::create(o, now))
        })
        .collect()
}

pub fn new_linked_resource(body: &Map<String, Value>) -> Result<LinkedResource, TodoError> {
    let mut resource = LinkedResource {
        id: uuid::Uuid::new_v4().to_string(),
        web_url: None,
        application_name: None,
        display_name: None,
        external_id: None,
    };
    apply_linked_resource(&mut resource, body)?;
    Ok(resource)
}

pub fn apply_linked_resource(
    resource: &mut LinkedResource,
    body: &Map<String, Value>,
) -> Result<(), TodoError> {
    for (key, value) in body {
        match key.as_str() {
            "webUrl" => resource.web_url = optional_string(key, value)?,
            "applicationName" => resource.application_name = optional_string(key, value)?,
            "displayName" => resource.display_name = optional_string(key, value)?,
            "externalId" => resource.external_id = optional_string(key, value)?,
            "id" => {}
            k if is_ignorable(k) => {}
            other => return Err(unknown_property(other, "linkedResource")),
        }
    }
    Ok(())
}

pub fn new_checklist_item(
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<ChecklistItem, TodoError> {
    if !body.get("displayName").is_some_and(Value::is_string) {
        return Err(bad("displayName is required on a checklistItem."));
    }
    let mut item = ChecklistItem {
        id: uuid::Uuid::new_v4().to_string(),
        display_name: String::new(),
        is_checked: false,
        checked: None,
        created: now,
    };
    apply_checklist_item(&mut item, body, now)?;
    Ok(item)
}

pub fn apply_checklist_item(
    item: &mut ChecklistItem,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<(), TodoError> {
    for (key, value) in body {
        match key.as_str() {
            "displayName" => item.display_name = string_field(key, value)?,
            "isChecked" => {
                let checked = value
                    .as_bool()
                    .ok_or_else(|| bad("isChecked must be a boolean."))?;
                if checked != item.is_checked {
                    item.checked = checked.then_some(now);
                }
                item.is_checked = checked;
            }
            "id" | "createdDateTime" | "checkedDateTime" => {}
            k if is_ignorable(k) => {}
            other => return Err(unknown_property(other, "checklistItem")),
        }
    }
    Ok(())
}

pub fn linked_resource_json(r: &LinkedResource) -> Value {
    json!({
        "id": r.id,
        "webUrl": r.web_url,
        "applicationName": r.application_name,
        "displayName": r.display_name,
        "externalId": r.external_id,
    })
}

pub fn checklist_item_json(c: &ChecklistItem) -> Value {
    json!({
        "displayName": c.display_name,
        "createdDateTime": timezone::format_offset(c.created),
        "checkedDateTime": c.checked.map(timezone::format_offset),
        "isChecked": c.is_checked,
        "id": c.id,
    })
}
