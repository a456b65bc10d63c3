//! Task details (docs/graph-behaviour.md §2.4): description, preview type, and the checklist and
//! references open types, under their own ETag. The counters a task shows derive from them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::fields::{as_string, reject_unknown};
use super::open_type::{self, OpenType, patch_open_type};
use super::{
    PlannerError, PlannerState, Precondition, Task, WriteContext, bad, graph_time, not_found,
};
use crate::planner::etag::{EtagKind, etag};
use crate::planner::order_hint;

const PREVIEW_TYPES: [&str; 5] = [
    "automatic",
    "noPreview",
    "checklist",
    "description",
    "reference",
];

#[derive(Debug, Clone)]
struct ChecklistItem {
    title: String,
    is_checked: bool,
    order_hint: String,
    last_modified_by: Value,
    last_modified: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Reference {
    alias: Option<String>,
    kind: Option<String>,
    preview_priority: String,
    last_modified_by: Value,
    last_modified: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Details {
    description: String,
    preview_type: String,
    checklist: BTreeMap<String, ChecklistItem>,
    references: BTreeMap<String, Reference>,
    pub version: u64,
}

/// The task fields that depend on its details (§2.1); when they change, the task changes too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Derived {
    pub(super) has_description: bool,
    pub(super) preview_type: String,
    pub(super) checklist_items: usize,
    pub(super) active_checklist_items: usize,
    pub(super) references: usize,
}

impl Details {
    /// The details every new task starts with.
    pub(super) fn new(version: u64) -> Details {
        Details {
            description: String::new(),
            preview_type: "automatic".into(),
            checklist: BTreeMap::new(),
            references: BTreeMap::new(),
            version,
        }
    }

    pub(super) fn derived(&self) -> Derived {
        Derived {
            has_description: !self.description.is_empty(),
            preview_type: self.preview_type.clone(),
            checklist_items: self.checklist.len(),
            active_checklist_items: self.checklist.values().filter(|c| !c.is_checked).count(),
            references: self.references.len(),
        }
    }

    pub fn to_json(&self, task_id: &str) -> Value {
        let checklist = open_type::to_json(&self.checklist, |c| {
            json!({
                "@odata.type": "#microsoft.graph.plannerChecklistItem",
                "isChecked": c.is_checked,
                "title": c.title,
                "orderHint": c.order_hint,
                "lastModifiedDateTime": graph_time(&c.last_modified),
                "lastModifiedBy": c.last_modified_by,
            })
        });
        let references = open_type::to_json(&self.references, |r| {
            json!({
                "@odata.type": "#microsoft.graph.plannerExternalReference",
                "alias": r.alias,
                "type": r.kind,
                "previewPriority": r.preview_priority,
                "lastModifiedDateTime": graph_time(&r.last_modified),
                "lastModifiedBy": r.last_modified_by,
            })
        });
        json!({
            "@odata.etag": etag(EtagKind::TaskDetails, self.version),
            "id": task_id,
            "description": self.description,
            "previewType": self.preview_type,
            "checklist": checklist,
            "references": references,
        })
    }
}

const DETAILS_PATCH_FIELDS: &[&str] = &[
    "@odata.type",
    "description",
    "previewType",
    "checklist",
    "references",
];

impl PlannerState {
    /// §2.4 details update, with its own ETag. When the counters the task shows change, the task
    /// gets a new version too.
    pub fn update_details(
        &mut self,
        id: &str,
        precondition: Precondition<'_>,
        body: &Map<String, Value>,
        ctx: &WriteContext<'_>,
    ) -> Result<&Task, PlannerError> {
        reject_unknown(body, DETAILS_PATCH_FIELDS, "task details")?;
        let current = precondition.check(
            || self.task(id),
            EtagKind::TaskDetails,
            |c| c.details.version,
        )?;
        let mut details = current.details.clone();
        apply_details_fields(&mut details, body, ctx)?;
        let task_changed = details.derived() != current.details.derived();
        details.version = self.next_version();
        let task_version = if task_changed {
            Some(self.next_version())
        } else {
            None
        };
        let task = self
            .tasks
            .get_mut(id)
            .ok_or_else(|| not_found("task", id))?;
        task.details = details;
        if let Some(v) = task_version {
            task.version = v;
        }
        Ok(task)
    }
}

fn apply_details_fields(
    details: &mut Details,
    body: &Map<String, Value>,
    ctx: &WriteContext<'_>,
) -> Result<(), PlannerError> {
    for (field, value) in body {
        match field.as_str() {
            "@odata.type" => {}
            "description" => {
                details.description = match value {
                    Value::Null => String::new(),
                    v => as_string(field, v)?,
                }
            }
            "previewType" => {
                let p = as_string(field, value)?;
                if !PREVIEW_TYPES.contains(&p.as_str()) {
                    return Err(bad(format!("'{p}' is not a valid previewType.")));
                }
                details.preview_type = p;
            }
            "checklist" => apply_checklist(details, value, ctx)?,
            "references" => apply_references(details, value, ctx)?,
            other => return Err(bad(format!("The property '{other}' cannot be written."))),
        }
    }
    Ok(())
}

/// A unique-enough default hint for items in a task's open types, newest first.
fn fresh_now(ctx: &WriteContext<'_>) -> String {
    order_hint::fresh_for_seq(u64::try_from(ctx.now.timestamp_micros()).unwrap_or(0))
}

/// `checklist` (§2.4): a new item needs a title; any change stamps who made it and when.
fn apply_checklist(
    details: &mut Details,
    value: &Value,
    ctx: &WriteContext<'_>,
) -> Result<(), PlannerError> {
    let kind = OpenType {
        field: "checklist",
        odata_types: &["microsoft.graph.plannerChecklistItem"],
        reject_empty_on_update: false,
        check_key: |key| {
            if key.is_empty() {
                return Err(bad("A checklist item key must not be empty."));
            }
            Ok(())
        },
        describe: |key| format!("The checklist item '{key}'"),
        limit: (
            "MaximumChecklistItemsOnTask",
            ctx.config.max_checklist_items_per_task,
            "checklist items",
        ),
    };
    patch_open_type(
        &kind,
        value,
        false,
        &mut details.checklist,
        |key, item, existing| {
            let title = item
                .get("title")
                .map(|t| as_string("title", t))
                .transpose()?;
            let is_checked = match item.get("isChecked") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => return Err(bad("'isChecked' must be true or false.")),
            };
            let hint = optional_hint(item, "orderHint", ctx)?;
            let Some(existing) = existing else {
                let title = title.ok_or_else(|| {
                    bad(format!("The new checklist item '{key}' needs a 'title'."))
                })?;
                return Ok(Some(ChecklistItem {
                    title,
                    is_checked: is_checked.unwrap_or(false),
                    order_hint: hint.unwrap_or_else(|| fresh_now(ctx)),
                    last_modified_by: ctx.actor.identity.clone(),
                    last_modified: ctx.now,
                }));
            };
            if let Some(t) = title {
                existing.title = t;
            }
            if let Some(c) = is_checked {
                existing.is_checked = c;
            }
            if let Some(h) = hint {
                existing.order_hint = h;
            }
            existing.last_modified = ctx.now;
            existing.last_modified_by = ctx.actor.identity.clone();
            Ok(None)
        },
    )
}

