//! The remote side of the engine: the field mapping between the normalised fields and Graph's
//! `todoTask` and `plannerTask` (+ details), and the port the executor calls.
//!
//! Reads return [`RemoteTask`]s; writes take side-canonical field values (what `SideRules::canon`
//! produced). The table of docs/sync-engine.md describes the same mapping.

use std::collections::BTreeMap;
use std::future::Future;

use serde_json::{Value, json};

use super::fields::{
    Field, FieldMap, SideRules, checklist_entries, checklist_of, date_of, pair_checklists,
    planner_priority, priority_of_planner, progress_parts, progress_value, status_of_percent,
    strings_of, todo_checklist_value, todo_importance, todo_priority_read,
};
use super::reconcile::RemoteTask;
use crate::graph::models::{
    DateTimeTimeZone, ItemBody, NewPlannerTask, NewTodoTask, PlannerChecklistItem, PlannerTask,
    PlannerTaskDetails, PlannerTaskDetailsPatch, PlannerTaskPatch, TodoChecklistItem,
    TodoChecklistItemWrite, TodoStatus, TodoTask, TodoTaskPatch, planner_assignment,
    planner_marker_reference,
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
    /// What earlier attempts of the create of `local_id` left in the container, for a retry
    /// whose claim holds no remote id: the task with its marker, or else the unmarked tasks this
    /// application created (Planner: a POST whose answer was lost leaves one, docs/sync-engine.md
    /// "Crash points and races"). One listing, the one `find_by_marker` makes.
    fn find_earlier_create(
        &self,
        binding: &Binding,
        rules: &SideRules,
        local_id: &str,
    ) -> impl Future<Output = Result<EarlierCreate, GraphError>> + Send {
        async move {
            Ok(EarlierCreate {
                marked: self.find_by_marker(binding, rules, local_id).await?,
                unmarked_own: Vec::new(),
            })
        }
    }
    /// Creates a task for `local_id` with side-canonical `fields`, in as few requests as the
    /// side allows. To Do takes the marker in the create itself (one POST, graph-facts §3.1), so
    /// the task comes back marked and complete. Planner takes it only in the task details, a
    /// resource of its own (§2.4): the task comes back from its POST **unmarked**, and the
    /// caller records its id before [`RemoteTasks::complete_create`] writes the rest, so that a
    /// failure or a crash in between resumes this task instead of creating a second one.
    fn create(
        &self,
        binding: &Binding,
        rules: &SideRules,
        local_id: &str,
        fields: &FieldMap,
    ) -> impl Future<Output = Result<RemoteTask, GraphError>> + Send;
    /// Finishes a task that `create` returned unmarked (or that a create left unmarked before
    /// a failure): sends `patch` (side-canonical values, diffed against `current` as
    /// [`RemoteTasks::patch`] does) together with the marker of `local_id`, and returns the task
    /// with its final ETags. On Planner the marker, notes and checklist are one details write
    /// (its ETag read first unless `current` carries it). To Do's marker went with its create,
    /// so there only `patch` is sent.
    fn complete_create(
        &self,
        binding: &Binding,
        rules: &SideRules,
        local_id: &str,
        current: &RemoteTask,
        patch: &FieldMap,
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

/// See [`RemoteTasks::find_earlier_create`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EarlierCreate {
    pub marked: Option<RemoteTask>,
    /// Unmarked tasks this application created (only looked for when nothing is marked).
    pub unmarked_own: Vec<RemoteTask>,
}

/// How far Planner's clock (`createdDateTime`) may run behind ours (the claim's `updated_at`)
/// without hiding an orphan from its create's retry. Both are NTP-synced; a minute is ample.
pub const CREATE_CLOCK_SKEW: chrono::Duration = chrono::Duration::seconds(60);

/// The orphans a create's retry may adopt, oldest first: unmarked tasks this application
/// created, with the local task's `title` (side-canonical), created at or after the claim was
/// last written (the claim is written just before each POST) less [`CREATE_CLOCK_SKEW`], and
/// not after `settled_before`: a task created moments ago may be another local task's create
/// still on its way to its record (the caller passes now less half the claim patience; its own
/// orphan is older than that by the time a retry runs). The caller still drops those another
/// mapping names.
pub fn orphans_of_claim(
    claim_written: chrono::DateTime<chrono::Utc>,
    settled_before: chrono::DateTime<chrono::Utc>,
    titles: &[Value],
    candidates: Vec<RemoteTask>,
) -> Vec<RemoteTask> {
    let since = claim_written - CREATE_CLOCK_SKEW;
    let mut found: Vec<RemoteTask> = candidates
        .into_iter()
        .filter(|t| {
            t.marker.is_none()
                && t.created_by_this_app
                && t.fields
                    .get(&Field::Title)
                    .is_some_and(|t| titles.contains(t))
                && t.created_at
                    .is_some_and(|at| at >= since && at <= settled_before)
        })
        .collect();
    found.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    found
}

// ---- To Do ----

/// A To Do task as normalised fields.
pub fn todo_remote(task: &TodoTask, rules: &SideRules) -> RemoteTask {
    let status = task
        .status
        .map(TodoStatus::to_domain)
        .unwrap_or(crate::model::TaskStatus::NotStarted);
    let day = |d: Option<&DateTimeTimeZone>| {
        d.and_then(|d| d.calendar_day(&rules.zone).ok())
            .map_or(Value::Null, |d| json!(TaskDate::Day(d).to_text()))
    };
    let mut categories: Vec<String> = task.categories.clone();
    categories.sort();
    categories.dedup();
    let mut fields = FieldMap::from([
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
        (Field::Due, day(task.due_date_time.as_ref())),
        (Field::Start, day(task.start_date_time.as_ref())),
        (Field::Categories, json!(categories)),
    ]);
    // Only a read that expanded the checklist knows it; without it the field stays out (left
    // alone) rather than reading as "no items".
    if let Some(items) = &task.checklist_items {
        fields.insert(Field::Checklist, todo_checklist_of(items));
    }
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
        created_at: task.created_date_time,
        // To Do takes the marker in the create itself: no unmarked task of ours can exist.
        created_by_this_app: false,
    }
}

