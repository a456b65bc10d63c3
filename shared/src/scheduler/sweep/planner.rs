//! The Planner sweep: the plan's listing compared with the mapping. Planner ETags change on
//! every write, so a listing whose digest repeats the last quiet one holds no change, and the
//! mapping is not read for it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::diff::{Listed, diff, echoes};
use super::{Sweep, SweepError, SweepStats};
use crate::graph::GraphError;
use crate::graph::models::PlannerTask;
use crate::ports::{HintSend, MappedEtags, RemoteEtagIndex};
use crate::scheduler::schedule::{BindingSchedule, QuietListing, planner_interval};
use crate::scheduler::settings::SchedulerSettings;

impl<X: RemoteEtagIndex, Q: HintSend> Sweep<'_, X, Q> {
    pub(super) async fn planner(
        &self,
        schedule: &mut BindingSchedule,
    ) -> Result<SweepStats, SweepError> {
        let (binding, now, settings) = (self.binding, self.now, self.settings);
        let plan = &binding.remote_container_id;
        let mut mapped_read = None;
        let (listed, open) = match self
            .graph
            .planner()
            .list_plan_tasks_with_details(plan)
            .await
        {
            Ok(tasks) => {
                let open = open_tasks(&tasks);
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
            // Expanding details on the listing is undocumented (docs/graph-behaviour.md §7): read the details of
            // the tasks whose own ETag is unchanged, twenty per $batch.
            Err(GraphError::BadRequest { .. }) => {
                let mapped = self.index.mapped_remote_etags(&binding.id).await?;
                let found = self.listing_without_expansion(plan, &mapped).await?;
                mapped_read = Some(mapped);
                found
            }
            Err(e) => return Err(e.into()),
        };
        let digest = listing_digest(&listed);
        if mapped_read.is_none()
            && let Some(quiet) = still_quiet(schedule, &digest, now, settings)
        {
            // Planner ETags change on every write, so the same digest means no task changed,
            // none was added and none vanished since a listing that matched the mapping exactly.
            let stats = SweepStats {
                listed: listed.len(),
                mapped: usize::try_from(quiet.mapped).unwrap_or(usize::MAX),
                ..SweepStats::default()
            };
            schedule.interval = planner_interval(schedule.last_change_at, open, now, settings);
            self.plan_next(schedule);
            return Ok(stats);
        }
        let mapped = match mapped_read {
            Some(mapped) => mapped,
            None => self.index.mapped_remote_etags(&binding.id).await?,
        };
        let found = diff(&listed, &mapped, true);
        let mut stats = SweepStats {
            listed: listed.len(),
            mapped: mapped.len(),
            full: true,
            mapping_read: true,
            ..SweepStats::default()
        };
        self.send_hints(
            found.changed,
            found.vanished,
            mapped.len(),
            schedule,
            &mut stats,
        )
        .await?;
        schedule.quiet_listing = (stats.hints == 0 && stats.withheld == 0).then(|| QuietListing {
            digest,
            mapped: u32::try_from(mapped.len()).unwrap_or(u32::MAX),
            compared_at: now,
        });
        // A hint is a changed task or a deletion that goes ahead: activity either way.
        let active_since = if stats.hints > 0 {
            Some(now)
        } else {
            schedule.last_change_at
        };
        schedule.interval = planner_interval(active_since, open, now, settings);
        self.plan_next(schedule);
        Ok(stats)
    }

    async fn listing_without_expansion(
        &self,
        plan: &str,
        mapped: &HashMap<String, MappedEtags>,
    ) -> Result<(Vec<Listed>, usize), SweepError> {
        let planner = self.graph.planner();
        let tasks = planner.list_plan_tasks(plan).await?;
        let open = open_tasks(&tasks);
        let unchanged: Vec<&str> = tasks
            .iter()
            .filter(|t| echoes(&t.id, t.etag.as_ref(), mapped))
            .map(|t| t.id.as_str())
            .collect();
        let mut details: HashMap<String, Option<String>> = HashMap::new();
        if !unchanged.is_empty() {
            for (id, outcome) in planner.get_task_details_many(&unchanged).await? {
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
}

/// Tasks not yet complete: many of them make a plan busy.
fn open_tasks(tasks: &[PlannerTask]) -> usize {
    tasks
        .iter()
        .filter(|t| t.percent_complete.unwrap_or(0) < 100)
        .count()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RemoteKind;
    use crate::scheduler::schedule::GuardReport;

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