/// An order-hint-valued property of an open-type entry, resolved against its neighbours.
fn optional_hint(
    entry: &Map<String, Value>,
    name: &str,
    ctx: &WriteContext<'_>,
) -> Result<Option<String>, PlannerError> {
    match entry.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(h) => Ok(Some(order_hint::resolve(&as_string(name, h)?, || {
            fresh_now(ctx)
        })?)),
    }
}

/// An optional text property of an open-type entry; `null` counts as absent.
fn optional_text(entry: &Map<String, Value>, name: &str) -> Result<Option<String>, PlannerError> {
    match entry.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => Ok(Some(as_string(name, v)?)),
    }
}

/// §2.4: reference keys are URLs with `.`, `:`, `@` and `#` percent-encoded.
fn check_reference_key(key: &str) -> Result<(), PlannerError> {
    if key.is_empty() || key.contains(['.', ':', '@', '#']) {
        return Err(bad(format!(
            "The reference key '{key}' must be a URL with '.', ':', '%', '@' and '#' percent-encoded."
        )));
    }
    Ok(())
}

/// `references` (§2.4): keyed by the encoded URL; a new reference starts with no alias or type.
fn apply_references(
    details: &mut Details,
    value: &Value,
    ctx: &WriteContext<'_>,
) -> Result<(), PlannerError> {
    let kind = OpenType {
        field: "references",
        // §2.4 DISCREPANCY: one doc example uses `microsoft.graph.externalReference`.
        odata_types: &[
            "microsoft.graph.plannerExternalReference",
            "microsoft.graph.externalReference",
        ],
        reject_empty_on_update: false,
        check_key: check_reference_key,
        describe: |key| format!("The reference '{key}'"),
        limit: (
            "MaximumReferencesOnTask",
            ctx.config.max_references_per_task,
            "references",
        ),
    };
    patch_open_type(
        &kind,
        value,
        false,
        &mut details.references,
        |_, r, existing| {
            let alias = optional_text(r, "alias")?;
            let kind = optional_text(r, "type")?;
            let priority = optional_hint(r, "previewPriority", ctx)?;
            let Some(entry) = existing else {
                return Ok(Some(Reference {
                    alias,
                    kind,
                    preview_priority: priority.unwrap_or_else(|| fresh_now(ctx)),
                    last_modified_by: ctx.actor.identity.clone(),
                    last_modified: ctx.now,
                }));
            };
            if alias.is_some() {
                entry.alias = alias;
            }
            if kind.is_some() {
                entry.kind = kind;
            }
            if let Some(p) = priority {
                entry.preview_priority = p;
            }
            entry.last_modified = ctx.now;
            entry.last_modified_by = ctx.actor.identity.clone();
            Ok(None)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_keys_must_be_encoded() {
        assert!(check_reference_key("https%3A//contoso%2Ecom/a").is_ok());
        assert!(check_reference_key("https://contoso.com/a").is_err());
    }
}
