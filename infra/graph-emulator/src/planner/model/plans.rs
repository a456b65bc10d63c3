//! Plans (docs/graph-behaviour.md §2.7a): owned by the one seeded group, only `title` writable,
//! and deleting one takes its buckets and tasks with it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::fields::{as_string, reject_unknown};
use super::{
    PlannerError, PlannerState, Precondition, WriteContext, bad, graph_time, is_valid_id, limit,
    new_id, not_found,
};
use crate::planner::etag::{EtagKind, etag};

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
    pub(super) tasks: BTreeMap<u64, String>,
    pub(super) buckets: Vec<String>,
    pub(super) active_tasks: usize,
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

impl PlannerState {
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
            return Err(limit(
                "MaximumPlannerPlans",
                format!(
                    "The group already owns the maximum number of plans ({}).",
                    ctx.config.max_plans_per_group
                ),
            ));
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

    /// Plan update: only `title` is writable here (the container cannot change, §2.7a).
    pub fn update_plan(
        &mut self,
        id: &str,
        precondition: Precondition<'_>,
        body: &Map<String, Value>,
    ) -> Result<&Plan, PlannerError> {
        reject_unknown(body, &["@odata.type", "title"], "a plan")?;
        precondition.check(|| self.plan(id), EtagKind::Plan, |c| c.version)?;
        let title = match body.get("title") {
            None => None,
            Some(v) => Some(as_string("title", v)?),
        };
        let version = self.next_version();
        let plan = self
            .plans
            .get_mut(id)
            .ok_or_else(|| not_found("plan", id))?;
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
        precondition.check(|| self.plan(id), EtagKind::Plan, |c| c.version)?;
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
}
