//! An operator's release of the deletions the mass-deletion guard withheld (docs/architecture.md principle
//! 6, docs/scheduler.md): checked first, so approving a binding that holds nothing is refused
//! instead of arming an approval that a later, unrelated mass deletion would consume.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ports::{BindingLookup, ScheduleStore, StoreError};
use crate::scheduler::approve_withheld_deletions;

/// What was approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    pub binding_id: String,
    pub vanished: u32,
    pub mapped: u32,
    /// When the guard first withheld them.
    pub since: DateTime<Utc>,
    /// It had been approved already (nothing changed; the next sweep still sends them once).
    pub already_approved: bool,
}

/// Why nothing was approved, split by what the operator does next.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// A typo or a removed binding: check the id with `tasksync status`.
    #[error("there is no binding {0:?}")]
    NoSuchBinding(String),
    /// Nothing to approve: the guard holds no deletion for this binding.
    #[error(
        "binding {0:?} has no withheld deletions: the mass-deletion guard holds nothing for it"
    )]
    NothingWithheld(String),
    #[error("reading or writing the schedule failed: {0}")]
    Store(#[from] StoreError),
}

/// A run can rewrite the schedule between our read and the approval's conditional write; that
/// race is retried, a few times at most.
const ATTEMPTS: usize = 3;

/// Approves the deletions the guard withholds on `binding_id`: the next sweep sends them once.
pub async fn approve_deletions<S>(
    store: &S,
    binding_id: &str,
    now: DateTime<Utc>,
) -> Result<Approval, ApprovalError>
where
    S: BindingLookup + ScheduleStore,
{
    if store.find_binding(binding_id).await?.is_none() {
        return Err(ApprovalError::NoSuchBinding(binding_id.to_owned()));
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        let Some(schedule) = store.get_schedule(binding_id).await? else {
            return Err(ApprovalError::NothingWithheld(binding_id.to_owned()));
        };
        let Some(guard) = schedule.deletion_guard else {
            return Err(ApprovalError::NothingWithheld(binding_id.to_owned()));
        };
        let approval = Approval {
            binding_id: binding_id.to_owned(),
            vanished: guard.vanished,
            mapped: guard.mapped,
            since: guard.at,
            already_approved: schedule.deletions_approved,
        };
        if schedule.deletions_approved {
            return Ok(approval);
        }
        match approve_withheld_deletions(store, binding_id, now).await {
            Ok(true) => return Ok(approval),
            Ok(false) => return Err(ApprovalError::NothingWithheld(binding_id.to_owned())),
            Err(StoreError::ConditionFailed(_)) if attempt < ATTEMPTS => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Binding, RemoteKind};
    use crate::ports::BindingSave;
    use crate::scheduler::{BindingSchedule, GuardReport};
    use crate::store::MemoryStore;

    #[tokio::test]
    async fn approves_only_what_the_guard_withholds() {
        let store = MemoryStore::new();
        let now = Utc::now();
        assert!(matches!(
            approve_deletions(&store, "nope", now).await,
            Err(ApprovalError::NoSuchBinding(_))
        ));
        store
            .save_binding(&Binding::planner("p", "ops", "plan-1"))
            .await
            .unwrap();
        assert!(matches!(
            approve_deletions(&store, "p", now).await,
            Err(ApprovalError::NothingWithheld(_))
        ));
        let mut s = BindingSchedule::new("p", RemoteKind::Planner, now);
        s.revision = store.put_schedule(&s).await.unwrap();
        assert!(matches!(
            approve_deletions(&store, "p", now).await,
            Err(ApprovalError::NothingWithheld(_))
        ));
        s.deletion_guard = Some(GuardReport {
            at: now,
            vanished: 12,
            mapped: 17,
        });
        store.put_schedule(&s).await.unwrap();

        let approval = approve_deletions(&store, "p", now).await.unwrap();
        assert_eq!((approval.vanished, approval.mapped), (12, 17));
        assert!(!approval.already_approved);
        let stored = store.get_schedule("p").await.unwrap().unwrap();
        assert!(stored.deletions_approved);
        assert!(
            approve_deletions(&store, "p", now)
                .await
                .unwrap()
                .already_approved
        );
    }
}
