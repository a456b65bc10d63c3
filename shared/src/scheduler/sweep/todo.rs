//! The To Do sweep: a delta round. A first round (no link, an expired one, or a forced full
//! round) lists the current state and is compared like a Planner listing; a later round holds
//! only what changed since the last, and only its changes are looked at.

use std::collections::HashSet;

use super::diff::{Listed, diff, echoes};
use super::{Sweep, SweepError, SweepStats};
use crate::graph::GraphError;
use crate::graph::models::todo::TodoChange;
use crate::ports::{HintSend, RemoteEtagIndex};
use crate::scheduler::schedule::{BindingSchedule, IntervalClass};

impl<X: RemoteEtagIndex, Q: HintSend> Sweep<'_, X, Q> {
    pub(super) async fn todo(
        &self,
        schedule: &mut BindingSchedule,
        full_round: bool,
    ) -> Result<SweepStats, SweepError> {
        let binding = self.binding;
        let todo = self.graph.todo();
        let link = if full_round {
            None
        } else {
            schedule.delta_link.clone()
        };
        let (round, full) = match todo
            .delta(
                &binding.user_id,
                &binding.remote_container_id,
                link.as_deref(),
            )
            .await
        {
            Ok(round) => (round, link.is_none()),
            Err(GraphError::DeltaExpired) if link.is_some() => (
                todo.delta(&binding.user_id, &binding.remote_container_id, None)
                    .await?,
                true,
            ),
            Err(e) => return Err(e.into()),
        };
        if !full && round.changes.is_empty() {
            // Nothing changed since the last round: nothing to compare, so the mapping is not
            // read.
            schedule.delta_link = Some(round.delta_link);
            schedule.interval = IntervalClass::SafetyNet;
            self.plan_next(schedule);
            return Ok(SweepStats::default());
        }
        let mapped = self.index.mapped_remote_etags(&binding.id).await?;
        let mut stats = SweepStats {
            mapped: mapped.len(),
            full,
            mapping_read: true,
            ..SweepStats::default()
        };
        let (changed, vanished) = if full {
            // A first round lists the current state (deleted items are not returned): compare
            // it with the mapping like a Planner listing.
            let listed: Vec<Listed> = round
                .changes
                .iter()
                .filter_map(|c| match c {
                    TodoChange::Upsert(task) => Some(Listed {
                        id: task.id.clone(),
                        etag: task.etag.clone(),
                        details_etag: None,
                    }),
                    TodoChange::Removed { .. } => None,
                })
                .collect();
            stats.listed = listed.len();
            let found = diff(&listed, &mapped, false);
            (found.changed, found.vanished)
        } else {
            let mut changed = Vec::new();
            let mut vanished = Vec::new();
            let mut seen = HashSet::new();
            for change in &round.changes {
                match change {
                    TodoChange::Upsert(task) => {
                        stats.listed += 1;
                        let echo = echoes(&task.id, task.etag.as_ref(), &mapped);
                        if !echo && seen.insert(task.id.clone()) {
                            changed.push(task.id.clone());
                        }
                    }
                    TodoChange::Removed { id, .. } => {
                        if mapped.contains_key(id) && seen.insert(id.clone()) {
                            vanished.push(id.clone());
                        }
                    }
                }
            }
            (changed, vanished)
        };
        self.send_hints(changed, vanished, mapped.len(), schedule, &mut stats)
            .await?;
        // While the guard withholds deletions, the next round starts over, so it finds them
        // again by comparison instead of losing them behind an advanced deltaLink.
        schedule.delta_link = if stats.withheld > 0 {
            None
        } else {
            Some(round.delta_link)
        };
        schedule.interval = IntervalClass::SafetyNet;
        self.plan_next(schedule);
        Ok(stats)
    }
}
