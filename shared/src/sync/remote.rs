//! The remote side of the engine: the field mapping between the normalised fields and Graph's
//! `todoTask` and `plannerTask` (+ details), and the port the executor calls.
//!
//! Reads return [`RemoteTask`]s; writes take side-canonical field values (what `SideRules::canon`
//! produced). The table of docs/sync-engine.md describes the same mapping.

use std::collections::BTreeMap;
use std::future::Future;

use serde_json::{Value, json};

use super::fields::{
    Field, FieldMap, SideRules, checklist_of, date_of, planner_priority, priority_of_planner,
    progress_parts, progress_value, status_of_percent, strings_of, todo_importance,
    todo_priority_read,
};
use super::reconcile::RemoteTask;
use crate::graph::models::{
    DateTimeTimeZone, ItemBody, NewPlannerTask, NewTodoTask, PlannerChecklistItem, PlannerTask,
    PlannerTaskDetails, PlannerTaskDetailsPatch, PlannerTaskPatch, TodoStatus, TodoTask,
    TodoTaskPatch, planner_assignment, planner_marker_reference,
};
use crate::graph::{GraphClient, GraphError};
use crate::model::{Binding, Priority, RemoteKind, TaskDate};

/// What the engine needs from Graph for one binding's container.
pub trait RemoteTasks: Send + Sync {
    /// The task now; `Ok(None)` when it is gone (404).
    fn get(
        &self,
        binding: &Binding,
        rules: &SideRules,
        remote_id: &str,
    ) -> impl Future<Output = Result<Option<RemoteTask>, GraphError>> + Send;
    /// Every task of the container (for a resync); `NotFound` when the container is gone.
    fn list(
        &self,
        binding: &Binding,
        rules: &SideRules,
    ) -> impl Future<Output = Result<Vec<RemoteTask>, GraphError>> + Send;
    /// The task created earlier for `local_id`, found by its marker.
    fn find_by_marker(
        &self,
        binding: &Binding,
        rules: &SideRules,
        local_id: &str,
    ) -> impl Future<Output = Result<Option<RemoteTask>, GraphError>> + Send;
    /// Creates a task carrying the marker of `local_id`, with side-canonical `fields`.
    fn create(
        &self,
        binding: &Binding,
        rules: &SideRules,
        local_id: &str,
        fields: &FieldMap,
    ) -> impl Future<Output = Result<RemoteTask, GraphError>> + Send;
    /// Sends `patch` (side-canonical values); `current` supplies the ETags and the values the
    /// open types are diffed against. `Conflict` on a stale ETag (Planner).
    fn patch(
        &self,
        binding: &Binding,
        rules: &SideRules,
        current: &RemoteTask,
        patch: &FieldMap,
    ) -> impl Future<Output = Result<RemoteTask, GraphError>> + Send;
    /// Deletes the task; one already gone counts as done.
    fn delete(
        &self,
        binding: &Binding,
        current: &RemoteTask,
    ) -> impl Future<Output = Result<(), GraphError>> + Send;
}

// ---- To Do ----

/// A To Do task as normalised fields.
pub fn todo_remote(task: &TodoTask, rules: &SideRules) -> RemoteTask {
    let status = task
        .status
        .map(TodoStatus::to_domain)
        .unwrap_or(crate::model::TaskStatus::NotStarted);
    let due = task
        .due_date_time
        .as_ref()
        .and_then(|d| d.calendar_day(&rules.zone).ok())
        .map_or(Value::Null, |d| json!(TaskDate::Day(d).to_text()));
    let mut categories: Vec<String> = task.categories.clone();
    categories.sort();
    categories.dedup();
    let fields = FieldMap::from([
        (Field::Title, json!(task.title)),
        (
            Field::Notes,
            json!(task.body.as_ref().map(|b| b.content.as_str()).unwrap_or("")),
        ),
        (Field::Progress, json!({"status": status.as_str()})),
        (
            Field::Priority,
            json!(todo_priority_read(
                task.importance.as_deref().unwrap_or("normal")
            )),
        ),
        (Field::Due, due),
        (Field::Categories, json!(categories)),
    ]);
    RemoteTask {
        id: task.id.clone(),
        fields,
        task_etag: task.etag.clone(),
        details_etag: None,
        last_modified: task.last_modified_date_time,
        completed_at: task
            .completed_date_time
            .as_ref()
            .and_then(|d| d.to_utc().ok()),
        marker: task.marker().map(str::to_owned),
    }
}

