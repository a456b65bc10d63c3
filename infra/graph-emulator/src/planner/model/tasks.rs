//! Tasks (docs/graph-behaviour.md §2.7, §2.8): creation in a plan, the limits on a plan's tasks,
//! paging a plan's task list, update with If-Match, and deletion. What each writable field
//! accepts lives in `task_fields`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::fields::reject_unknown;
use super::open_type;
use super::{
    Details, Plan, PlannerError, PlannerState, Precondition, WriteContext, bad, graph_time,
    is_valid_id, limit, new_id, not_found,
};
use crate::planner::etag::{EtagKind, etag};
use crate::planner::order_hint;

#[derive(Debug, Clone)]
pub(super) struct Assignment {
    pub(super) order_hint: String,
    pub(super) assigned_by: Value,
    pub(super) assigned: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub id: String,
    pub plan_id: String,
    pub(super) bucket_id: Option<String>,
    pub(super) title: String,
    pub(super) order_hint: String,
    pub(super) assignee_priority: String,
    pub(super) percent_complete: i32,
    pub(super) priority: i32,
    pub(super) start: Option<DateTime<Utc>>,
    pub(super) due: Option<DateTime<Utc>>,
    pub(super) created: DateTime<Utc>,
    pub(super) created_by: Value,
    pub(super) completed: Option<DateTime<Utc>>,
    pub(super) completed_by: Option<Value>,
    pub(super) conversation_thread_id: Option<String>,
    pub(super) categories: BTreeSet<u32>,
    pub(super) assignments: BTreeMap<String, Assignment>,
    pub version: u64,
    pub(super) seq: u64,
    pub details: Details,
}

impl Task {
    pub(super) fn is_active(&self) -> bool {
        self.percent_complete < 100
    }

    pub fn to_json(&self, with_details: bool) -> Value {
        let d = self.details.derived();
        let categories: Map<String, Value> = self
            .categories
            .iter()
            .map(|n| (format!("category{n}"), Value::Bool(true)))
            .collect();
        let assignments = open_type::to_json(&self.assignments, |a| {
            json!({
                "@odata.type": "#microsoft.graph.plannerAssignment",
                "assignedDateTime": graph_time(&a.assigned),
                "orderHint": a.order_hint,
                "assignedBy": a.assigned_by,
            })
        });
        let mut task = json!({
            "@odata.etag": etag(EtagKind::Task, self.version),
            "id": self.id,
            "planId": self.plan_id,
            "bucketId": self.bucket_id,
            "title": self.title,
            "orderHint": self.order_hint,
            "assigneePriority": self.assignee_priority,
            "percentComplete": self.percent_complete,
            "priority": self.priority,
            "startDateTime": self.start.as_ref().map(graph_time),
            "dueDateTime": self.due.as_ref().map(graph_time),
            "createdDateTime": graph_time(&self.created),
            "createdBy": self.created_by,
            "completedDateTime": self.completed.as_ref().map(graph_time),
            "completedBy": self.completed_by,
            "conversationThreadId": self.conversation_thread_id,
            "hasDescription": d.has_description,
            "previewType": d.preview_type,
            "referenceCount": d.references,
            "checklistItemCount": d.checklist_items,
            "activeChecklistItemCount": d.active_checklist_items,
            "appliedCategories": categories,
            "assignments": assignments,
        });
        if with_details && let Some(obj) = task.as_object_mut() {
            obj.insert("details".into(), self.details.to_json(&self.id));
        }
        task
    }
}

/// A page of a plan's task list.
pub struct TaskPage {
    pub tasks: Vec<Value>,
    /// The sequence number to continue after, if more tasks follow.
    pub next_after: Option<u64>,
}

const TASK_CREATE_FIELDS: &[&str] = &[
    "@odata.type",
    "planId",
    "bucketId",
    "title",
    "orderHint",
    "assigneePriority",
    "percentComplete",
    "priority",
    "startDateTime",
    "dueDateTime",
    "conversationThreadId",
    "appliedCategories",
    "assignments",
];

