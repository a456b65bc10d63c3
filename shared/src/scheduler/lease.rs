//! A per-binding lease: owner and expiry written on the schedule with a conditional write on its
//! revision, so of two runs that read the same schedule only one can take it. A lease is
//! released with the binding's next due time, or lapses on its own if its run died.

use chrono::{DateTime, Utc};

use super::schedule::BindingSchedule;
use super::settings::SchedulerSettings;
use crate::ports::{ScheduleStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Another run holds it, or took it first.
    #[error("binding is leased by another run")]
    Held,
    #[error(transparent)]
    Store(StoreError),
}

/// A held lease; `schedule` is the caller's working copy, written back on release.
#[derive(Debug)]
pub struct Lease {
    pub schedule: BindingSchedule,
}

impl Lease {
    /// Takes the lease of `binding_id` after a consistent read; `Ok(None)` without a schedule.
    pub async fn take<S: ScheduleStore>(
        store: &S,
        binding_id: &str,
        owner: &str,
        now: DateTime<Utc>,
        settings: &SchedulerSettings,
    ) -> Result<Option<Self>, LeaseError> {
        match store.get_schedule(binding_id).await {
            Ok(Some(schedule)) => Self::acquire(store, schedule, owner, now, settings)
                .await
                .map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(LeaseError::Store(e)),
        }
    }

    /// Takes the lease of a schedule read from the due index. The index may lag; if the write
    /// loses on the revision, one consistent re-read decides.
    pub async fn take_from<S: ScheduleStore>(
        store: &S,
        schedule: BindingSchedule,
        owner: &str,
        now: DateTime<Utc>,
        settings: &SchedulerSettings,
    ) -> Result<Self, LeaseError> {
        let binding_id = schedule.binding_id.clone();
        match Self::acquire(store, schedule, owner, now, settings).await {
            Err(LeaseError::Held) => {}
            other => return other,
        }
        match store.get_schedule(&binding_id).await {
            Ok(Some(fresh))
                if !fresh.leased_by_other(owner, now) && fresh.next_due(settings) <= now =>
            {
                Self::acquire(store, fresh, owner, now, settings).await
            }
            // Someone else handled it already (it is not due any more), or holds it.
            Ok(_) => Err(LeaseError::Held),
            Err(e) => Err(LeaseError::Store(e)),
        }
    }

    async fn acquire<S: ScheduleStore>(
        store: &S,
        mut schedule: BindingSchedule,
        owner: &str,
        now: DateTime<Utc>,
        settings: &SchedulerSettings,
    ) -> Result<Self, LeaseError> {
        if schedule.leased_by_other(owner, now) {
            return Err(LeaseError::Held);
        }
        schedule.lease_owner = Some(owner.to_owned());
        schedule.lease_expires_at = Some(now + settings.lease_duration);
        schedule.refresh_due(settings);
        match store.put_schedule(&schedule).await {
            Ok(revision) => {
                schedule.revision = revision;
                Ok(Self { schedule })
            }
            Err(StoreError::ConditionFailed(_)) => Err(LeaseError::Held),
            Err(e) => Err(LeaseError::Store(e)),
        }
    }

    /// Writes the schedule back without the lease, due at its next due time.
    pub async fn release<S: ScheduleStore>(
        mut self,
        store: &S,
        settings: &SchedulerSettings,
    ) -> Result<(), StoreError> {
        self.schedule.lease_owner = None;
        self.schedule.lease_expires_at = None;
        self.schedule.refresh_due(settings);
        store.put_schedule(&self.schedule).await.map(|_| ())
    }
}