/// To Do's checklist items in the side's form (`sync::fields`, "To Do checklists").
pub fn todo_checklist_of(items: &[TodoChecklistItem]) -> Value {
    let items: Vec<(String, bool)> = items
        .iter()
        .map(|i| (i.display_name.clone(), i.is_checked))
        .collect();
    todo_checklist_value(&items)
}

/// One checklist request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TodoChecklistOp {
    Create(TodoChecklistItemWrite),
    Update {
        id: String,
        patch: TodoChecklistItemWrite,
    },
    Delete {
        id: String,
    },
}

/// The requests that turn To Do's `current` items into `target` (a checklist value in any
/// form): one per item that differs, none for the others ([`pair_checklists`]).
pub fn todo_checklist_ops(current: &[TodoChecklistItem], target: &Value) -> Vec<TodoChecklistOp> {
    let have: Vec<(String, bool)> = current
        .iter()
        .map(|i| (i.display_name.clone(), i.is_checked))
        .collect();
    let want: Vec<(String, bool)> = checklist_entries(target)
        .into_iter()
        .map(|(_, title, checked)| (title, checked))
        .collect();
    let pairing = pair_checklists(&have, &want);
    let mut ops = Vec::new();
    for (ci, ti) in &pairing.pairs {
        if let (Some(item), Some((title, checked))) = (current.get(*ci), want.get(*ti)) {
            let patch = TodoChecklistItemWrite {
                display_name: (item.display_name != *title).then(|| title.clone()),
                is_checked: (item.is_checked != *checked).then_some(*checked),
            };
            if patch != TodoChecklistItemWrite::default() {
                ops.push(TodoChecklistOp::Update {
                    id: item.id.clone(),
                    patch,
                });
            }
        }
    }
    for ci in &pairing.removed {
        if let Some(item) = current.get(*ci) {
            ops.push(TodoChecklistOp::Delete {
                id: item.id.clone(),
            });
        }
    }
    for ti in &pairing.added {
        if let Some((title, checked)) = want.get(*ti) {
            ops.push(TodoChecklistOp::Create(TodoChecklistItemWrite {
                display_name: Some(title.clone()),
                is_checked: Some(*checked),
            }));
        }
    }
    ops
}

