//! Planner's data and its rules (graph-facts §2): what a write may change, the open types and
//! their `@odata.type` requirement, the 403 limits, the counters a task derives from its details,
//! and the JSON Graph shows. Handlers in `planner.rs` only translate HTTP to these calls.
//!
//! Writes validate on a copy and commit only when every rule passed, so a rejected PATCH never
//! leaves a half-applied change behind.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rand::Rng;
use serde_json::{Map, Value, json};

use super::etag::{EtagKind, IfMatch, compare, etag};
use super::order_hint::{self, OrderHintError};
use crate::config::EmulatorConfig;
use crate::errors::graph_error;

/// Planner ids are 28 characters, case-sensitive (§2.1).
pub const ID_LEN: usize = 28;
const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub fn new_id() -> String {
    let mut rng = rand::rng();
    (0..ID_LEN)
        .map(|_| {
            let i = rng.random_range(0..ID_ALPHABET.len());
            char::from(ID_ALPHABET.get(i).copied().unwrap_or(b'A'))
        })
        .collect()
}

pub fn is_valid_id(id: &str) -> bool {
    id.len() == ID_LEN && id.bytes().all(|b| ID_ALPHABET.contains(&b))
}

/// Why a Planner request failed, split by what the client should do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlannerError {
    /// Fix the request.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// A documented 403 limit (§2.8); `code` is the error code clients branch on.
    #[error("{message}")]
    Limit { code: &'static str, message: String },
    /// Re-read and retry (§2.6).
    #[error("The If-Match header does not match the current version of the item.")]
    PreconditionFailed,
    #[error("The If-Match header must be specified for this kind of request.")]
    MissingIfMatch,
    /// An ETag of another kind of resource (e.g. the task's sent to its details, §2.4).
    #[error("The If-Match header contains an invalid value.")]
    InvalidIfMatch,
}

impl From<OrderHintError> for PlannerError {
    fn from(e: OrderHintError) -> Self {
        PlannerError::BadRequest(e.to_string())
    }
}

impl IntoResponse for PlannerError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        match self {
            PlannerError::BadRequest(_)
            | PlannerError::MissingIfMatch
            | PlannerError::InvalidIfMatch => {
                graph_error(StatusCode::BAD_REQUEST, "invalidRequest", &message)
            }
            PlannerError::NotFound(_) => {
                graph_error(StatusCode::NOT_FOUND, "itemNotFound", &message)
            }
            PlannerError::Limit { code, .. } => graph_error(StatusCode::FORBIDDEN, code, &message),
            PlannerError::PreconditionFailed => graph_error(
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
                &message,
            ),
        }
    }
}

fn bad(message: impl Into<String>) -> PlannerError {
    PlannerError::BadRequest(message.into())
}

/// The application a person's writes come through (the Planner app). A stand-in id: what
/// matters is that it is not the client id of the app calling Graph.
pub const PLANNER_APP_ID: &str = "00000000-0000-0000-0000-00000000a11e";

/// Who is writing: the app through Graph, or a person in the Planner app (control API).
#[derive(Debug, Clone)]
pub struct Actor {
    identity: Value,
}

impl Actor {
    pub fn app(config: &EmulatorConfig) -> Self {
        Actor {
            identity: json!({"user": null, "application": {"id": config.client_id, "displayName": null}}),
        }
    }

    /// A delegated write names the user and the app they used (here: the Planner app).
    pub fn person(config: &EmulatorConfig) -> Self {
        Actor {
            identity: json!({
                "user": {"id": config.user_id, "displayName": null},
                "application": {"id": PLANNER_APP_ID, "displayName": null},
            }),
        }
    }
}

/// Everything a write needs besides the data itself.
pub struct WriteContext<'a> {
    pub config: &'a EmulatorConfig,
    pub now: DateTime<Utc>,
    pub actor: Actor,
}

