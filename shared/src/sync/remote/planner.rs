//! A Planner plan as the engine's remote side: its Graph calls. A Planner task is two resources
//! with an ETag each (the task and its details, docs/graph-behaviour.md §2.4); the marker lives
//! in the details, so a create is a POST and then a details write; every write sends `If-Match`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::planner_fields::{
    details_patch_is_empty, planner_details_patch, planner_remote, planner_task_patch,
    task_patch_is_empty,
};
use super::{EarlierCreate, RemoteCall, RemoteSide, RemoteTask};
use crate::graph::models::{
    NewPlannerTask, PlannerTask, PlannerTaskDetails, planner_marker_reference,
};
use crate::graph::{GraphClient, GraphError};
use crate::model::Binding;
use crate::sync::failure::SyncFailure;
use crate::sync::fields::{Field, FieldMap, SideRules};

/// The fields a Planner task PATCH answers for (the details' fields come from the details).
const TASK_FIELDS: [Field; 8] = [
    Field::Title,
    Field::Progress,
    Field::Priority,
    Field::Due,
    Field::Start,
    Field::Assignees,
    Field::Categories,
    Field::Bucket,
];

pub struct PlannerPlan<'a> {
    graph: &'a GraphClient,
    binding: Binding,
    rules: SideRules,
}

/// Details not read yet (a new task has none until its details write).
fn no_details(task_id: &str, etag: Option<String>) -> PlannerTaskDetails {
    PlannerTaskDetails {
        id: task_id.to_owned(),
        description: None,
        preview_type: None,
        checklist: BTreeMap::new(),
        references: BTreeMap::new(),
        etag,
    }
}

impl<'a> PlannerPlan<'a> {
    pub fn new(graph: &'a GraphClient, binding: &Binding, rules: SideRules) -> Self {
        Self {
            graph,
            binding: binding.clone(),
            rules,
        }
    }

    fn plan(&self) -> &str {
        &self.binding.remote_container_id
    }

    /// [`planner_remote`], plus whether this application created it (its client id in
    /// `createdBy.application.id`, as Graph fills it for app-only calls).
    fn remote(&self, task: &PlannerTask, details: &PlannerTaskDetails) -> RemoteTask {
        let mut remote = planner_remote(task, details, &self.rules);
        remote.created_by_this_app =
            task.creating_application() == Some(self.graph.settings().client_id.as_str());
        remote
    }