/// Applies `ops` to the task's checklist, returning the items as they are afterwards. An item
/// that vanished meanwhile (404 on its PATCH) means a person edited the checklist at the same
/// time: `Conflict`, so the caller reads both sides again and merges (a DELETE answered 404 is
/// done already).
async fn apply_todo_checklist(
    graph: &GraphClient,
    binding: &Binding,
    task_id: &str,
    mut items: Vec<TodoChecklistItem>,
    ops: Vec<TodoChecklistOp>,
) -> Result<Vec<TodoChecklistItem>, GraphError> {
    let todo = graph.todo();
    let (user, list) = (&binding.user_id, &binding.remote_container_id);
    for op in ops {
        match op {
            TodoChecklistOp::Create(write) => {
                items.push(
                    todo.create_checklist_item(user, list, task_id, &write)
                        .await?,
                );
            }
            TodoChecklistOp::Update { id, patch } => {
                let updated = match todo
                    .update_checklist_item(user, list, task_id, &id, &patch)
                    .await
                {
                    Err(GraphError::NotFound) => return Err(GraphError::Conflict { status: 404 }),
                    other => other?,
                };
                if let Some(slot) = items.iter_mut().find(|i| i.id == id) {
                    *slot = updated;
                }
            }
            TodoChecklistOp::Delete { id } => {
                match todo.delete_checklist_item(user, list, task_id, &id).await {
                    Ok(()) | Err(GraphError::NotFound) => {}
                    Err(e) => return Err(e),
                }
                items.retain(|i| i.id != id);
            }
        }
    }
    Ok(items)
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
    task.start_date_time = fields.get(&Field::Start).and_then(|d| todo_due(d, rules));
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
            Field::Start => p.start_date_time = Some(todo_due(value, rules)),
            Field::Categories => p.categories = Some(strings_of(value)),
            // The checklist is a sub-resource with its own requests (`todo_checklist_ops`).
            Field::Assignees | Field::Checklist | Field::Bucket => {}
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
        created_at: task.created_date_time,
        // Only the Graph client knows its own application id (`GraphClient::planner_task`).
        created_by_this_app: false,
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

impl GraphClient {
    /// [`planner_remote`], plus whether this application created it (its client id in
    /// `createdBy.application.id`, as Graph fills it for app-only calls).
    fn planner_task(
        &self,
        task: &PlannerTask,
        details: &PlannerTaskDetails,
        rules: &SideRules,
    ) -> RemoteTask {
        let mut remote = planner_remote(task, details, rules);
        remote.created_by_this_app =
            task.creating_application() == Some(self.settings().client_id.as_str());
        remote
    }
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
                        .map(|d| self.planner_task(&task, &d, rules)),
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
                        .filter_map(|t| t.details.as_ref().map(|d| self.planner_task(t, d, rules)))
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
                                Ok(d) => out.push(self.planner_task(task, &d, rules)),
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

    async fn find_earlier_create(
        &self,
        binding: &Binding,
        rules: &SideRules,
        local_id: &str,
    ) -> Result<EarlierCreate, GraphError> {
        match binding.remote {
            RemoteKind::Todo => Ok(EarlierCreate {
                marked: self.find_by_marker(binding, rules, local_id).await?,
                unmarked_own: Vec::new(),
            }),
            RemoteKind::Planner => {
                let tasks = self.list(binding, rules).await?;
                if let Some(marked) = tasks.iter().find(|t| t.marker.as_deref() == Some(local_id)) {
                    return Ok(EarlierCreate {
                        marked: Some(marked.clone()),
                        unmarked_own: Vec::new(),
                    });
                }
                Ok(EarlierCreate {
                    marked: None,
                    unmarked_own: tasks
                        .into_iter()
                        .filter(|t| t.marker.is_none() && t.created_by_this_app)
                        .collect(),
                })
            }
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
                let todo = self.todo();
                let created = todo
                    .create_task(
                        &binding.user_id,
                        &binding.remote_container_id,
                        &todo_new_task(local_id, fields, rules),
                    )
                    .await?;
                // Checklist items are created one request each: only linkedResources are
                // documented inline in a create (graph-facts §3.1). A crash before they are all
                // there leaves a marked task whose adoption sends the rest.
                let ops = fields
                    .get(&Field::Checklist)
                    .map(|target| todo_checklist_ops(&[], target))
                    .unwrap_or_default();
                if ops.is_empty() {
                    let mut created = created;
                    created.checklist_items = Some(Vec::new());
                    return Ok(todo_remote(&created, rules));
                }
                // Past the POST, a 404 means the new task was deleted (a person, seconds later),
                // not the list: a conflict to decide again, never the binding's breaker.
                let task_gone = |e: GraphError| match e {
                    GraphError::NotFound => GraphError::Conflict { status: 404 },
                    other => other,
                };
                apply_todo_checklist(self, binding, &created.id, Vec::new(), ops)
                    .await
                    .map_err(task_gone)?;
                // Every item write changed the task's ETag: read it back so the mapping records
                // the one the next notification will carry.
                let task = todo
                    .get_task(&binding.user_id, &binding.remote_container_id, &created.id)
                    .await
                    .map_err(task_gone)?;
                Ok(todo_remote(&task, rules))
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
                // No details yet (their own resource, §2.4): notes, checklist and the marker
                // come with `complete_create`, once the caller has recorded this id.
                let details = PlannerTaskDetails {
                    id: created.id.clone(),
                    description: None,
                    preview_type: None,
                    checklist: BTreeMap::new(),
                    references: BTreeMap::new(),
                    etag: None,
                };
                Ok(planner_remote(&created, &details, rules))
            }
        }
    }

    async fn complete_create(
        &self,
        binding: &Binding,
        rules: &SideRules,
        local_id: &str,
        current: &RemoteTask,
        patch: &FieldMap,
    ) -> Result<RemoteTask, GraphError> {
        match binding.remote {
            // The marker went with the create (§3.1): only what differs is left to send.
            RemoteKind::Todo if patch.is_empty() => Ok(current.clone()),
            RemoteKind::Todo => self.patch(binding, rules, current, patch).await,
            RemoteKind::Planner => {
                let planner = self.planner();
                let task_patch = planner_task_patch(patch, &current.fields, rules);
                if !task_patch_is_empty(&task_patch) {
                    // Only when the local task changed after the POST (a resumed create); the
                    // read below brings its new ETag.
                    let etag = current.task_etag.as_deref().unwrap_or("");
                    planner.update_task(&current.id, etag, &task_patch).await?;
                }
                let details_etag = match &current.details_etag {
                    Some(etag) => etag.clone(),
                    None => planner
                        .get_task_details(&current.id)
                        .await?
                        .etag
                        .ok_or_else(|| {
                            GraphError::Protocol("task details arrived without an ETag".to_owned())
                        })?,
                };
                // The marker, notes and checklist in one write (If-Match: a person's edit of
                // the details meanwhile answers 412 and the caller merges again).
                let mut details_patch = planner_details_patch(patch, &current.fields);
                let (key, reference) = planner_marker_reference(local_id);
                details_patch.references = Some(BTreeMap::from([(key, Some(reference))]));
                let details = planner
                    .update_task_details(&current.id, &details_etag, &details_patch)
                    .await?;
                // The details write changed the task's ETag (reference count): read it back so
                // the mapping records the ETag the next echo will carry.
                let task = planner.get_task(&current.id).await?;
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
                let todo = self.todo();
                let (user, list) = (&binding.user_id, &binding.remote_container_id);
                // The checklist first: its item ids are not part of the normalised value, so
                // they are read now (one request) and only the items that differ are written.
                let mut checklist = None;
                let mut wrote_checklist = false;
                if let Some(target) = patch.get(&Field::Checklist) {
                    let items = todo.list_checklist_items(user, list, &current.id).await?;
                    // To Do has no If-Match (§3.2); a checklist that changed since the merge's
                    // read is seen here, and the merge is made again rather than overwriting it.
                    if current
                        .fields
                        .get(&Field::Checklist)
                        .is_some_and(|seen| *seen != todo_checklist_of(&items))
                    {
                        return Err(GraphError::Conflict { status: 412 });
                    }
                    let ops = todo_checklist_ops(&items, target);
                    wrote_checklist = !ops.is_empty();
                    checklist =
                        Some(apply_todo_checklist(self, binding, &current.id, items, ops).await?);
                }
                let task_patch = todo_patch(patch, rules);
                let mut task = if !task_patch.is_empty() {
                    // The PATCH answers with the task after every write above: its ETag is final.
                    todo.update_task(user, list, &current.id, &task_patch)
                        .await?
                } else if wrote_checklist {
                    return todo
                        .get_task(user, list, &current.id)
                        .await
                        .map(|t| todo_remote(&t, rules));
                } else {
                    let mut same = current.clone();
                    if let Some(items) = &checklist {
                        same.fields
                            .insert(Field::Checklist, todo_checklist_of(items));
                    }
                    return Ok(same);
                };
                task.checklist_items = checklist;
                let mut result = todo_remote(&task, rules);
                if task.checklist_items.is_none()
                    && let Some(v) = current.fields.get(&Field::Checklist)
                {
                    result.fields.insert(Field::Checklist, v.clone());
                }
                Ok(result)
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn todo_items(list: &[(String, bool)]) -> Vec<TodoChecklistItem> {
        list.iter()
            .enumerate()
            .map(|(i, (title, checked))| TodoChecklistItem {
                id: format!("x{i}"),
                display_name: title.clone(),
                is_checked: *checked,
                checked_date_time: None,
                created_date_time: None,
            })
            .collect()
    }

    /// What To Do holds after `ops` (the emulator's effect, without HTTP).
    fn applied(current: &[TodoChecklistItem], ops: &[TodoChecklistOp]) -> Vec<(String, bool)> {
        let mut items: Vec<TodoChecklistItem> = current.to_vec();
        for op in ops {
            match op {
                TodoChecklistOp::Create(w) => items.push(TodoChecklistItem {
                    id: "new".into(),
                    display_name: w.display_name.clone().unwrap_or_default(),
                    is_checked: w.is_checked.unwrap_or(false),
                    checked_date_time: None,
                    created_date_time: None,
                }),
                TodoChecklistOp::Update { id, patch } => {
                    let item = items.iter_mut().find(|i| &i.id == id).unwrap();
                    if let Some(t) = &patch.display_name {
                        item.display_name = t.clone();
                    }
                    if let Some(c) = patch.is_checked {
                        item.is_checked = c;
                    }
                }
                TodoChecklistOp::Delete { id } => items.retain(|i| &i.id != id),
            }
        }
        items
            .into_iter()
            .map(|i| (i.display_name, i.is_checked))
            .collect()
    }

    /// Items of `a` not matched by an equal item of `b` (multiset difference).
    fn minus(a: &[(String, bool)], b: &[(String, bool)]) -> usize {
        let mut rest = b.to_vec();
        a.iter()
            .filter(|x| match rest.iter().position(|y| y == *x) {
                Some(i) => {
                    rest.remove(i);
                    false
                }
                None => true,
            })
            .count()
    }

    fn candidate(id: &str, title: &str, ours: bool, secs_after_claim: i64) -> RemoteTask {
        RemoteTask {
            id: id.into(),
            fields: FieldMap::from([(Field::Title, json!(title))]),
            task_etag: Some("e".into()),
            details_etag: None,
            last_modified: None,
            completed_at: None,
            marker: None,
            created_at: Some(claim_time() + chrono::Duration::seconds(secs_after_claim)),
            created_by_this_app: ours,
        }
    }

    fn claim_time() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn orphans_of_a_claim_are_ours_unmarked_same_title_since_the_claim_oldest_first() {
        let mut marked = candidate("marked", "T", true, 1);
        marked.marker = Some("X-9".into());
        let found = orphans_of_claim(
            claim_time(),
            claim_time() + chrono::Duration::seconds(60),
            &[json!("T"), json!("T, renamed")],
            vec![
                candidate("newer", "T", true, 30),
                candidate("in-flight", "T", true, 61),
                candidate("person", "T", false, 1),
                candidate("other-title", "U", true, 1),
                candidate("before-claim", "T", true, -3600),
                candidate("within-skew", "T", true, -5),
                candidate("under-the-new-title", "T, renamed", true, 40),
                marked,
            ],
        );
        let ids: Vec<&str> = found.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["within-skew", "newer", "under-the-new-title"]);
    }

    #[test]
    fn a_check_off_is_one_patch_of_that_item_only() {
        let current = todo_items(&[("milk".into(), false), ("eggs".into(), false)]);
        let target = json!([
            {"id": "a", "title": "milk", "checked": true},
            {"id": "b", "title": "eggs", "checked": false}
        ]);
        assert_eq!(
            todo_checklist_ops(&current, &target),
            vec![TodoChecklistOp::Update {
                id: "x0".into(),
                patch: TodoChecklistItemWrite {
                    display_name: None,
                    is_checked: Some(true)
                }
            }]
        );
        assert!(todo_checklist_ops(&current, &todo_checklist_of(&current)).is_empty());
    }

    proptest! {
        #[test]
        fn checklist_ops_reach_the_target_with_one_request_per_differing_item(
            current in prop::collection::vec(("[a-c]{0,2}", any::<bool>()), 0..7),
            target in prop::collection::vec(("[a-c]{0,2}", any::<bool>()), 0..7),
        ) {
            let items = todo_items(&current);
            let target_value = todo_checklist_value(&target);
            let ops = todo_checklist_ops(&items, &target_value);
            prop_assert_eq!(todo_checklist_value(&applied(&items, &ops)), target_value);
            // Each request fixes at most one stale and one missing item: this is the least.
            prop_assert_eq!(ops.len(), minus(&current, &target).max(minus(&target, &current)));
        }
    }
}
