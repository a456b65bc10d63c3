//! The subscription hints (`reauthorize_subscription`, `recreate_subscription`) belong to the
//! scheduler's code; the worker hands them over through this port.

use std::future::Future;

use chrono::Utc;

use super::{MessageOutcome, WorkerError};
use crate::ports::HintSend;
use crate::scheduler::{HintError, SchedulerDeps, SchedulerStore};

/// Handles the subscription hints.
pub trait SubscriptionHints: Send + Sync {
    fn reauthorize_subscription(
        &self,
        binding_id: &str,
        subscription_id: &str,
    ) -> impl Future<Output = Result<MessageOutcome, WorkerError>> + Send;

    fn recreate_subscription(
        &self,
        binding_id: &str,
        subscription_id: &str,
    ) -> impl Future<Output = Result<MessageOutcome, WorkerError>> + Send;
}

/// No subscription handling here: the hint is acknowledged with a log (the scheduler's next run
/// renews or recreates the subscription anyway).
#[derive(Debug, Clone, Copy, Default)]
pub struct LeaveToScheduler;

impl SubscriptionHints for LeaveToScheduler {
    async fn reauthorize_subscription(
        &self,
        binding_id: &str,
        _subscription_id: &str,
    ) -> Result<MessageOutcome, WorkerError> {
        tracing::info!(
            binding_id,
            "reauthorize_subscription left to the scheduler's next run"
        );
        Ok(MessageOutcome::NotYetHandled {
            kind: "reauthorize_subscription",
        })
    }

    async fn recreate_subscription(
        &self,
        binding_id: &str,
        _subscription_id: &str,
    ) -> Result<MessageOutcome, WorkerError> {
        tracing::info!(
            binding_id,
            "recreate_subscription left to the scheduler's next run"
        );
        Ok(MessageOutcome::NotYetHandled {
            kind: "recreate_subscription",
        })
    }
}

fn hint_result<T: std::fmt::Debug>(
    binding_id: &str,
    result: Result<T, HintError>,
) -> Result<MessageOutcome, WorkerError> {
    match result {
        Ok(done) => Ok(MessageOutcome::Subscription {
            binding_id: binding_id.to_owned(),
            detail: format!("{done:?}"),
        }),
        Err(HintError::UnknownBinding(id)) => Ok(MessageOutcome::UnknownBinding { binding_id: id }),
        Err(e @ HintError::Busy(_)) => Err(WorkerError::Retry {
            reason: e.to_string(),
            after: Some(std::time::Duration::from_secs(30)),
        }),
        Err(HintError::Store(e)) => Err(e.into()),
    }
}

impl<S, Q> SubscriptionHints for SchedulerDeps<S, Q>
where
    S: SchedulerStore,
    Q: HintSend + Clone + 'static,
{
    async fn reauthorize_subscription(
        &self,
        binding_id: &str,
        subscription_id: &str,
    ) -> Result<MessageOutcome, WorkerError> {
        let result = crate::scheduler::reauthorize_subscription(
            self,
            binding_id,
            subscription_id,
            Utc::now(),
        )
        .await;
        hint_result(binding_id, result)
    }

    async fn recreate_subscription(
        &self,
        binding_id: &str,
        subscription_id: &str,
    ) -> Result<MessageOutcome, WorkerError> {
        let result =
            crate::scheduler::recreate_subscription(self, binding_id, subscription_id, Utc::now())
                .await;
        hint_result(binding_id, result)
    }
}

/// Optional subscription handling (e.g. when the scheduler's settings are not configured for
/// this function): `None` acknowledges like [`LeaveToScheduler`].
impl<C: SubscriptionHints> SubscriptionHints for Option<C> {
    async fn reauthorize_subscription(
        &self,
        binding_id: &str,
        subscription_id: &str,
    ) -> Result<MessageOutcome, WorkerError> {
        match self {
            Some(c) => {
                c.reauthorize_subscription(binding_id, subscription_id)
                    .await
            }
            None => {
                LeaveToScheduler
                    .reauthorize_subscription(binding_id, subscription_id)
                    .await
            }
        }
    }

    async fn recreate_subscription(
        &self,
        binding_id: &str,
        subscription_id: &str,
    ) -> Result<MessageOutcome, WorkerError> {
        match self {
            Some(c) => c.recreate_subscription(binding_id, subscription_id).await,
            None => {
                LeaveToScheduler
                    .recreate_subscription(binding_id, subscription_id)
                    .await
            }
        }
    }
}
