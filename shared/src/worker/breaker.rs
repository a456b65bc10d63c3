//! The per-binding circuit breaker (docs/architecture.md principle 7): binding-level failures (the plan or
//! list is gone, the app lost access) are counted on the binding; at the threshold the breaker
//! opens with the reason, and the binding's messages are acknowledged and logged instead of
//! filling the DLQ. After the cooldown one message is let through: success closes the breaker,
//! failure opens it again. An operator closes it by saving the binding (`tasksync` CLI).

use chrono::Utc;

use super::{MessageOutcome, WorkerError, WorkerSettings};
use crate::model::{Binding, CircuitBreaker};
use crate::ports::SyncRecords;

/// `Some(outcome)` while the breaker is open.
pub(super) fn open_reason(binding: &Binding) -> Option<MessageOutcome> {
    let breaker = binding.breaker.as_ref()?;
    let until = breaker.open_until?;
    if Utc::now() < until {
        tracing::warn!(
            binding_id = %binding.id,
            reason = %breaker.reason,
            open_until = %until,
            "binding's circuit breaker is open: message acknowledged without processing"
        );
        Some(MessageOutcome::BreakerOpen {
            binding_id: binding.id.clone(),
            reason: breaker.reason.clone(),
        })
    } else {
        None
    }
}

/// Closes the breaker after a success (one write, only when there was something recorded).
pub(super) async fn settle<S: SyncRecords, T>(
    sync: &S,
    binding: &Binding,
    result: &Result<T, WorkerError>,
) {
    if binding.breaker.is_some()
        && result.is_ok()
        && let Err(e) = sync.set_binding_breaker(&binding.id, None).await
    {
        tracing::warn!(error = %e, "could not close the circuit breaker");
    }
}

/// Counts a binding-level failure; true when the breaker is (now) open.
pub(super) async fn record_failure<S>(
    sync: &S,
    binding_id: &str,
    reason: &str,
    settings: &WorkerSettings,
) -> bool
where
    S: SyncRecords + crate::ports::BindingLookup,
{
    let now = Utc::now();
    let previous = match sync.find_binding(binding_id).await {
        Ok(Some(b)) => b.breaker,
        Ok(None) => return true,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the binding's breaker");
            return false;
        }
    };
    let failures = previous.map_or(0, |b| b.failures).saturating_add(1);
    let open = failures >= settings.breaker_threshold;
    let breaker = CircuitBreaker {
        failures,
        reason: reason.to_owned(),
        last_failure_at: now,
        open_until: open.then(|| {
            now + chrono::Duration::from_std(settings.breaker_cooldown)
                .unwrap_or(chrono::Duration::minutes(15))
        }),
    };
    if let Err(e) = sync.set_binding_breaker(binding_id, Some(&breaker)).await {
        tracing::warn!(error = %e, "could not record the binding failure");
    }
    open
}
