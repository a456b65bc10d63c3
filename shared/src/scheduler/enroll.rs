//! Enrolling bindings: every binding gets a schedule, due at once, so its first run gives it a
//! subscription and a sweep.

use chrono::{DateTime, Utc};

use super::BindingSchedule;
use crate::model::Binding;
use crate::ports::{BindingList, ScheduleStore, StoreError};

/// Creates a schedule (due now) for every binding without one.
pub async fn enroll_new_bindings<S>(store: &S, now: DateTime<Utc>) -> Result<u32, StoreError>
where
    S: BindingList + ScheduleStore,
{
    let scheduled = store.scheduled_binding_ids().await?;
    let mut enrolled = 0;
    for binding in store.all_bindings().await? {
        if scheduled.contains(&binding.id) {
            continue;
        }
        match enroll(store, &binding, now).await {
            Ok(()) => enrolled += 1,
            Err(StoreError::ConditionFailed(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(enrolled)
}

/// Creates the schedule of a new binding, due at once; `ConditionFailed` if it has one.
pub async fn enroll<S: ScheduleStore>(
    store: &S,
    binding: &Binding,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let schedule = BindingSchedule::new(&binding.id, binding.remote, now);
    store.put_schedule(&schedule).await.map(|_| ())
}
