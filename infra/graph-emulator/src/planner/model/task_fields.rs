//! What each writable task field accepts (docs/graph-behaviour.md §2.7), applied to a copy of the
//! task: plain fields, `appliedCategories` and the `assignments` open type.

use serde_json::{Map, Value};

use super::fields::{as_int, as_string, parse_time};
use super::open_type::{OpenType, patch_open_type};
use super::tasks::{Assignment, Task};
use super::{PlannerError, PlannerState, WriteContext, bad};
use crate::planner::order_hint;

/// §2.3 DISCREPANCY: 6 or 25 categories; the emulator accepts the larger set.
const MAX_CATEGORY: u32 = 25;

impl PlannerState {
    /// Applies writable task fields to `task` (a copy), enforcing every rule.
    pub(super) fn apply_task_fields(
        &self,
        task: &mut Task,
        body: &Map<String, Value>,
        creating: bool,
        ctx: &WriteContext<'_>,
    ) -> Result<(), PlannerError> {
        let seq = task.seq;
        for (field, value) in body {
            match field.as_str() {
                "@odata.type" => {}
                "title" => task.title = as_string(field, value)?,
                "bucketId" => {
                    task.bucket_id = match value {
                        Value::Null => None,
                        v => {
                            let id = as_string(field, v)?;
                            let in_plan = self
                                .buckets
                                .get(&id)
                                .is_some_and(|b| b.plan_id == task.plan_id);
                            if !in_plan {
                                return Err(bad(format!(
                                    "The bucket '{id}' does not exist in the task's plan."
                                )));
                            }
                            Some(id)
                        }
                    }
                }
                "orderHint" => {
                    task.order_hint = order_hint::resolve(&as_string(field, value)?, || {
                        order_hint::fresh_for_seq(seq)
                    })?
                }
                "assigneePriority" => {
                    task.assignee_priority = order_hint::resolve(&as_string(field, value)?, || {
                        order_hint::fresh_for_seq(seq)
                    })?
                }
                "percentComplete" => {
                    let pc = as_int(field, value, 0..=100)?;
                    if pc == 100 && task.percent_complete < 100 {
                        task.completed = Some(ctx.now);
                        task.completed_by = Some(ctx.actor.identity.clone());
                    } else if pc < 100 {
                        task.completed = None;
                        task.completed_by = None;
                    }
                    task.percent_complete = pc;
                }
                "priority" => task.priority = as_int(field, value, 0..=10)?,
                "startDateTime" => task.start = parse_time(field, value)?,
                "dueDateTime" => task.due = parse_time(field, value)?,
                "conversationThreadId" => {
                    task.conversation_thread_id = match value {
                        Value::Null => None,
                        v => Some(as_string(field, v)?),
                    }
                }
                "appliedCategories" => apply_categories(task, value, creating)?,
                "assignments" => apply_assignments(task, value, creating, ctx)?,
                other => return Err(bad(format!("The property '{other}' cannot be written."))),
            }
        }
        if let (Some(start), Some(due)) = (task.start, task.due)
            && start > due
        {
            return Err(bad("The start date must not be after the due date."));
        }
        Ok(())
    }
}

fn apply_categories(task: &mut Task, value: &Value, creating: bool) -> Result<(), PlannerError> {
    let Value::Object(map) = value else {
        return Err(bad("'appliedCategories' must be an object."));
    };
    if map.is_empty() && !creating {
        return Err(bad("'appliedCategories' must not be an empty object."));
    }
    for (key, v) in map {
        if key == "@odata.type" {
            continue;
        }
        let n = key
            .strip_prefix("category")
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| (1..=MAX_CATEGORY).contains(n))
            .ok_or_else(|| {
                bad(format!(
                    "'{key}' is not a category (category1 to category{MAX_CATEGORY})."
                ))
            })?;
        match v {
            Value::Bool(true) => {
                task.categories.insert(n);
            }
            Value::Bool(false) | Value::Null => {
                task.categories.remove(&n);
            }
            _ => return Err(bad(format!("'{key}' must be true or false."))),
        }
    }
    Ok(())
}

/// `assignments` (§2.2): keyed by user id; a new assignment records who assigned it and when.
fn apply_assignments(
    task: &mut Task,
    value: &Value,
    creating: bool,
    ctx: &WriteContext<'_>,
) -> Result<(), PlannerError> {
    let kind = OpenType {
        field: "assignments",
        odata_types: &["microsoft.graph.plannerAssignment"],
        reject_empty_on_update: true,
        check_key: |user| {
            if user.is_empty() {
                return Err(bad("An assignment key must be a user id."));
            }
            Ok(())
        },
        describe: |user| format!("The assignment for '{user}'"),
        limit: (
            "MaximumAssigneesInTasks",
            ctx.config.max_assignees_per_task,
            "assignees",
        ),
    };
    let seq = task.seq;
    let fresh = || order_hint::fresh_for_seq(seq);
    patch_open_type(
        &kind,
        value,
        creating,
        &mut task.assignments,
        |_, a, existing| {
            let hint = match a.get("orderHint") {
                None | Some(Value::Null) => None,
                Some(h) => Some(order_hint::resolve(&as_string("orderHint", h)?, fresh)?),
            };
            Ok(match existing {
                Some(existing) => {
                    if let Some(h) = hint {
                        existing.order_hint = h;
                    }
                    None
                }
                None => Some(Assignment {
                    order_hint: hint.unwrap_or_else(fresh),
                    assigned_by: ctx.actor.identity.clone(),
                    assigned: ctx.now,
                }),
            })
        },
    )
}