/// §2.7: the updatable task fields.
const TASK_PATCH_FIELDS: &[&str] = &[
    "@odata.type",
    "appliedCategories",
    "assigneePriority",
    "assignments",
    "bucketId",
    "conversationThreadId",
    "dueDateTime",
    "orderHint",
    "priority",
    "percentComplete",
    "startDateTime",
    "title",
];

impl PlannerState {
    /// One page of a plan's tasks (optionally only one bucket's), after sequence `after`.
    pub fn task_page(
        &self,
        plan_id: &str,
        bucket: Option<&str>,
        after: u64,
        page_size: usize,
        with_details: bool,
    ) -> Result<TaskPage, PlannerError> {
        let plan = self.plan(plan_id)?;
        let mut tasks = Vec::with_capacity(page_size.min(plan.tasks.len()));
        let mut last = None;
        let mut more = false;
        for (seq, id) in plan.tasks.range((Bound::Excluded(after), Bound::Unbounded)) {
            let Some(task) = self.tasks.get(id) else {
                continue;
            };
            if bucket.is_some_and(|b| task.bucket_id.as_deref() != Some(b)) {
                continue;
            }
            if tasks.len() >= page_size.max(1) {
                more = true;
                break;
            }
            tasks.push(task.to_json(with_details));
            last = Some(*seq);
        }
        Ok(TaskPage {
            tasks,
            next_after: if more { last } else { None },
        })
    }

    /// Creates one task in `plan_id` (§2.7 create rules, §2.8 limits).
    pub fn create_task(
        &mut self,
        body: &Map<String, Value>,
        ctx: &WriteContext<'_>,
    ) -> Result<&Task, PlannerError> {
        let task = self.build_task(body, ctx)?;
        self.check_task_limits(&task.plan_id, 1, usize::from(task.is_active()), ctx)?;
        Ok(self.insert_task(task))
    }

    /// Creates many tasks in one plan atomically (control API seeding).
    pub fn create_tasks(
        &mut self,
        plan_id: &str,
        bodies: &[Value],
        ctx: &WriteContext<'_>,
    ) -> Result<Vec<Value>, PlannerError> {
        self.plan(plan_id)?;
        let mut built = Vec::with_capacity(bodies.len());
        for (i, body) in bodies.iter().enumerate() {
            let Some(obj) = body.as_object() else {
                return Err(bad(format!("Task {i} must be a JSON object.")));
            };
            let mut obj = obj.clone();
            match obj.get("planId") {
                None => {
                    obj.insert("planId".into(), Value::String(plan_id.to_owned()));
                }
                Some(Value::String(p)) if p == plan_id => {}
                Some(_) => return Err(bad(format!("Task {i} names another plan."))),
            }
            let task = self.build_task(&obj, ctx).map_err(|e| match e {
                PlannerError::BadRequest(m) => bad(format!("Task {i}: {m}")),
                other => other,
            })?;
            built.push(task);
        }
        let active = built.iter().filter(|t| t.is_active()).count();
        self.check_task_limits(plan_id, built.len(), active, ctx)?;
        Ok(built
            .into_iter()
            .map(|t| self.insert_task(t).to_json(false))
            .collect())
    }

    fn check_task_limits(
        &self,
        plan_id: &str,
        new_tasks: usize,
        new_active: usize,
        ctx: &WriteContext<'_>,
    ) -> Result<(), PlannerError> {
        let plan = self.plan(plan_id)?;
        if plan.tasks.len() + new_tasks > ctx.config.max_tasks_per_plan {
            return Err(limit(
                "MaximumTasksInProject",
                format!(
                    "The plan already has the maximum number of tasks ({}).",
                    ctx.config.max_tasks_per_plan
                ),
            ));
        }
        self.check_active_limit(plan, new_active, ctx)
    }

