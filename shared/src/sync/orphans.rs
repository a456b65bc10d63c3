//! Orphan adoption, in one place. A Planner POST whose answer was lost leaves a task that no
//! record names and that carries no marker (the marker goes with the details write that never
//! came). The retry of that create, or a resync that meets its claim, adopts it instead of
//! creating a second task: unmarked, created by this application, with the title the create sent
//! (or the local task's current one), created since the claim, and named by no mapping. Several
//! such orphans: the oldest is adopted and the others are deleted by the adoption
//! (docs/sync-engine.md, "Crash points and races").

use chrono::Utc;
use serde_json::{Value, json};

use super::failure::SyncFailure;
use super::fields::Field;
use super::mapping::{Mapping, MappingState};
use super::remote::RemoteTask;
use super::scope::Scope;
use crate::model::LocalTask;
use crate::ports::MappingStore;

/// How far Planner's clock (`createdDateTime`) may run behind ours (the claim's `updated_at`)
/// without hiding an orphan from its create's retry. Both are NTP-synced; a minute is ample.
pub const CREATE_CLOCK_SKEW: chrono::Duration = chrono::Duration::seconds(60);

/// The orphans a create's retry may adopt, oldest first: unmarked tasks this application
/// created, with the local task's `title` (side-canonical), created at or after the claim was
/// last written (the claim is written just before each POST) less [`CREATE_CLOCK_SKEW`], and
/// not after `settled_before`: a task created moments ago may be another local task's create
/// still on its way to its record (the caller passes now less half the claim patience; its own
/// orphan is older than that by the time a retry runs). The caller still drops those another
/// mapping names.
pub fn orphans_of_claim(
    claim_written: chrono::DateTime<chrono::Utc>,
    settled_before: chrono::DateTime<chrono::Utc>,
    titles: &[Value],
    candidates: Vec<RemoteTask>,
) -> Vec<RemoteTask> {
    let since = claim_written - CREATE_CLOCK_SKEW;
    let mut found: Vec<RemoteTask> = candidates
        .into_iter()
        .filter(|t| {
            t.marker.is_none()
                && t.created_by_this_app
                && t.fields
                    .get(&Field::Title)
                    .is_some_and(|t| titles.contains(t))
                && t.created_at
                    .is_some_and(|at| at >= since && at <= settled_before)
        })
        .collect();
    found.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    found
}

/// A `creating` claim younger than the claim patience (and not failed): its worker may still be
/// between the create and its record, so nobody else creates or adopts for it yet.
pub(crate) fn claim_is_fresh(m: &Mapping, patience: std::time::Duration) -> bool {
    let age = Utc::now().signed_duration_since(m.updated_at);
    let patience = chrono::Duration::from_std(patience).unwrap_or(chrono::Duration::seconds(60));
    m.state == MappingState::Creating && age < patience && m.last_error.is_none()
}

/// For a mapping without a remote id, on the hint path: what an earlier attempt of its create
/// left, the task with its marker or else an orphan (then the others come back second, for the
/// adoption to delete). The search reuses the one listing the marker search makes.
pub(crate) async fn remote_of_claim<S: MappingStore, T>(
    scope: &Scope<'_, S, T>,
    m: &Mapping,
    local: Option<&LocalTask>,
) -> Result<(Option<RemoteTask>, Vec<RemoteTask>), SyncFailure> {
    if m.state != MappingState::Creating {
        return Ok((None, Vec::new()));
    }
    let earlier = scope.remote.find_earlier_create(&m.local_id).await?;
    if let Some(found) = earlier.marked {
        return Ok((Some(found), Vec::new()));
    }
    if claim_is_fresh(m, scope.settings.claim_patience) {
        // Another worker may be creating it right now: let it finish.
        return Err(SyncFailure::Retry {
            reason: format!(
                "local task {} is being created by another worker",
                m.local_id
            ),
            after: Some(scope.settings.claim_patience),
        });
    }
    adopt_orphans(scope, m, local, earlier.unmarked_own).await
}

/// Among `candidates` (unmarked tasks this application created), the orphans of claim `m`'s
/// create: the one to adopt (the oldest) and the others, for the adoption to delete.
pub(crate) async fn adopt_orphans<S: MappingStore, T>(
    scope: &Scope<'_, S, T>,
    m: &Mapping,
    local: Option<&LocalTask>,
    candidates: Vec<RemoteTask>,
) -> Result<(Option<RemoteTask>, Vec<RemoteTask>), SyncFailure> {
    // The title the create sent (recorded on the claim) and the local task's current one: a
    // rename between a lost answer and this retry must not hide the orphan.
    let titles: Vec<Value> = [
        m.base.get(&Field::Title).cloned(),
        local.map(|t| json!(t.title)),
    ]
    .into_iter()
    .flatten()
    .filter_map(|title| scope.rules.canon(Field::Title, &title))
    .collect();
    if titles.is_empty() {
        return Ok((None, Vec::new()));
    }
    let settle = chrono::Duration::from_std(scope.settings.claim_patience / 2)
        .unwrap_or(chrono::Duration::seconds(30));
    let settled_before = Utc::now() - settle;
    let mut orphans = Vec::new();
    for candidate in orphans_of_claim(m.updated_at, settled_before, &titles, candidates) {
        // One a mapping names is another pair's (its create recorded it): never ours to take.
        if scope
            .sync
            .mapping_by_remote(scope.binding.remote, &candidate.id)
            .await?
            .is_none()
        {
            orphans.push(candidate);
        }
    }
    let mut orphans = orphans.into_iter();
    let adopted = orphans.next();
    if let Some(orphan) = &adopted {
        tracing::warn!(
            binding_id = %scope.binding.id,
            task_id = %m.local_id,
            remote_id = %orphan.id,
            "adopting an unmarked task of this application: a create whose answer was lost"
        );
    }
    Ok((adopted, orphans.collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::fields::FieldMap;

    fn candidate(id: &str, title: &str, ours: bool, secs_after_claim: i64) -> RemoteTask {
        RemoteTask {
            id: id.into(),
            fields: FieldMap::from([(Field::Title, json!(title))]),
            task_etag: Some("e".into()),
            details_etag: None,
            last_modified: None,
            completed_at: None,
            marker: None,
            created_at: Some(claim_time() + chrono::Duration::seconds(secs_after_claim)),
            created_by_this_app: ours,
        }
    }

    fn claim_time() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn orphans_of_a_claim_are_ours_unmarked_same_title_since_the_claim_oldest_first() {
        let mut marked = candidate("marked", "T", true, 1);
        marked.marker = Some("X-9".into());
        let found = orphans_of_claim(
            claim_time(),
            claim_time() + chrono::Duration::seconds(60),
            &[json!("T"), json!("T, renamed")],
            vec![
                candidate("newer", "T", true, 30),
                candidate("in-flight", "T", true, 61),
                candidate("person", "T", false, 1),
                candidate("other-title", "U", true, 1),
                candidate("before-claim", "T", true, -3600),
                candidate("within-skew", "T", true, -5),
                candidate("under-the-new-title", "T, renamed", true, 40),
                marked,
            ],
        );
        let ids: Vec<&str> = found.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["within-skew", "newer", "under-the-new-title"]);
    }
}
