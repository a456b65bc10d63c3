//! The subscription hints (`reauthorize_subscription`, `recreate_subscription`) belong to the
//! scheduler's code; the worker hands them over through this port.

use std::future::Future;

use chrono::Utc;

use super::{MessageOutcome, WorkerDeps, WorkerError};
use crate::graph::GraphClient;
use crate::ports::HintSend;
use crate::scheduler::{HintError, SchedulerDeps, SchedulerSettings, SchedulerStore};

/// How the worker function hands subscription hints to the scheduler's code, built once per
/// execution environment and applied per invocation: the Lambda main and the tests wire the
/// worker through this one value, so what the tests run is what is deployed. It needs the
/// webhook's URL (a recreated subscription posts there); without it the hints are acknowledged
/// and left to the scheduler's next run.
#[derive(Debug, Clone)]
pub struct SubscriptionWiring {
    settings: Option<SchedulerSettings>,
}

impl SubscriptionWiring {
    /// From the deployment's `WEBHOOK_BASE_URL` (or why it is missing) and Graph tenant.
    pub fn for_deployment<E: std::fmt::Display>(
        webhook_base_url: Result<String, E>,
        tenant_id: &str,
    ) -> Self {
        match webhook_base_url {
            Ok(base) => Self::with_settings(SchedulerSettings::for_deployment(&base, tenant_id)),
            Err(e) => {
                tracing::warn!(error = %e, "subscription hints left to the scheduler's runs");
                Self { settings: None }
            }
        }
    }

    /// With the scheduler's settings as given (tests pass their stack's).
    pub fn with_settings(settings: SchedulerSettings) -> Self {
        Self {
            settings: Some(settings),
        }
    }

    /// Whether subscription hints are handled here (else acknowledged for the scheduler).
    pub fn handles_hints(&self) -> bool {
        self.settings.is_some()
    }

    /// One invocation's worker: `graph` should carry the invocation's deadline; the same client
    /// serves the sync and the subscription calls, so one batch's Graph calls are counted once.
    pub fn worker<S, T, Q>(
        &self,
        sync: S,
        tasks: T,
        graph: GraphClient,
        queue: Q,
    ) -> WorkerDeps<S, T, GraphClient, Q, Option<SchedulerDeps<S, Q>>>
    where
        S: SchedulerStore + Clone,
        Q: HintSend + Clone + 'static,
    {
        let hints = self.settings.clone().map(|settings| SchedulerDeps {
            store: sync.clone(),
            queue: queue.clone(),
            graph: graph.clone(),
            settings,
        });
        WorkerDeps::new(sync, tasks, graph, queue).with_subscription_hints(hints)
    }
}

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
