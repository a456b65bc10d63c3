//! The safety-net sweep of one binding: compare what Graph lists with the ETags the mapping
//! recorded, and turn only the differences into hints. Planner has no change notifications
//! (graph-facts §1.10), so for Planner this *is* the change feed; for To Do it is a delta round
//! (§3.3) that catches what notifications missed.
//!
//! The cost grows with what changed: an unchanged plan costs its listing pages (the mapping is
//! not read when the listing repeats the last one that matched it), writes nothing to Graph or
//! the tasks table and enqueues nothing.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use sha2::{Digest, Sha256};

use super::schedule::{
    BindingSchedule, GuardReport, QuietListing, interval_length, planner_interval,
};
use super::settings::SchedulerSettings;
use crate::graph::models::todo::TodoChange;
use crate::graph::{GraphClient, GraphError};
use crate::model::{Binding, RemoteKind};
use crate::ports::{HintSend, MappedEtags, QueueError, RemoteEtagIndex, StoreError};
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

/// One remote task as listed: its ETags (details only for Planner).
#[derive(Debug, Clone)]
struct Listed {
    id: String,
    etag: Option<String>,
    details_etag: Option<String>,
}

/// Differences between a listing and the mapping.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Diff {
    /// New, or ETag / details ETag differs from the recorded base.
    pub changed: Vec<String>,
    /// Mapped, but no longer listed.
    pub vanished: Vec<String>,
}

/// A recorded base without an ETag counts as different: better one hint too many than a change
/// never seen. (The reconcile engine records both ETags, docs/scheduler.md.)
fn differs(listed: &Listed, mapped: &MappedEtags, with_details: bool) -> bool {
    if listed.etag.is_none() || listed.etag != mapped.etag {
        return true;
    }
    with_details && (mapped.details_etag.is_none() || listed.details_etag != mapped.details_etag)
}

fn diff(listed: &[Listed], mapped: &HashMap<String, MappedEtags>, with_details: bool) -> Diff {
    let mut seen = HashSet::with_capacity(listed.len());
    let mut out = Diff::default();
    for task in listed {
        if !seen.insert(task.id.as_str()) {
            continue;
        }
        match mapped.get(&task.id) {
            Some(base) if !differs(task, base, with_details) => {}
            _ => out.changed.push(task.id.clone()),
        }
    }
    let mut vanished: Vec<String> = mapped
        .keys()
        .filter(|id| !seen.contains(id.as_str()))
        .cloned()
        .collect();
    vanished.sort();
    out.vanished = vanished;
    out
}