    async fn get_task(&self, remote_id: &str) -> Result<Option<RemoteTask>, SyncFailure> {
        let planner = self.graph.planner();
        let task = match planner.get_task(remote_id).await {
            Ok(task) if task.plan_id != self.plan() => {
                // Moved to another plan: gone from this binding's point of view.
                return Ok(None);
            }
            Ok(task) => task,
            Err(GraphError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        match planner.get_task_details(remote_id).await {
            Ok(details) => Ok(Some(self.remote(&task, &details))),
            Err(GraphError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn list_tasks(&self) -> Result<Vec<RemoteTask>, SyncFailure> {
        let gone = |e| SyncFailure::of_container_call(&self.binding, "listing the plan", e);
        let planner = self.graph.planner();
        match planner.list_plan_tasks_with_details(self.plan()).await {
            Ok(tasks) if tasks.iter().all(|t| t.details.is_some()) => Ok(tasks
                .iter()
                .filter_map(|t| t.details.as_ref().map(|d| self.remote(t, d)))
                .collect()),
            Ok(_) | Err(GraphError::BadRequest { .. }) => {
                // The expansion is undocumented for listings (docs/graph-behaviour.md §2.7):
                // read the details twenty at a time through $batch instead.
                let tasks = planner.list_plan_tasks(self.plan()).await.map_err(gone)?;
                let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
                let details = planner.get_task_details_many(&ids).await?;
                let mut out = Vec::with_capacity(tasks.len());
                for (task, (_, d)) in tasks.iter().zip(details) {
                    match d {
                        Ok(d) => out.push(self.remote(task, &d)),
                        Err(GraphError::NotFound) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(out)
            }
            Err(e) => Err(gone(e)),
        }
    }

    /// One listing serves both searches: the marked task, or else the unmarked tasks of ours.
    async fn earlier_create(&self, local_id: &str) -> Result<EarlierCreate, SyncFailure> {
        let tasks = self.list_tasks().await?;
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

    async fn create_task(&self, fields: &FieldMap) -> Result<RemoteTask, SyncFailure> {
        let title = fields
            .get(&Field::Title)
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut new = NewPlannerTask::new(self.plan(), title);
        let task_part = planner_task_patch(fields, &FieldMap::new(), &self.rules);
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
        let created = self
            .graph
            .planner()
            .create_task(&new)
            .await
            .map_err(|e| SyncFailure::of_container_call(&self.binding, "creating a task", e))?;
        // No details yet (their own resource, §2.4): notes, checklist and the marker come with
        // `complete_create`, once the caller has recorded this id.
        Ok(planner_remote(
            &created,
            &no_details(&created.id, None),
            &self.rules,
        ))
    }

    async fn mark(
        &self,
        local_id: &str,
        current: &RemoteTask,
        patch: &FieldMap,
    ) -> Result<RemoteTask, SyncFailure> {
        let planner = self.graph.planner();
        let task_patch = planner_task_patch(patch, &current.fields, &self.rules);
        if !task_patch_is_empty(&task_patch) {
            // Only when the local task changed after the POST (a resumed create); the read
            // below brings its new ETag.
            let etag = current.task_etag.as_deref().unwrap_or("");
            planner.update_task(&current.id, etag, &task_patch).await?;
        }
        let details_etag = match &current.details_etag {
            Some(etag) => etag.clone(),
            None => planner
                .get_task_details(&current.id)
                .await?
                .etag
                .ok_or_else(|| SyncFailure::Config {
                    reason: "Planner task details arrived without an ETag".to_owned(),
                })?,
        };
        // The marker, notes and checklist in one write (If-Match: a person's edit of the
        // details meanwhile answers 412 and the caller merges again).
        let mut details_patch = planner_details_patch(patch, &current.fields);
        let (key, reference) = planner_marker_reference(local_id);
        details_patch.references = Some(BTreeMap::from([(key, Some(reference))]));
        let details = planner
            .update_task_details(&current.id, &details_etag, &details_patch)
            .await?;
        // The details write changed the task's ETag (reference count): read it back so the
        // mapping records the ETag the next echo will carry.
        let task = planner.get_task(&current.id).await?;
        Ok(planner_remote(&task, &details, &self.rules))
    }

    async fn patch_task(
        &self,
        current: &RemoteTask,
        patch: &FieldMap,
    ) -> Result<RemoteTask, SyncFailure> {
        let planner = self.graph.planner();
        let task_patch = planner_task_patch(patch, &current.fields, &self.rules);
        let details_patch = planner_details_patch(patch, &current.fields);
        let mut result = current.clone();
        if !task_patch_is_empty(&task_patch) {
            let etag = current.task_etag.as_deref().unwrap_or("");
            let task = planner.update_task(&current.id, etag, &task_patch).await?;
            let fresh = planner_remote(
                &task,
                &no_details(&current.id, current.details_etag.clone()),
                &self.rules,
            );
            for f in TASK_FIELDS {
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
            let fresh = planner_remote(&task, &details, &self.rules);
            result.fields = fresh.fields;
            result.task_etag = fresh.task_etag;
            result.details_etag = fresh.details_etag;
            result.marker = fresh.marker;
        }
        Ok(result)
    }

    async fn delete_task(&self, current: &RemoteTask) -> Result<(), SyncFailure> {
        let etag = current.task_etag.as_deref().unwrap_or("");
        match self.graph.planner().delete_task(&current.id, etag).await {
            Ok(()) | Err(GraphError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

impl RemoteSide for PlannerPlan<'_> {
    fn get<'a>(&'a self, remote_id: &'a str) -> RemoteCall<'a, Option<RemoteTask>> {
        Box::pin(self.get_task(remote_id))
    }

    fn list(&self) -> RemoteCall<'_, Vec<RemoteTask>> {
        Box::pin(self.list_tasks())
    }

    fn find_earlier_create<'a>(&'a self, local_id: &'a str) -> RemoteCall<'a, EarlierCreate> {
        Box::pin(self.earlier_create(local_id))
    }

    fn create<'a>(
        &'a self,
        _local_id: &'a str,
        fields: &'a FieldMap,
    ) -> RemoteCall<'a, RemoteTask> {
        Box::pin(self.create_task(fields))
    }

    fn complete_create<'a>(
        &'a self,
        local_id: &'a str,
        current: &'a RemoteTask,
        patch: &'a FieldMap,
    ) -> RemoteCall<'a, RemoteTask> {
        Box::pin(self.mark(local_id, current, patch))
    }

    fn patch<'a>(
        &'a self,
        current: &'a RemoteTask,
        patch: &'a FieldMap,
    ) -> RemoteCall<'a, RemoteTask> {
        Box::pin(self.patch_task(current, patch))
    }

    fn delete<'a>(&'a self, current: &'a RemoteTask) -> RemoteCall<'a, ()> {
        Box::pin(self.delete_task(current))
    }
}