fn todo_status(value: &Value) -> TodoStatus {
    TodoStatus::from_domain(progress_parts(value).0)
}

fn todo_due(value: &Value, rules: &SideRules) -> Option<DateTimeTimeZone> {
    match date_of(value)? {
        TaskDate::Day(d) => Some(DateTimeTimeZone::for_calendar_day(d, &rules.zone)),
        TaskDate::Instant(t) => Some(DateTimeTimeZone::for_calendar_day(
            rules.zone.calendar_day(t),
            &rules.zone,
        )),
    }
}

fn importance(value: &Value) -> String {
    todo_importance(
        value
            .as_str()
            .and_then(Priority::parse)
            .unwrap_or(Priority::Medium),
    )
    .to_owned()
}

pub fn todo_new_task(local_id: &str, fields: &FieldMap, rules: &SideRules) -> NewTodoTask {
    let mut task = NewTodoTask::for_local_task(
        local_id,
        fields
            .get(&Field::Title)
            .and_then(Value::as_str)
            .unwrap_or_default(),
    );
    if let Some(notes) = fields.get(&Field::Notes).and_then(Value::as_str)
        && !notes.is_empty()
    {
        task.body = Some(ItemBody::text(notes));
    }
    task.status = fields.get(&Field::Progress).map(todo_status);
    task.importance = fields.get(&Field::Priority).map(importance);
    task.due_date_time = fields.get(&Field::Due).and_then(|d| todo_due(d, rules));
    task.categories = fields
        .get(&Field::Categories)
        .map(strings_of)
        .unwrap_or_default();
    task
}

pub fn todo_patch(patch: &FieldMap, rules: &SideRules) -> TodoTaskPatch {
    let mut p = TodoTaskPatch::default();
    for (field, value) in patch {
        match field {
            Field::Title => p.title = value.as_str().map(str::to_owned),
            Field::Notes => p.body = Some(ItemBody::text(value.as_str().unwrap_or_default())),
            Field::Progress => p.status = Some(todo_status(value)),
            Field::Priority => p.importance = Some(importance(value)),
            Field::Due => p.due_date_time = Some(todo_due(value, rules)),
            Field::Categories => p.categories = Some(strings_of(value)),
            Field::Start | Field::Assignees | Field::Checklist | Field::Bucket => {}
        }
    }
    p
}

// ---- Planner ----

/// A Planner task and its details as normalised fields.
pub fn planner_remote(
    task: &PlannerTask,
    details: &PlannerTaskDetails,
    rules: &SideRules,
) -> RemoteTask {
    let percent = u8::try_from(task.percent_complete.unwrap_or(0).clamp(0, 100)).unwrap_or(0);
    let date = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map_or(Value::Null, |t| json!(rules.planner_date(t).to_text()))
    };
    let mut assignees: Vec<&String> = task.assignments.keys().collect();
    assignees.sort();
    let categories: Vec<&String> = task
        .applied_categories
        .iter()
        .filter(|(_, on)| **on)
        .map(|(k, _)| k)
        .collect();
    let checklist: Vec<Value> = details
        .checklist
        .iter()
        .map(|(id, item)| json!({"id": id, "title": item.title, "checked": item.is_checked}))
        .collect();
    let fields = FieldMap::from([
        (Field::Title, json!(task.title)),
        (
            Field::Notes,
            json!(details.description.as_deref().unwrap_or("")),
        ),
        (
            Field::Progress,
            progress_value(status_of_percent(percent), Some(percent)),
        ),
        (
            Field::Priority,
            json!(priority_of_planner(task.priority.unwrap_or(5)).as_str()),
        ),
        (Field::Due, date(task.due_date_time)),
        (Field::Start, date(task.start_date_time)),
        (Field::Assignees, json!(assignees)),
        (Field::Categories, json!(categories)),
        (Field::Checklist, Value::Array(checklist)),
        (
            Field::Bucket,
            task.bucket_id
                .as_ref()
                .filter(|b| !b.is_empty())
                .map_or(Value::Null, |b| json!(b)),
        ),
    ]);
    RemoteTask {
        id: task.id.clone(),
        fields,
        task_etag: task.etag.clone(),
        details_etag: details.etag.clone(),
        last_modified: None,
        completed_at: task.completed_date_time,
        marker: details.marker(),
    }
}