/// Graph's DateTimeOffset text: UTC, `Z`, fractional seconds only when there are any (7 digits,
/// as Graph shows them).
pub fn graph_time(t: &DateTime<Utc>) -> String {
    let nanos = t.timestamp_subsec_nanos();
    if nanos == 0 {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        format!("{}.{:07}Z", t.format("%Y-%m-%dT%H:%M:%S"), nanos / 100)
    }
}

fn parse_time(field: &str, value: &Value) -> Result<Option<DateTime<Utc>>, PlannerError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                bad(format!(
                    "'{field}' must be an ISO 8601 date and time with offset."
                ))
            }),
        _ => Err(bad(format!("'{field}' must be a string or null."))),
    }
}

fn as_string(field: &str, value: &Value) -> Result<String, PlannerError> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| bad(format!("'{field}' must be a string.")))
}

fn as_int(
    field: &str,
    value: &Value,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i32, PlannerError> {
    value
        .as_i64()
        .filter(|v| range.contains(v))
        .and_then(|v| i32::try_from(v).ok())
        .ok_or_else(|| {
            bad(format!(
                "'{field}' must be an integer from {} to {}.",
                range.start(),
                range.end()
            ))
        })
}

/// Open-type values must name their type (§2.2, §2.4); `#` is optional on input.
fn check_odata_type(
    field: &str,
    value: &Map<String, Value>,
    accepted: &[&str],
) -> Result<(), PlannerError> {
    let given = value.get("@odata.type").and_then(Value::as_str);
    match given {
        Some(t) if accepted.contains(&t.trim_start_matches('#')) => Ok(()),
        Some(t) => Err(bad(format!(
            "The '@odata.type' '{t}' is not valid for '{field}'; expected '#{}'.",
            accepted.first().copied().unwrap_or_default()
        ))),
        None => Err(bad(format!(
            "The values of '{field}' are of an open type and must include '@odata.type' ('#{}').",
            accepted.first().copied().unwrap_or_default()
        ))),
    }
}

const PREVIEW_TYPES: [&str; 5] = [
    "automatic",
    "noPreview",
    "checklist",
    "description",
    "reference",
];

/// §2.3 DISCREPANCY: 6 or 25 categories; the emulator accepts the larger set.
const MAX_CATEGORY: u32 = 25;

#[derive(Debug, Clone)]
pub struct Plan {
    pub id: String,
    pub title: String,
    pub owner: String,
    pub created: DateTime<Utc>,
    pub created_by: Value,
    pub version: u64,
    /// The plan's tasks in list order (creation order), keyed by sequence number, so a page
    /// is a range read and deletions never shift a cursor.
    tasks: BTreeMap<u64, String>,
    buckets: Vec<String>,
    active_tasks: usize,
}

impl Plan {
    pub fn to_json(&self) -> Value {
        json!({
            "@odata.etag": etag(EtagKind::Plan, self.version),
            "id": self.id,
            "title": self.title,
            "owner": self.owner,
            "createdDateTime": graph_time(&self.created),
            "createdBy": self.created_by,
            "container": {
                "@odata.type": "#microsoft.graph.plannerPlanContainer",
                "containerId": self.owner,
                "type": "group",
                "url": format!("https://graph.microsoft.com/v1.0/groups/{}", self.owner),
            },
        })
    }
}

#[derive(Debug, Clone)]
pub struct Bucket {
    pub id: String,
    pub name: String,
    pub plan_id: String,
    pub order_hint: String,
    pub version: u64,
}

impl Bucket {
    pub fn to_json(&self) -> Value {
        json!({
            "@odata.etag": etag(EtagKind::Bucket, self.version),
            "id": self.id,
            "name": self.name,
            "planId": self.plan_id,
            "orderHint": self.order_hint,
        })
    }
}

#[derive(Debug, Clone)]
struct Assignment {
    order_hint: String,
    assigned_by: Value,
    assigned: DateTime<Utc>,
}

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
struct Derived {
    has_description: bool,
    preview_type: String,
    checklist_items: usize,
    active_checklist_items: usize,
    references: usize,
}

impl Details {
    fn derived(&self) -> Derived {
        Derived {
            has_description: !self.description.is_empty(),
            preview_type: self.preview_type.clone(),
            checklist_items: self.checklist.len(),
            active_checklist_items: self.checklist.values().filter(|c| !c.is_checked).count(),
            references: self.references.len(),
        }
    }

    pub fn to_json(&self, task_id: &str) -> Value {
        let checklist: Map<String, Value> = self
            .checklist
            .iter()
            .map(|(k, c)| {
                (
                    k.clone(),
                    json!({
                        "@odata.type": "#microsoft.graph.plannerChecklistItem",
                        "isChecked": c.is_checked,
                        "title": c.title,
                        "orderHint": c.order_hint,
                        "lastModifiedDateTime": graph_time(&c.last_modified),
                        "lastModifiedBy": c.last_modified_by,
                    }),
                )
            })
            .collect();
        let references: Map<String, Value> = self
            .references
            .iter()
            .map(|(k, r)| {
                (
                    k.clone(),
                    json!({
                        "@odata.type": "#microsoft.graph.plannerExternalReference",
                        "alias": r.alias,
                        "type": r.kind,
                        "previewPriority": r.preview_priority,
                        "lastModifiedDateTime": graph_time(&r.last_modified),
                        "lastModifiedBy": r.last_modified_by,
                    }),
                )
            })
            .collect();
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

#[derive(Debug, Clone)]
pub struct Task {
    pub id: String,
    pub plan_id: String,
    bucket_id: Option<String>,
    title: String,
    order_hint: String,
    assignee_priority: String,
    percent_complete: i32,
    priority: i32,
    start: Option<DateTime<Utc>>,
    due: Option<DateTime<Utc>>,
    created: DateTime<Utc>,
    created_by: Value,
    completed: Option<DateTime<Utc>>,
    completed_by: Option<Value>,
    conversation_thread_id: Option<String>,
    categories: BTreeSet<u32>,
    assignments: BTreeMap<String, Assignment>,
    pub version: u64,
    seq: u64,
    pub details: Details,
}

impl Task {
    fn is_active(&self) -> bool {
        self.percent_complete < 100
    }

    pub fn to_json(&self, with_details: bool) -> Value {
        let d = self.details.derived();
        let categories: Map<String, Value> = self
            .categories
            .iter()
            .map(|n| (format!("category{n}"), Value::Bool(true)))
            .collect();
        let assignments: Map<String, Value> = self
            .assignments
            .iter()
            .map(|(user, a)| {
                (
                    user.clone(),
                    json!({
                        "@odata.type": "#microsoft.graph.plannerAssignment",
                        "assignedDateTime": graph_time(&a.assigned),
                        "orderHint": a.order_hint,
                        "assignedBy": a.assigned_by,
                    }),
                )
            })
            .collect();
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

#[derive(Default)]
pub struct PlannerState {
    plans: HashMap<String, Plan>,
    buckets: HashMap<String, Bucket>,
    tasks: HashMap<String, Task>,
    /// One version counter for all Planner resources (see `etag.rs`).
    last_version: u64,
    last_seq: u64,
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

const DETAILS_PATCH_FIELDS: &[&str] = &[
    "@odata.type",
    "description",
    "previewType",
    "checklist",
    "references",
];

fn reject_unknown(
    body: &Map<String, Value>,
    allowed: &[&str],
    what: &str,
) -> Result<(), PlannerError> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(bad(format!(
            "The property '{k}' cannot be written on {what}."
        ))),
        None => Ok(()),
    }
}

fn check_precondition(
    if_match: Option<&str>,
    kind: EtagKind,
    version: u64,
) -> Result<(), PlannerError> {
    let Some(given) = if_match else {
        return Ok(());
    };
    match compare(given, kind, version) {
        IfMatch::Current => Ok(()),
        IfMatch::Stale => Err(PlannerError::PreconditionFailed),
        IfMatch::Invalid => Err(PlannerError::InvalidIfMatch),
    }
}

/// Whether a write must carry `If-Match` (Graph) or not (a person in the app).
#[derive(Debug, Clone, Copy)]
pub enum Precondition<'a> {
    IfMatch(Option<&'a str>),
    None,
}

impl<'a> Precondition<'a> {
    fn given(self) -> Result<Option<&'a str>, PlannerError> {
        match self {
            Precondition::IfMatch(None) => Err(PlannerError::MissingIfMatch),
            Precondition::IfMatch(Some(v)) => Ok(Some(v)),
            Precondition::None => Ok(None),
        }
    }
}

impl PlannerState {
    fn next_version(&mut self) -> u64 {
        self.last_version += 1;
        self.last_version
    }

    fn next_seq(&mut self) -> u64 {
        self.last_seq += 1;
        self.last_seq
    }

    pub fn plan(&self, id: &str) -> Result<&Plan, PlannerError> {
        self.plans
            .get(id)
            .ok_or_else(|| PlannerError::NotFound(format!("The plan '{id}' was not found.")))
    }

    pub fn bucket(&self, id: &str) -> Result<&Bucket, PlannerError> {
        self.buckets
            .get(id)
            .ok_or_else(|| PlannerError::NotFound(format!("The bucket '{id}' was not found.")))
    }

    pub fn task(&self, id: &str) -> Result<&Task, PlannerError> {
        self.tasks
            .get(id)
            .ok_or_else(|| PlannerError::NotFound(format!("The task '{id}' was not found.")))
    }

    pub fn plans_of_group(&self, group: &str) -> Vec<Value> {
        let mut plans: Vec<&Plan> = self.plans.values().filter(|p| p.owner == group).collect();
        plans.sort_by_key(|p| p.created);
        plans.iter().map(|p| p.to_json()).collect()
    }

    /// §2.7a: a plan owned by a group; the group must exist (only the seeded one does).
    pub fn create_plan(
        &mut self,
        id: Option<String>,
        title: String,
        group: &str,
        ctx: &WriteContext<'_>,
    ) -> Result<&Plan, PlannerError> {
        if group != ctx.config.group_id {
            return Err(PlannerError::NotFound(format!(
                "The group '{group}' that should contain the plan was not found."
            )));
        }
        let owned = self.plans.values().filter(|p| p.owner == group).count();
        if owned >= ctx.config.max_plans_per_group {
            return Err(PlannerError::Limit {
                code: "MaximumPlannerPlans",
                message: format!(
                    "The group already owns the maximum number of plans ({}).",
                    ctx.config.max_plans_per_group
                ),
            });
        }
        let id = match id {
            Some(id) if !is_valid_id(&id) => {
                return Err(bad(format!(
                    "'{id}' is not a valid Planner id (28 characters)."
                )));
            }
            Some(id) if self.plans.contains_key(&id) => {
                return Err(bad(format!("A plan with id '{id}' already exists.")));
            }
            Some(id) => id,
            None => new_id(),
        };
        let version = self.next_version();
        let plan = Plan {
            id: id.clone(),
            title,
            owner: group.to_owned(),
            created: ctx.now,
            created_by: ctx.actor.identity.clone(),
            version,
            tasks: BTreeMap::new(),
            buckets: Vec::new(),
            active_tasks: 0,
        };
        Ok(self.plans.entry(id).or_insert(plan))
    }

    pub fn create_bucket(
        &mut self,
        body: &Map<String, Value>,
        ctx: &WriteContext<'_>,
    ) -> Result<&Bucket, PlannerError> {
        reject_unknown(
            body,
            &["@odata.type", "name", "planId", "orderHint"],
            "a bucket",
        )?;
        let name = body
            .get("name")
            .map(|v| as_string("name", v))
            .transpose()?
            .ok_or_else(|| bad("'name' is required."))?;
        let plan_id = body
            .get("planId")
            .map(|v| as_string("planId", v))
            .transpose()?
            .ok_or_else(|| bad("'planId' is required."))?;
        let plan_buckets = self.plan(&plan_id)?.buckets.len();
        if plan_buckets >= ctx.config.max_buckets_per_plan {
            return Err(PlannerError::Limit {
                code: "MaximumBucketsInProject",
                message: format!(
                    "The plan already has the maximum number of buckets ({}).",
                    ctx.config.max_buckets_per_plan
                ),
            });
        }
        let seq = self.next_seq();
        let order_hint = match body.get("orderHint") {
            None | Some(Value::Null) => order_hint::fresh_for_seq(seq),
            Some(v) => order_hint::resolve(&as_string("orderHint", v)?, || {
                order_hint::fresh_for_seq(seq)
            })?,
        };
        let version = self.next_version();
        let id = new_id();
        if let Some(plan) = self.plans.get_mut(&plan_id) {
            plan.buckets.push(id.clone());
        }
        let bucket = Bucket {
            id: id.clone(),
            name,
            plan_id,
            order_hint,
            version,
        };
        Ok(self.buckets.entry(id).or_insert(bucket))
    }

    /// Plan update: only `title` is writable here (the container cannot change, §2.7a).
    pub fn update_plan(
        &mut self,
        id: &str,
        precondition: Precondition<'_>,
        body: &Map<String, Value>,
    ) -> Result<&Plan, PlannerError> {
        reject_unknown(body, &["@odata.type", "title"], "a plan")?;
        let given = precondition.given()?;
        let current = self.plan(id)?;
        check_precondition(given, EtagKind::Plan, current.version)?;
        let title = match body.get("title") {
            None => None,
            Some(v) => Some(as_string("title", v)?),
        };
        let version = self.next_version();
        let plan = self
            .plans
            .get_mut(id)
            .ok_or_else(|| PlannerError::NotFound(format!("The plan '{id}' was not found.")))?;
        if let Some(t) = title {
            plan.title = t;
        }
        plan.version = version;
        Ok(plan)
    }

    /// Deleting a plan deletes its buckets and tasks.
    pub fn delete_plan(
        &mut self,
        id: &str,
        precondition: Precondition<'_>,
    ) -> Result<(), PlannerError> {
        let given = precondition.given()?;
        check_precondition(given, EtagKind::Plan, self.plan(id)?.version)?;
        if let Some(plan) = self.plans.remove(id) {
            for task in plan.tasks.values() {
                self.tasks.remove(task);
            }
            for bucket in &plan.buckets {
                self.buckets.remove(bucket);
            }
        }
        Ok(())
    }

    pub fn update_bucket(
        &mut self,
        id: &str,
        precondition: Precondition<'_>,
        body: &Map<String, Value>,
    ) -> Result<&Bucket, PlannerError> {
        reject_unknown(body, &["@odata.type", "name", "orderHint"], "a bucket")?;
        let given = precondition.given()?;
        let current = self.bucket(id)?;
        check_precondition(given, EtagKind::Bucket, current.version)?;
        let name = match body.get("name") {
            None => None,
            Some(v) => Some(as_string("name", v)?),
        };
        let seq = self.next_seq();
        let hint = match body.get("orderHint") {
            None => None,
            Some(v) => Some(order_hint::resolve(&as_string("orderHint", v)?, || {
                order_hint::fresh_for_seq(seq)
            })?),
        };
        let version = self.next_version();
        let bucket = self
            .buckets
            .get_mut(id)
            .ok_or_else(|| PlannerError::NotFound(format!("The bucket '{id}' was not found.")))?;
        if let Some(n) = name {
            bucket.name = n;
        }
        if let Some(h) = hint {
            bucket.order_hint = h;
        }
        bucket.version = version;
        Ok(bucket)
    }

    /// Deleting a bucket deletes the tasks in it, as in the Planner app.
    pub fn delete_bucket(
        &mut self,
        id: &str,
        precondition: Precondition<'_>,
    ) -> Result<(), PlannerError> {
        let given = precondition.given()?;
        check_precondition(given, EtagKind::Bucket, self.bucket(id)?.version)?;
        let Some(bucket) = self.buckets.remove(id) else {
            return Ok(());
        };
        let Some(plan) = self.plans.get_mut(&bucket.plan_id) else {
            return Ok(());
        };
        plan.buckets.retain(|b| b != id);
        let doomed: Vec<(u64, String)> = plan
            .tasks
            .iter()
            .filter(|(_, t)| {
                self.tasks
                    .get(*t)
                    .is_some_and(|t| t.bucket_id.as_deref() == Some(id))
            })
            .map(|(s, t)| (*s, t.clone()))
            .collect();
        for (seq, task_id) in doomed {
            plan.tasks.remove(&seq);
            if let Some(task) = self.tasks.remove(&task_id)
                && task.is_active()
            {
                plan.active_tasks = plan.active_tasks.saturating_sub(1);
            }
        }
        Ok(())
    }

    pub fn buckets_of_plan(&self, plan_id: &str) -> Result<Vec<Value>, PlannerError> {
        let plan = self.plan(plan_id)?;
        Ok(plan
            .buckets
            .iter()
            .filter_map(|b| self.buckets.get(b))
            .map(Bucket::to_json)
            .collect())
    }

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
            return Err(PlannerError::Limit {
                code: "MaximumTasksInProject",
                message: format!(
                    "The plan already has the maximum number of tasks ({}).",
                    ctx.config.max_tasks_per_plan
                ),
            });
        }
        if new_active > 0 && plan.active_tasks + new_active > ctx.config.max_active_tasks_per_plan {
            return Err(PlannerError::Limit {
                code: "MaximumActiveTasksInProject",
                message: format!(
                    "The plan already has the maximum number of active tasks ({}).",
                    ctx.config.max_active_tasks_per_plan
                ),
            });
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
            details: Details {
                description: String::new(),
                preview_type: "automatic".into(),
                checklist: BTreeMap::new(),
                references: BTreeMap::new(),
                version: details_version,
            },
        };
        let mut fields = body.clone();
        fields.remove("planId");
        self.apply_task_fields(&mut task, &fields, true, ctx)?;
        Ok(task)
    }

    /// Applies writable task fields to `task` (a copy), enforcing every rule.
    fn apply_task_fields(
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

    /// §2.7 update; `Precondition::None` is a person editing in the app (control API).
    pub fn update_task(
        &mut self,
        id: &str,
        precondition: Precondition<'_>,
        body: &Map<String, Value>,
        ctx: &WriteContext<'_>,
    ) -> Result<&Task, PlannerError> {
        reject_unknown(body, TASK_PATCH_FIELDS, "a task")?;
        let given = precondition.given()?;
        let current = self.task(id)?;
        check_precondition(given, EtagKind::Task, current.version)?;
        let mut updated = current.clone();
        self.apply_task_fields(&mut updated, body, false, ctx)?;
        let was_active = current.is_active();
        let plan_id = updated.plan_id.clone();
        if !was_active && updated.is_active() {
            let plan = self.plan(&plan_id)?;
            if plan.active_tasks >= ctx.config.max_active_tasks_per_plan {
                return Err(PlannerError::Limit {
                    code: "MaximumActiveTasksInProject",
                    message: format!(
                        "The plan already has the maximum number of active tasks ({}).",
                        ctx.config.max_active_tasks_per_plan
                    ),
                });
            }
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
            .ok_or_else(|| PlannerError::NotFound(format!("The task '{id}' was not found.")))?;
        *slot = updated;
        Ok(slot)
    }

    pub fn delete_task(
        &mut self,
        id: &str,
        precondition: Precondition<'_>,
    ) -> Result<(), PlannerError> {
        let given = precondition.given()?;
        let current = self.task(id)?;
        check_precondition(given, EtagKind::Task, current.version)?;
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
        let given = precondition.given()?;
        let current = self.task(id)?;
        check_precondition(given, EtagKind::TaskDetails, current.details.version)?;
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
            .ok_or_else(|| PlannerError::NotFound(format!("The task '{id}' was not found.")))?;
        task.details = details;
        if let Some(v) = task_version {
            task.version = v;
        }
        Ok(task)
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

fn apply_assignments(
    task: &mut Task,
    value: &Value,
    creating: bool,
    ctx: &WriteContext<'_>,
) -> Result<(), PlannerError> {
    let Value::Object(map) = value else {
        return Err(bad("'assignments' must be an object."));
    };
    if map.is_empty() && !creating {
        return Err(bad("'assignments' must not be an empty object."));
    }
    for (user, v) in map {
        if user == "@odata.type" {
            continue;
        }
        if user.is_empty() {
            return Err(bad("An assignment key must be a user id."));
        }
        match v {
            Value::Null => {
                task.assignments.remove(user);
            }
            Value::Object(a) => {
                check_odata_type("assignments", a, &["microsoft.graph.plannerAssignment"])?;
                let seq = task.seq;
                let hint = match a.get("orderHint") {
                    None | Some(Value::Null) => None,
                    Some(h) => Some(order_hint::resolve(&as_string("orderHint", h)?, || {
                        order_hint::fresh_for_seq(seq)
                    })?),
                };
                match task.assignments.get_mut(user) {
                    Some(existing) => {
                        if let Some(h) = hint {
                            existing.order_hint = h;
                        }
                    }
                    None => {
                        task.assignments.insert(
                            user.clone(),
                            Assignment {
                                order_hint: hint.unwrap_or_else(|| order_hint::fresh_for_seq(seq)),
                                assigned_by: ctx.actor.identity.clone(),
                                assigned: ctx.now,
                            },
                        );
                    }
                }
            }
            _ => {
                return Err(bad(format!(
                    "The assignment for '{user}' must be an object or null."
                )));
            }
        }
    }
    if task.assignments.len() > ctx.config.max_assignees_per_task {
        return Err(PlannerError::Limit {
            code: "MaximumAssigneesInTasks",
            message: format!(
                "A task can have at most {} assignees.",
                ctx.config.max_assignees_per_task
            ),
        });
    }
    Ok(())
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

fn apply_checklist(
    details: &mut Details,
    value: &Value,
    ctx: &WriteContext<'_>,
) -> Result<(), PlannerError> {
    let Value::Object(map) = value else {
        return Err(bad("'checklist' must be an object."));
    };
    for (key, v) in map {
        if key == "@odata.type" {
            continue;
        }
        if key.is_empty() {
            return Err(bad("A checklist item key must not be empty."));
        }
        match v {
            Value::Null => {
                details.checklist.remove(key);
            }
            Value::Object(item) => {
                check_odata_type("checklist", item, &["microsoft.graph.plannerChecklistItem"])?;
                let title = item
                    .get("title")
                    .map(|t| as_string("title", t))
                    .transpose()?;
                let is_checked = match item.get("isChecked") {
                    None | Some(Value::Null) => None,
                    Some(Value::Bool(b)) => Some(*b),
                    Some(_) => return Err(bad("'isChecked' must be true or false.")),
                };
                let hint = match item.get("orderHint") {
                    None | Some(Value::Null) => None,
                    Some(h) => Some(order_hint::resolve(&as_string("orderHint", h)?, || {
                        fresh_now(ctx)
                    })?),
                };
                match details.checklist.get_mut(key) {
                    Some(existing) => {
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
                    }
                    None => {
                        let title = title.ok_or_else(|| {
                            bad(format!("The new checklist item '{key}' needs a 'title'."))
                        })?;
                        details.checklist.insert(
                            key.clone(),
                            ChecklistItem {
                                title,
                                is_checked: is_checked.unwrap_or(false),
                                order_hint: hint.unwrap_or_else(|| fresh_now(ctx)),
                                last_modified_by: ctx.actor.identity.clone(),
                                last_modified: ctx.now,
                            },
                        );
                    }
                }
            }
            _ => {
                return Err(bad(format!(
                    "The checklist item '{key}' must be an object or null."
                )));
            }
        }
    }
    if details.checklist.len() > ctx.config.max_checklist_items_per_task {
        return Err(PlannerError::Limit {
            code: "MaximumChecklistItemsOnTask",
            message: format!(
                "A task can have at most {} checklist items.",
                ctx.config.max_checklist_items_per_task
            ),
        });
    }
    Ok(())
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

fn apply_references(
    details: &mut Details,
    value: &Value,
    ctx: &WriteContext<'_>,
) -> Result<(), PlannerError> {
    let Value::Object(map) = value else {
        return Err(bad("'references' must be an object."));
    };
    for (key, v) in map {
        if key == "@odata.type" {
            continue;
        }
        check_reference_key(key)?;
        match v {
            Value::Null => {
                details.references.remove(key);
            }
            Value::Object(r) => {
                // §2.4 DISCREPANCY: one doc example uses `microsoft.graph.externalReference`.
                check_odata_type(
                    "references",
                    r,
                    &[
                        "microsoft.graph.plannerExternalReference",
                        "microsoft.graph.externalReference",
                    ],
                )?;
                let alias = match r.get("alias") {
                    None | Some(Value::Null) => None,
                    Some(a) => Some(as_string("alias", a)?),
                };
                let kind = match r.get("type") {
                    None | Some(Value::Null) => None,
                    Some(t) => Some(as_string("type", t)?),
                };
                let priority = match r.get("previewPriority") {
                    None | Some(Value::Null) => None,
                    Some(p) => Some(order_hint::resolve(
                        &as_string("previewPriority", p)?,
                        || fresh_now(ctx),
                    )?),
                };
                let entry = details
                    .references
                    .entry(key.clone())
                    .or_insert_with(|| Reference {
                        alias: None,
                        kind: None,
                        preview_priority: fresh_now(ctx),
                        last_modified_by: ctx.actor.identity.clone(),
                        last_modified: ctx.now,
                    });
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
            }
            _ => {
                return Err(bad(format!(
                    "The reference '{key}' must be an object or null."
                )));
            }
        }
    }
    if details.references.len() > ctx.config.max_references_per_task {
        return Err(PlannerError::Limit {
            code: "MaximumReferencesOnTask",
            message: format!(
                "A task can have at most {} references.",
                ctx.config.max_references_per_task
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_28_chars() {
        let id = new_id();
        assert_eq!(id.len(), 28);
        assert!(is_valid_id(&id));
        assert!(!is_valid_id("short"));
    }

    #[test]
    fn graph_time_shows_seven_fraction_digits_only_when_needed() {
        let t = DateTime::parse_from_rfc3339("2014-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(graph_time(&t), "2014-01-01T00:00:00Z");
        let t = DateTime::parse_from_rfc3339("2015-03-30T18:36:49.2407981Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(graph_time(&t), "2015-03-30T18:36:49.2407981Z");
    }

    #[test]
    fn reference_keys_must_be_encoded() {
        assert!(check_reference_key("https%3A//contoso%2Ecom/a").is_ok());
        assert!(check_reference_key("https://contoso.com/a").is_err());
    }
}
