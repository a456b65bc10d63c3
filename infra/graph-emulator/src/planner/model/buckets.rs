//! Buckets: a plan's columns, with their own ETag and order hint; deleting one deletes its tasks,
//! as in the Planner app.

use serde_json::{Map, Value, json};

use super::fields::{as_string, reject_unknown};
use super::{
    PlannerError, PlannerState, Precondition, WriteContext, bad, limit, new_id, not_found,
};
use crate::planner::etag::{EtagKind, etag};
use crate::planner::order_hint;

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

impl PlannerState {
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
            return Err(limit(
                "MaximumBucketsInProject",
                format!(
                    "The plan already has the maximum number of buckets ({}).",
                    ctx.config.max_buckets_per_plan
                ),
            ));
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

    pub fn update_bucket(
        &mut self,
        id: &str,
        precondition: Precondition<'_>,
        body: &Map<String, Value>,
    ) -> Result<&Bucket, PlannerError> {
        reject_unknown(body, &["@odata.type", "name", "orderHint"], "a bucket")?;
        precondition.check(|| self.bucket(id), EtagKind::Bucket, |c| c.version)?;
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
            .ok_or_else(|| not_found("bucket", id))?;
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
        precondition.check(|| self.bucket(id), EtagKind::Bucket, |c| c.version)?;
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
}