fn planner_percent(value: &Value) -> i32 {
    let (status, percent) = progress_parts(value);
    let v = progress_value(status, percent);
    i32::from(progress_parts(&v).1.unwrap_or(0))
}

fn planner_priority_of(value: &Value) -> i32 {
    planner_priority(
        value
            .as_str()
            .and_then(Priority::parse)
            .unwrap_or(Priority::Medium),
    )
}

/// The task part of a Planner patch, diffing open types against `current`.
pub fn planner_task_patch(
    patch: &FieldMap,
    current: &FieldMap,
    rules: &SideRules,
) -> PlannerTaskPatch {
    let mut p = PlannerTaskPatch::default();
    for (field, value) in patch {
        match field {
            Field::Title => p.title = value.as_str().map(str::to_owned),
            Field::Progress => p.percent_complete = Some(planner_percent(value)),
            Field::Priority => p.priority = Some(planner_priority_of(value)),
            Field::Due => p.due_date_time = Some(rules.planner_instant(value)),
            Field::Start => p.start_date_time = Some(rules.planner_instant(value)),
            Field::Bucket => {
                // A bucket cannot be cleared in Planner: only a new one is sent.
                if let Some(b) = value.as_str() {
                    p.bucket_id = Some(b.to_owned());
                }
            }
            Field::Assignees => {
                let new = strings_of(value);
                let old = current.get(field).map(strings_of).unwrap_or_default();
                let mut diff = BTreeMap::new();
                for id in &new {
                    if !old.contains(id) {
                        diff.insert(id.clone(), Some(planner_assignment()));
                    }
                }
                for id in &old {
                    if !new.contains(id) {
                        diff.insert(id.clone(), None);
                    }
                }
                if !diff.is_empty() {
                    p.assignments = Some(diff);
                }
            }
            Field::Categories => {
                let new = strings_of(value);
                let old = current.get(field).map(strings_of).unwrap_or_default();
                let mut diff = BTreeMap::new();
                for c in &new {
                    if !old.contains(c) {
                        diff.insert(c.clone(), true);
                    }
                }
                for c in &old {
                    if !new.contains(c) {
                        diff.insert(c.clone(), false);
                    }
                }
                if !diff.is_empty() {
                    p.applied_categories = Some(diff);
                }
            }
            Field::Notes | Field::Checklist => {}
        }
    }
    p
}

/// The details part of a Planner patch.
pub fn planner_details_patch(patch: &FieldMap, current: &FieldMap) -> PlannerTaskDetailsPatch {
    let mut p = PlannerTaskDetailsPatch::default();
    if let Some(notes) = patch.get(&Field::Notes) {
        p.description = Some(notes.as_str().unwrap_or_default().to_owned());
    }
    if let Some(list) = patch.get(&Field::Checklist) {
        let new = checklist_of(list);
        let old = current
            .get(&Field::Checklist)
            .map(checklist_of)
            .unwrap_or_default();
        let mut diff = BTreeMap::new();
        for item in &new {
            if !old.contains(item) {
                diff.insert(
                    item.id.clone(),
                    Some(PlannerChecklistItem {
                        odata_type: "microsoft.graph.plannerChecklistItem".to_owned(),
                        title: item.title.clone(),
                        is_checked: item.checked,
                        order_hint: None,
                    }),
                );
            }
        }
        for item in &old {
            if !new.iter().any(|n| n.id == item.id) {
                diff.insert(item.id.clone(), None);
            }
        }
        if !diff.is_empty() {
            p.checklist = Some(diff);
        }
    }
    p
}