/// Applies the guard to `diff.vanished`, recording or clearing the report; returns the ids whose
/// deletion may go ahead.
fn guarded_deletions(
    vanished: Vec<String>,
    mapped: usize,
    schedule: &mut BindingSchedule,
    now: DateTime<Utc>,
    settings: &SchedulerSettings,
    stats: &mut SweepStats,
) -> Vec<String> {
    stats.vanished = vanished.len();
    if settings.deletion_guard.blocks(vanished.len(), mapped) && !schedule.deletions_approved {
        tracing::error!(
            binding_id = %schedule.binding_id,
            vanished = vanished.len(),
            mapped,
            "mass-deletion guard: deletions withheld until an operator approves them"
        );
        schedule.deletion_guard = Some(GuardReport {
            at: now,
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
    let stats = match binding.remote {
        RemoteKind::Planner => {
            sweep_planner(index, queue, graph, settings, binding, schedule, now).await?
        }
        RemoteKind::Todo => {
            sweep_todo(
                index, queue, graph, settings, binding, schedule, now, full_round,
            )
            .await?
        }
    };
    schedule.last_swept_at = Some(now);
    if stats.changed > 0 || stats.vanished > 0 {
        schedule.last_change_at = Some(now);
    }
    schedule.sweep_failure = None;
    Ok(stats)
}

async fn sweep_planner<X: RemoteEtagIndex, Q: HintSend>(
    index: &X,
    queue: &Q,
    graph: &GraphClient,
    settings: &SchedulerSettings,
    binding: &Binding,
    schedule: &mut BindingSchedule,
    now: DateTime<Utc>,
) -> Result<SweepStats, SweepError> {
    let plan = &binding.remote_container_id;
    let mut mapped_read = None;
    let (listed, open) = match graph.planner().list_plan_tasks_with_details(plan).await {
        Ok(tasks) => {
            let open = tasks
                .iter()
                .filter(|t| t.percent_complete.unwrap_or(0) < 100)
                .count();
            let listed = tasks
                .into_iter()
                .map(|t| Listed {
                    details_etag: t.details.as_ref().and_then(|d| d.etag.clone()),
                    id: t.id,
                    etag: t.etag,
                })
                .collect::<Vec<_>>();
            (listed, open)
        }
        // Expanding details on the listing is undocumented (DESIGN.md): read the details of
        // the tasks whose own ETag is unchanged, twenty per $batch.
        Err(GraphError::BadRequest { .. }) => {
            let mapped = index.mapped_remote_etags(&binding.id).await?;
            let found = listing_without_expansion(graph, plan, &mapped).await?;
            mapped_read = Some(mapped);
            found
        }
        Err(e) => return Err(e.into()),
    };
    let digest = listing_digest(&listed);
    if mapped_read.is_none()
        && let Some(quiet) = still_quiet(schedule, &digest, now, settings)
    {
        // Planner ETags change on every write, so the same digest means no task changed, none
        // was added and none vanished since a listing that matched the mapping exactly.
        let stats = SweepStats {
            listed: listed.len(),
            mapped: usize::try_from(quiet.mapped).unwrap_or(usize::MAX),
            ..SweepStats::default()
        };
        schedule.interval = planner_interval(schedule.last_change_at, open, now, settings);
        schedule.next_sweep_at = now + interval_length(schedule.interval, settings);
        return Ok(stats);
    }
    let mapped = match mapped_read {
        Some(mapped) => mapped,
        None => index.mapped_remote_etags(&binding.id).await?,
    };
    let found = diff(&listed, &mapped, true);
    let mut stats = SweepStats {
        listed: listed.len(),
        mapped: mapped.len(),
        changed: found.changed.len(),
        full: true,
        mapping_read: true,
        ..SweepStats::default()
    };
    let deletions = guarded_deletions(
        found.vanished,
        mapped.len(),
        schedule,
        now,
        settings,
        &mut stats,
    );
    let hints: Vec<Hint> = found
        .changed
        .iter()
        .chain(deletions.iter())
        .map(|id| Hint::RemotePlannerTask {
            binding_id: binding.id.clone(),
            task_id: id.clone(),
        })
        .collect();
    queue.send_hints(&hints).await?;
    stats.hints = hints.len();
    schedule.quiet_listing = (hints.is_empty() && stats.withheld == 0).then(|| QuietListing {
        digest,
        mapped: u32::try_from(mapped.len()).unwrap_or(u32::MAX),
        compared_at: now,
    });
    let active_since = if stats.changed > 0 || !deletions.is_empty() {
        Some(now)
    } else {
        schedule.last_change_at
    };
    schedule.interval = planner_interval(active_since, open, now, settings);
    schedule.next_sweep_at = now + interval_length(schedule.interval, settings);
    Ok(stats)
}

/// The quiet listing `digest` repeats, unless it is too old to trust without comparing again or
/// the guard has something pending.
fn still_quiet<'a>(
    schedule: &'a BindingSchedule,
    digest: &str,
    now: DateTime<Utc>,
    settings: &SchedulerSettings,
) -> Option<&'a QuietListing> {
    let quiet = schedule.quiet_listing.as_ref()?;
    let fresh = now - quiet.compared_at < settings.full_compare_interval;
    let guard_idle = schedule.deletion_guard.is_none() && !schedule.deletions_approved;
    (quiet.digest == digest && fresh && guard_idle).then_some(quiet)
}

/// SHA-256 of the listing's (id, ETag, details ETag) triples in id order, each part
/// length-prefixed (and an absent ETag told apart from an empty one), so two different listings
/// cannot share an encoding and the order Graph pages in does not matter.
fn listing_digest(listed: &[Listed]) -> String {
    let mut rows: Vec<&Listed> = listed.iter().collect();
    rows.sort_by(|a, b| (&a.id, &a.etag, &a.details_etag).cmp(&(&b.id, &b.etag, &b.details_etag)));
    let mut hasher = Sha256::new();
    let mut part = |text: Option<&str>| match text {
        None => hasher.update([0u8]),
        Some(text) => {
            hasher.update([1u8]);
            hasher.update((text.len() as u64).to_be_bytes());
            hasher.update(text.as_bytes());
        }
    };
    for row in rows {
        part(Some(&row.id));
        part(row.etag.as_deref());
        part(row.details_etag.as_deref());
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

async fn listing_without_expansion(
    graph: &GraphClient,
    plan: &str,
    mapped: &HashMap<String, MappedEtags>,
) -> Result<(Vec<Listed>, usize), SweepError> {
    let tasks = graph.planner().list_plan_tasks(plan).await?;
    let open = tasks
        .iter()
        .filter(|t| t.percent_complete.unwrap_or(0) < 100)
        .count();
    let unchanged: Vec<&str> = tasks
        .iter()
        .filter(|t| {
            mapped
                .get(&t.id)
                .is_some_and(|m| t.etag.is_some() && m.etag == t.etag)
        })
        .map(|t| t.id.as_str())
        .collect();
    let mut details: HashMap<String, Option<String>> = HashMap::new();
    if !unchanged.is_empty() {
        for (id, outcome) in graph.planner().get_task_details_many(&unchanged).await? {
            // A failed item reads as "unknown", which the comparison treats as a change.
            details.insert(id, outcome.ok().and_then(|d| d.etag));
        }
    }
    let listed = tasks
        .into_iter()
        .map(|t| Listed {
            details_etag: details.get(&t.id).cloned().flatten(),
            id: t.id,
            etag: t.etag,
        })
        .collect();
    Ok((listed, open))
}

#[allow(clippy::too_many_arguments)]
async fn sweep_todo<X: RemoteEtagIndex, Q: HintSend>(
    index: &X,
    queue: &Q,
    graph: &GraphClient,
    settings: &SchedulerSettings,
    binding: &Binding,
    schedule: &mut BindingSchedule,
    now: DateTime<Utc>,
    full_round: bool,
) -> Result<SweepStats, SweepError> {
    let todo = graph.todo();
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
        // Nothing changed since the last round: nothing to compare, so the mapping is not read.
        schedule.delta_link = Some(round.delta_link);
        schedule.interval = super::schedule::IntervalClass::SafetyNet;
        schedule.next_sweep_at = now + interval_length(schedule.interval, settings);
        return Ok(SweepStats::default());
    }
    let mapped = index.mapped_remote_etags(&binding.id).await?;
    let mut stats = SweepStats {
        mapped: mapped.len(),
        full,
        mapping_read: true,
        ..SweepStats::default()
    };
    let (changed, vanished) = if full {
        // A first round lists the current state (deleted items are not returned): compare it
        // with the mapping like a Planner listing.
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
                    let echo = mapped
                        .get(&task.id)
                        .is_some_and(|m| task.etag.is_some() && m.etag == task.etag);
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
    stats.changed = changed.len();
    let deletions = guarded_deletions(vanished, mapped.len(), schedule, now, settings, &mut stats);
    let hints: Vec<Hint> = changed
        .iter()
        .chain(deletions.iter())
        .map(|id| Hint::RemoteTodoTask {
            binding_id: binding.id.clone(),
            task_id: id.clone(),
        })
        .collect();
    queue.send_hints(&hints).await?;
    stats.hints = hints.len();
    // While the guard withholds deletions, the next round starts over, so it finds them again
    // by comparison instead of losing them behind an advanced deltaLink.
    schedule.delta_link = if stats.withheld > 0 {
        None
    } else {
        Some(round.delta_link)
    };
    schedule.interval = super::schedule::IntervalClass::SafetyNet;
    schedule.next_sweep_at = now + interval_length(schedule.interval, settings);
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(id: &str, etag: &str, details: Option<&str>) -> Listed {
        Listed {
            id: id.into(),
            etag: Some(etag.into()),
            details_etag: details.map(Into::into),
        }
    }

    fn base(etag: &str, details: Option<&str>) -> MappedEtags {
        MappedEtags {
            etag: Some(etag.into()),
            details_etag: details.map(Into::into),
        }
    }

    #[test]
    fn only_differences_become_changes() {
        let mapped = HashMap::from([
            ("same".to_owned(), base("1", Some("d1"))),
            ("task".to_owned(), base("1", Some("d1"))),
            ("details".to_owned(), base("1", Some("d1"))),
            ("gone".to_owned(), base("1", Some("d1"))),
        ]);
        let listing = [
            listed("same", "1", Some("d1")),
            listed("task", "2", Some("d1")),
            listed("details", "1", Some("d2")),
            listed("new", "1", Some("d1")),
        ];
        let d = diff(&listing, &mapped, true);
        assert_eq!(d.changed, vec!["task", "details", "new"]);
        assert_eq!(d.vanished, vec!["gone"]);
        // To Do has no details ETag: only the task's counts.
        let d = diff(&[listed("details", "1", None)], &mapped, false);
        assert!(d.changed.is_empty());
    }

    fn schedule_with_quiet(digest: &str, compared_at: DateTime<Utc>) -> BindingSchedule {
        let mut schedule = BindingSchedule::new("b", RemoteKind::Planner, compared_at);
        schedule.quiet_listing = Some(QuietListing {
            digest: digest.to_owned(),
            mapped: 3,
            compared_at,
        });
        schedule
    }

    #[test]
    fn a_quiet_listing_is_trusted_only_while_fresh_and_with_no_guard_pending() {
        let settings = SchedulerSettings::default();
        let t0 = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(20_000);
        let mut s = schedule_with_quiet("d", t0);
        assert!(still_quiet(&s, "d", t0 + chrono::Duration::minutes(59), &settings).is_some());
        assert!(still_quiet(&s, "other", t0, &settings).is_none());
        assert!(
            still_quiet(&s, "d", t0 + settings.full_compare_interval, &settings).is_none(),
            "compared again once the interval has passed"
        );
        s.deletions_approved = true;
        assert!(still_quiet(&s, "d", t0, &settings).is_none());
        s.deletions_approved = false;
        s.deletion_guard = Some(GuardReport {
            at: t0,
            vanished: 9,
            mapped: 10,
        });
        assert!(still_quiet(&s, "d", t0, &settings).is_none());
        s.deletion_guard = None;
        s.quiet_listing = None;
        assert!(still_quiet(&s, "d", t0, &settings).is_none());
    }

    fn arb_listing() -> impl proptest::strategy::Strategy<Value = Vec<Listed>> {
        use proptest::prelude::*;
        proptest::collection::btree_map(
            "[a-z0-9]{1,6}",
            (
                proptest::option::of("[A-Za-z0-9\"=]{0,5}"),
                proptest::option::of("[A-Za-z0-9\"=]{0,5}"),
            ),
            0..12,
        )
        .prop_map(|tasks| {
            tasks
                .into_iter()
                .map(|(id, (etag, details_etag))| Listed {
                    id,
                    etag,
                    details_etag,
                })
                .collect()
        })
    }

    proptest::proptest! {
        /// Graph pages in no promised order: the same tasks always give the same digest.
        #[test]
        fn the_digest_ignores_listing_order(listing in arb_listing(), seed in 0u64..1000) {
            let mut shuffled = listing.clone();
            let n = shuffled.len().max(1);
            shuffled.rotate_left(usize::try_from(seed).unwrap() % n);
            shuffled.reverse();
            proptest::prop_assert_eq!(listing_digest(&listing), listing_digest(&shuffled));
        }

        /// Any change a sweep must see (an ETag or details ETag that moved, appeared or went,
        /// a task added or gone) changes the digest, so the short-cut never hides it.
        #[test]
        fn every_change_a_sweep_must_see_changes_the_digest(
            listing in arb_listing(),
            pick in 0usize..64,
            change in 0u8..5,
            text in "[A-Za-z0-9]{0,5}",
        ) {
            let mut changed = listing.clone();
            let before = listing_digest(&listing);
            if changed.is_empty() || change == 4 {
                changed.push(Listed { id: format!("new-{text}"), etag: None, details_etag: None });
            } else {
                let i = pick % changed.len();
                let task = &mut changed[i];
                match change {
                    0 => task.etag = Some(format!("{}x{text}", task.etag.clone().unwrap_or_default())),
                    1 => task.etag = task.etag.is_none().then(|| text.clone()),
                    2 => task.details_etag = Some(format!("{}x{text}", task.details_etag.clone().unwrap_or_default())),
                    _ => { changed.remove(i); }
                }
            }
            proptest::prop_assert_ne!(before, listing_digest(&changed));
        }
    }
}
