//! Planner calls (docs/graph-behaviour.md §2.7). Writes carry `If-Match` with the last known ETag
//! (§2.6); task updates ask for `Prefer: return=representation` so the new representation and ETag
//! come back without an extra read.

use reqwest::Method;
use reqwest::header::{HeaderName, IF_MATCH};

use super::GraphClient;
use super::GraphError;
use super::batch::BatchRequest;
use super::models::{
    NewPlannerTask, PlannerTask, PlannerTaskDetails, PlannerTaskDetailsPatch, PlannerTaskPatch,
};
use super::request::{GraphRequest, GraphResponse, Operation, TASKS_READ, TASKS_WRITE, to_json};

pub(crate) const LIST_PLAN_TASKS: Operation =
    Operation::new("planner.list_plan_tasks", TASKS_READ, true);
pub(crate) const GET_TASK: Operation = Operation::new("planner.get_task", TASKS_READ, true);
pub(crate) const GET_DETAILS: Operation =
    Operation::new("planner.get_task_details", TASKS_READ, true);
pub(crate) const CREATE_TASK: Operation = Operation::new("planner.create_task", TASKS_WRITE, false);
pub(crate) const UPDATE_TASK: Operation = Operation::new("planner.update_task", TASKS_WRITE, true);
pub(crate) const UPDATE_DETAILS: Operation =
    Operation::new("planner.update_task_details", TASKS_WRITE, true);
pub(crate) const DELETE_TASK: Operation = Operation::new("planner.delete_task", TASKS_WRITE, true);

const PREFER: HeaderName = HeaderName::from_static("prefer");
const RETURN_REPRESENTATION: &str = "return=representation";

/// Planner operations; get one with [`GraphClient::planner`].
#[derive(Debug, Clone, Copy)]
pub struct PlannerApi<'a> {
    client: &'a GraphClient,
}

impl<'a> PlannerApi<'a> {
    pub(crate) fn new(client: &'a GraphClient) -> Self {
        Self { client }
    }

    /// `GET /planner/plans/{id}/tasks`, following every nextLink: Planner pages at a size the
    /// client cannot set and ignores `$top` (§2.9).
    pub async fn list_plan_tasks(&self, plan_id: &str) -> Result<Vec<PlannerTask>, GraphError> {
        let url = self.client.url(&["planner", "plans", plan_id, "tasks"])?;
        self.client.list_all(&LIST_PLAN_TASKS, url).await
    }

    /// The same listing with `$expand=details`. Undocumented for this call (docs/graph-behaviour.md §7): a
    /// `BadRequest` means "not supported here"; fall back to `list_plan_tasks` plus
    /// [`PlannerApi::get_task_details_many`] for the mapped tasks whose own ETag is unchanged (docs/scheduler.md).
    pub async fn list_plan_tasks_with_details(
        &self,
        plan_id: &str,
    ) -> Result<Vec<PlannerTask>, GraphError> {
        let mut url = self.client.url(&["planner", "plans", plan_id, "tasks"])?;
        url.query_pairs_mut().append_pair("$expand", "details");
        self.client.list_all(&LIST_PLAN_TASKS, url).await
    }

    /// `GET /planner/tasks/{id}`.
    pub async fn get_task(&self, task_id: &str) -> Result<PlannerTask, GraphError> {
        let url = self.client.url(&["planner", "tasks", task_id])?;
        self.client
            .send_json(&GraphRequest::new(&GET_TASK, Method::GET, url))
            .await
    }

    /// `GET /planner/tasks/{id}/details`.
    pub async fn get_task_details(&self, task_id: &str) -> Result<PlannerTaskDetails, GraphError> {
        let url = self.client.url(&["planner", "tasks", task_id, "details"])?;
        self.client
            .send_json(&GraphRequest::new(&GET_DETAILS, Method::GET, url))
            .await
    }

    /// `POST /planner/tasks`; 201 with the task. Not retried after an ambiguous failure.
    pub async fn create_task(&self, task: &NewPlannerTask) -> Result<PlannerTask, GraphError> {
        let url = self.client.url(&["planner", "tasks"])?;
        self.client
            .send_json(&GraphRequest::new(&CREATE_TASK, Method::POST, url).json(to_json(task)?))
            .await
    }