fn details_patch_is_empty(p: &PlannerTaskDetailsPatch) -> bool {
    p.description.is_none()
        && p.checklist.is_none()
        && p.references.is_none()
        && p.preview_type.is_none()
}

fn task_patch_is_empty(p: &PlannerTaskPatch) -> bool {
    *p == PlannerTaskPatch::default()
}

impl RemoteTasks for GraphClient {
    async fn get(
        &self,
        binding: &Binding,
        rules: &SideRules,
        remote_id: &str,
    ) -> Result<Option<RemoteTask>, GraphError> {
        let result = match binding.remote {
            RemoteKind::Todo => self
                .todo()
                .get_task(&binding.user_id, &binding.remote_container_id, remote_id)
                .await
                .map(|t| todo_remote(&t, rules)),
            RemoteKind::Planner => {
                let planner = self.planner();
                match planner.get_task(remote_id).await {
                    Ok(task) if task.plan_id != binding.remote_container_id => {
                        // Moved to another plan: gone from this binding's point of view.
                        return Ok(None);
                    }
                    Ok(task) => planner
                        .get_task_details(remote_id)
                        .await
                        .map(|d| planner_remote(&task, &d, rules)),
                    Err(e) => Err(e),
                }
            }
        };
        match result {
            Ok(task) => Ok(Some(task)),
            Err(GraphError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn list(
        &self,
        binding: &Binding,
        rules: &SideRules,
    ) -> Result<Vec<RemoteTask>, GraphError> {
        match binding.remote {
            RemoteKind::Todo => Ok(self
                .todo()
                .list_tasks(&binding.user_id, &binding.remote_container_id)
                .await?
                .iter()
                .map(|t| todo_remote(t, rules))
                .collect()),
            RemoteKind::Planner => {
                let planner = self.planner();
                match planner
                    .list_plan_tasks_with_details(&binding.remote_container_id)
                    .await
                {
                    Ok(tasks) if tasks.iter().all(|t| t.details.is_some()) => Ok(tasks
                        .iter()
                        .filter_map(|t| t.details.as_ref().map(|d| planner_remote(t, d, rules)))
                        .collect()),
                    Ok(_) | Err(GraphError::BadRequest { .. }) => {
                        // The expansion is undocumented for listings (DESIGN.md): read the
                        // details twenty at a time through $batch instead.
                        let tasks = planner
                            .list_plan_tasks(&binding.remote_container_id)
                            .await?;
                        let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
                        let details = planner.get_task_details_many(&ids).await?;
                        let mut out = Vec::with_capacity(tasks.len());
                        for (task, (_, d)) in tasks.iter().zip(details) {
                            match d {
                                Ok(d) => out.push(planner_remote(task, &d, rules)),
                                Err(GraphError::NotFound) => {}
                                Err(e) => return Err(e),
                            }
                        }
                        Ok(out)
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }

    async fn find_by_marker(
        &self,
        binding: &Binding,
        rules: &SideRules,
        local_id: &str,
    ) -> Result<Option<RemoteTask>, GraphError> {
        match binding.remote {
            RemoteKind::Todo => Ok(self
                .todo()
                .find_task_by_marker(&binding.user_id, &binding.remote_container_id, local_id)
                .await?
                .map(|t| todo_remote(&t, rules))),
            RemoteKind::Planner => Ok(self
                .list(binding, rules)
                .await?
                .into_iter()
                .find(|t| t.marker.as_deref() == Some(local_id))),
        }
    }

    async fn create(
        &self,
        binding: &Binding,
        rules: &SideRules,
        local_id: &str,
        fields: &FieldMap,
    ) -> Result<RemoteTask, GraphError> {
        match binding.remote {
            RemoteKind::Todo => {
                let created = self
                    .todo()
                    .create_task(
                        &binding.user_id,
                        &binding.remote_container_id,
                        &todo_new_task(local_id, fields, rules),
                    )
                    .await?;
                Ok(todo_remote(&created, rules))
            }
            RemoteKind::Planner => {
                let planner = self.planner();
                let title = fields
                    .get(&Field::Title)
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let mut new = NewPlannerTask::new(&binding.remote_container_id, title);
                let empty = FieldMap::new();
                let task_part = planner_task_patch(fields, &empty, rules);
                new.bucket_id = task_part.bucket_id;
                new.percent_complete = task_part.percent_complete;
                new.priority = task_part.priority;
                new.start_date_time = task_part.start_date_time.flatten();
                new.due_date_time = task_part.due_date_time.flatten();
                new.assignments = task_part
                    .assignments
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k, v)))
                    .collect();
                new.applied_categories = task_part.applied_categories.unwrap_or_default();
                let created = planner.create_task(&new).await?;
                // The marker, notes and checklist go into the details in one write (their own
                // resource with its own ETag, graph-facts §2.4).
                let details = planner.get_task_details(&created.id).await?;
                let etag = details.etag.clone().ok_or_else(|| {
                    GraphError::Protocol("task details arrived without an ETag".to_owned())
                })?;
                let mut details_patch = planner_details_patch(fields, &empty);
                let (key, reference) = planner_marker_reference(local_id);
                details_patch.references = Some(BTreeMap::from([(key, Some(reference))]));
                let details = planner
                    .update_task_details(&created.id, &etag, &details_patch)
                    .await?;
                // The details write changed the task's ETag (reference count): read it back so
                // the mapping records the ETag the next echo will carry.
                let task = planner.get_task(&created.id).await?;
                Ok(planner_remote(&task, &details, rules))
            }
        }
    }

    async fn patch(
        &self,
        binding: &Binding,
        rules: &SideRules,
        current: &RemoteTask,
        patch: &FieldMap,
    ) -> Result<RemoteTask, GraphError> {
        match binding.remote {
            RemoteKind::Todo => {
                let updated = self
                    .todo()
                    .update_task(
                        &binding.user_id,
                        &binding.remote_container_id,
                        &current.id,
                        &todo_patch(patch, rules),
                    )
                    .await?;
                Ok(todo_remote(&updated, rules))
            }
            RemoteKind::Planner => {
                let planner = self.planner();
                let task_patch = planner_task_patch(patch, &current.fields, rules);
                let details_patch = planner_details_patch(patch, &current.fields);
                let mut result = current.clone();
                if !task_patch_is_empty(&task_patch) {
                    let etag = current.task_etag.as_deref().unwrap_or("");
                    let task = planner.update_task(&current.id, etag, &task_patch).await?;
                    let details = PlannerTaskDetails {
                        id: current.id.clone(),
                        description: None,
                        preview_type: None,
                        checklist: BTreeMap::new(),
                        references: BTreeMap::new(),
                        etag: current.details_etag.clone(),
                    };
                    let fresh = planner_remote(&task, &details, rules);
                    for f in [
                        Field::Title,
                        Field::Progress,
                        Field::Priority,
                        Field::Due,
                        Field::Start,
                        Field::Assignees,
                        Field::Categories,
                        Field::Bucket,
                    ] {
                        if let Some(v) = fresh.fields.get(&f) {
                            result.fields.insert(f, v.clone());
                        }
                    }
                    result.task_etag = fresh.task_etag;
                    result.completed_at = fresh.completed_at;
                }
                if !details_patch_is_empty(&details_patch) {
                    let etag = current.details_etag.as_deref().unwrap_or("");
                    let details = planner
                        .update_task_details(&current.id, etag, &details_patch)
                        .await?;
                    let task = planner.get_task(&current.id).await?;
                    let fresh = planner_remote(&task, &details, rules);
                    result.fields = fresh.fields;
                    result.task_etag = fresh.task_etag;
                    result.details_etag = fresh.details_etag;
                    result.marker = fresh.marker;
                }
                Ok(result)
            }
        }
    }

    async fn delete(&self, binding: &Binding, current: &RemoteTask) -> Result<(), GraphError> {
        let result = match binding.remote {
            RemoteKind::Todo => {
                self.todo()
                    .delete_task(&binding.user_id, &binding.remote_container_id, &current.id)
                    .await
            }
            RemoteKind::Planner => {
                let etag = current.task_etag.as_deref().unwrap_or("");
                self.planner().delete_task(&current.id, etag).await
            }
        };
        match result {
            Ok(()) | Err(GraphError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