    /// `new_active` more tasks below 100 % must stay within the plan's active-task limit.
    fn check_active_limit(
        &self,
        plan: &Plan,
        new_active: usize,
        ctx: &WriteContext<'_>,
    ) -> Result<(), PlannerError> {
        let max = ctx.config.max_active_tasks_per_plan;
        if new_active > 0 && plan.active_tasks + new_active > max {
            return Err(limit(
                "MaximumActiveTasksInProject",
                format!("The plan already has the maximum number of active tasks ({max})."),
            ));
        }
        Ok(())
    }

    fn insert_task(&mut self, task: Task) -> &Task {
        if let Some(plan) = self.plans.get_mut(&task.plan_id) {
            plan.tasks.insert(task.seq, task.id.clone());
            if task.is_active() {
                plan.active_tasks += 1;
            }
        }
        let id = task.id.clone();
        self.tasks.entry(id).or_insert(task)
    }

    fn build_task(
        &mut self,
        body: &Map<String, Value>,
        ctx: &WriteContext<'_>,
    ) -> Result<Task, PlannerError> {
        reject_unknown(body, TASK_CREATE_FIELDS, "a new task")?;
        let plan_id = match body.get("planId") {
            Some(Value::String(p)) => p.clone(),
            Some(_) => return Err(bad("'planId' must be a string.")),
            None => return Err(bad("'planId' is required to create a task.")),
        };
        if !is_valid_id(&plan_id) {
            return Err(bad(format!("'{plan_id}' is not a valid plan id.")));
        }
        self.plan(&plan_id)?;
        let seq = self.next_seq();
        let version = self.next_version();
        let details_version = self.next_version();
        let mut task = Task {
            id: new_id(),
            plan_id,
            bucket_id: None,
            title: String::new(),
            order_hint: order_hint::fresh_for_seq(seq),
            assignee_priority: String::new(),
            percent_complete: 0,
            priority: 5,
            start: None,
            due: None,
            created: ctx.now,
            created_by: ctx.actor.identity.clone(),
            completed: None,
            completed_by: None,
            conversation_thread_id: None,
            categories: BTreeSet::new(),
            assignments: BTreeMap::new(),
            version,
            seq,
            details: Details::new(details_version),
        };
        let mut fields = body.clone();
        fields.remove("planId");
        self.apply_task_fields(&mut task, &fields, true, ctx)?;
        Ok(task)
    }

    /// §2.7 update; `Precondition::None` is a person editing in the app (control API).
    pub fn update_task(
        &mut self,
        id: &str,
        precondition: Precondition<'_>,
        body: &Map<String, Value>,
        ctx: &WriteContext<'_>,
    ) -> Result<&Task, PlannerError> {
        reject_unknown(body, TASK_PATCH_FIELDS, "a task")?;
        let current = precondition.check(|| self.task(id), EtagKind::Task, |c| c.version)?;
        let mut updated = current.clone();
        self.apply_task_fields(&mut updated, body, false, ctx)?;
        let was_active = current.is_active();
        let plan_id = updated.plan_id.clone();
        if !was_active && updated.is_active() {
            self.check_active_limit(self.plan(&plan_id)?, 1, ctx)?;
        }
        updated.version = self.next_version();
        if let Some(plan) = self.plans.get_mut(&plan_id) {
            match (was_active, updated.is_active()) {
                (true, false) => plan.active_tasks = plan.active_tasks.saturating_sub(1),
                (false, true) => plan.active_tasks += 1,
                _ => {}
            }
        }
        let slot = self
            .tasks
            .get_mut(id)
            .ok_or_else(|| not_found("task", id))?;
        *slot = updated;
        Ok(slot)
    }

    pub fn delete_task(
        &mut self,
        id: &str,
        precondition: Precondition<'_>,
    ) -> Result<(), PlannerError> {
        precondition.check(|| self.task(id), EtagKind::Task, |c| c.version)?;
        if let Some(task) = self.tasks.remove(id)
            && let Some(plan) = self.plans.get_mut(&task.plan_id)
        {
            plan.tasks.remove(&task.seq);
            if task.is_active() {
                plan.active_tasks = plan.active_tasks.saturating_sub(1);
            }
        }
        Ok(())
    }
}