    /// Creates a task and writes the marker of `local_id` into its details (3 requests: create,
    /// read details for their ETag, patch details). If the process dies between the create and
    /// the marker, the task exists without a marker: the caller should record the remote id in
    /// its mapping claim (docs/architecture.md principle 3) as soon as this returns, and an unmarked task
    /// found by a sweep needs that record to be recognised.
    pub async fn create_task_with_marker(
        &self,
        task: &NewPlannerTask,
        local_id: &str,
    ) -> Result<(PlannerTask, PlannerTaskDetails), GraphError> {
        let created = self.create_task(task).await?;
        let details = self.get_task_details(&created.id).await?;
        let etag = details.etag.clone().ok_or_else(|| {
            GraphError::Protocol("task details arrived without an ETag".to_owned())
        })?;
        let details = self
            .update_task_details(
                &created.id,
                &etag,
                &PlannerTaskDetailsPatch::with_marker(local_id),
            )
            .await?;
        Ok((created, details))
    }

    /// `PATCH /planner/tasks/{id}` with `If-Match: etag`. Returns the new representation (and so
    /// the new ETag). A stale ETag that conflicts is `Conflict` (412/409): re-read and merge. A
    /// stale ETag that does not conflict may be accepted (§2.6): "no conflict" never means
    /// "nobody else changed the task".
    pub async fn update_task(
        &self,
        task_id: &str,
        etag: &str,
        patch: &PlannerTaskPatch,
    ) -> Result<PlannerTask, GraphError> {
        let url = self.client.url(&["planner", "tasks", task_id])?;
        let request = GraphRequest::new(&UPDATE_TASK, Method::PATCH, url)
            .json(to_json(patch)?)
            .header(IF_MATCH, etag)
            .header(PREFER, RETURN_REPRESENTATION);
        let response = self.client.send(&request).await?;
        match representation::<PlannerTask>(&response)? {
            Some(mut task) => {
                if task.etag.is_none() {
                    task.etag = response.etag_header();
                }
                Ok(task)
            }
            // A server that ignored the Prefer header: read it back.
            None => self.get_task(task_id).await,
        }
    }

    /// `PATCH /planner/tasks/{id}/details` with the details ETag (not the task's, §2.4).
    pub async fn update_task_details(
        &self,
        task_id: &str,
        details_etag: &str,
        patch: &PlannerTaskDetailsPatch,
    ) -> Result<PlannerTaskDetails, GraphError> {
        let url = self.client.url(&["planner", "tasks", task_id, "details"])?;
        let request = GraphRequest::new(&UPDATE_DETAILS, Method::PATCH, url)
            .json(to_json(patch)?)
            .header(IF_MATCH, details_etag)
            .header(PREFER, RETURN_REPRESENTATION);
        let response = self.client.send(&request).await?;
        match representation::<PlannerTaskDetails>(&response)? {
            Some(mut details) => {
                if details.etag.is_none() {
                    details.etag = response.etag_header();
                }
                Ok(details)
            }
            None => self.get_task_details(task_id).await,
        }
    }

    /// Details of many tasks, twenty per `$batch` (the fallback when a listing cannot expand
    /// details, docs/graph-behaviour.md §7). One outcome per id, in the order given.
    pub async fn get_task_details_many(
        &self,
        task_ids: &[&str],
    ) -> Result<Vec<(String, Result<PlannerTaskDetails, GraphError>)>, GraphError> {
        let requests = task_ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let url = self
                    .client
                    .relative_url(&["planner", "tasks", id, "details"])?;
                Ok(BatchRequest::get(i.to_string(), url))
            })
            .collect::<Result<Vec<_>, GraphError>>()?;
        let outcomes = self.client.batch(requests).await?;
        Ok(task_ids
            .iter()
            .zip(outcomes)
            .map(|(id, outcome)| {
                let details = outcome.result.and_then(|r| r.json::<PlannerTaskDetails>());
                ((*id).to_owned(), details)
            })
            .collect())
    }

    /// `DELETE /planner/tasks/{id}` with `If-Match`; 204.
    pub async fn delete_task(&self, task_id: &str, etag: &str) -> Result<(), GraphError> {
        let url = self.client.url(&["planner", "tasks", task_id])?;
        let request = GraphRequest::new(&DELETE_TASK, Method::DELETE, url).header(IF_MATCH, etag);
        self.client.send(&request).await.map(|_| ())
    }
}

/// The body of a `return=representation` answer; `None` for a 204.
fn representation<T: serde::de::DeserializeOwned>(
    response: &GraphResponse,
) -> Result<Option<T>, GraphError> {
    if response.status == 204 || response.body.is_empty() {
        return Ok(None);
    }
    response.json().map(Some)
}
