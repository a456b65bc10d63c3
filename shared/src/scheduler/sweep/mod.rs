//! The safety-net sweep of one binding: compare what Graph lists with the ETags the mapping
//! recorded, and turn only the differences into hints. Planner has no change notifications
//! (docs/graph-behaviour.md §1.10), so for Planner this *is* the change feed; for To Do it is a
//! delta round (§3.3) that catches what notifications missed.
//!
//! The cost grows with what changed: an unchanged plan costs its listing pages (the mapping is
//! not read when the listing repeats the last one that matched it), writes nothing to Graph or
//! the tasks table and enqueues nothing.

mod diff;
mod planner;
mod todo;

use chrono::{DateTime, Utc};

use super::schedule::{BindingSchedule, GuardReport, interval_length};
use super::settings::SchedulerSettings;
use crate::graph::{GraphClient, GraphError};
use crate::model::{Binding, RemoteKind};
use crate::ports::{HintSend, QueueError, RemoteEtagIndex, StoreError};
use crate::queue_message::Hint;

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("Graph: {0}")]
    Graph(#[from] GraphError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("queue: {0}")]
    Queue(#[from] QueueError),
}

impl SweepError {
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            SweepError::Graph(e) => e.retry_after(),
            _ => None,
        }
    }
}

/// What one sweep found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepStats {
    pub listed: usize,
    pub mapped: usize,
    pub changed: usize,
    pub vanished: usize,
    pub hints: usize,
    /// Deletions the guard held back.
    pub withheld: usize,
    /// A full comparison rather than an incremental delta round.
    pub full: bool,
    /// The mapping was read. Not read: a Planner listing identical to the last quiet one, or an
    /// empty To Do delta round (`mapped` then comes from the quiet listing, or is 0).
    pub mapping_read: bool,
}

/// Sweeps one binding and updates `schedule` (next sweep, delta link, activity, guard). Hints
/// are sent before anything is recorded, so a failed send loses nothing: the next sweep finds
/// the same differences.
#[allow(clippy::too_many_arguments)]
pub async fn sweep_binding<X, Q>(
    index: &X,
    queue: &Q,
    graph: &GraphClient,
    settings: &SchedulerSettings,
    binding: &Binding,
    schedule: &mut BindingSchedule,
    now: DateTime<Utc>,
    full_round: bool,
) -> Result<SweepStats, SweepError>
where
    X: RemoteEtagIndex,
    Q: HintSend,
{
    let sweep = Sweep {
        index,
        queue,
        graph,
        settings,
        binding,
        now,
    };
    let stats = match binding.remote {
        RemoteKind::Planner => sweep.planner(schedule).await?,
        RemoteKind::Todo => sweep.todo(schedule, full_round).await?,
    };
    schedule.last_swept_at = Some(now);
    if stats.changed > 0 || stats.vanished > 0 {
        schedule.last_change_at = Some(now);
    }
    schedule.sweep_failure = None;
    Ok(stats)
}

/// What every step of one binding's sweep works with, besides the schedule it updates.
struct Sweep<'a, X, Q> {
    index: &'a X,
    queue: &'a Q,
    graph: &'a GraphClient,
    settings: &'a SchedulerSettings,
    binding: &'a Binding,
    now: DateTime<Utc>,
}

impl<X: RemoteEtagIndex, Q: HintSend> Sweep<'_, X, Q> {
    /// Sends a hint for every changed task and for every vanished one the guard lets go, and
    /// counts them in `stats` (`changed`, `vanished`, `withheld`, `hints`).
    async fn send_hints(
        &self,
        changed: Vec<String>,
        vanished: Vec<String>,
        mapped: usize,
        schedule: &mut BindingSchedule,
        stats: &mut SweepStats,
    ) -> Result<(), SweepError> {
        stats.changed = changed.len();
        let deletions = self.guarded_deletions(vanished, mapped, schedule, stats);
        let hints: Vec<Hint> = changed
            .iter()
            .chain(deletions.iter())
            .map(|id| Hint::remote_task(self.binding.remote, &self.binding.id, id))
            .collect();
        self.queue.send_hints(&hints).await?;
        stats.hints = hints.len();
        Ok(())
    }

    /// Applies the guard to the vanished tasks, recording or clearing its report; returns the
    /// ids whose deletion may go ahead.
    fn guarded_deletions(
        &self,
        vanished: Vec<String>,
        mapped: usize,
        schedule: &mut BindingSchedule,
        stats: &mut SweepStats,
    ) -> Vec<String> {
        stats.vanished = vanished.len();
        if self.settings.deletion_guard.blocks(vanished.len(), mapped)
            && !schedule.deletions_approved
        {
            tracing::error!(
                binding_id = %schedule.binding_id,
                vanished = vanished.len(),
                mapped,
                "mass-deletion guard: deletions withheld until an operator approves them"
            );
            schedule.deletion_guard = Some(GuardReport {
                at: self.now,
                vanished: u32::try_from(vanished.len()).unwrap_or(u32::MAX),
                mapped: u32::try_from(mapped).unwrap_or(u32::MAX),
            });
            stats.withheld = vanished.len();
            return Vec::new();
        }
        if !vanished.is_empty() {
            schedule.deletions_approved = false;
        }
        schedule.deletion_guard = None;
        vanished
    }

    /// The next sweep, one interval of the schedule's class from now.
    fn plan_next(&self, schedule: &mut BindingSchedule) {
        schedule.next_sweep_at = self.now + interval_length(schedule.interval, self.settings);
    }
}
