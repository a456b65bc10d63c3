//! Why syncing a pair (or a binding) stopped, classified once, by what the caller must do.
//!
//! Every store and Graph failure the engine meets becomes a [`SyncFailure`] through the two
//! conversions below, and nowhere else. What a Graph status means can depend on the call: a 404
//! on a task is that task gone (decide again), a 404 on the list or plan itself is the binding
//! broken. The remote sides know which call they made and say so with
//! [`SyncFailure::container_gone`]; every other 404 reaches the engine as [`SyncFailure::Stale`].
//! A 403 that is not a quota code is a missing permission: always the binding's, whichever call
//! met it, so no `?` can turn it into a per-message rejection that bypasses the breaker.

use std::time::Duration;

use crate::graph::GraphError;
use crate::model::Binding;
use crate::ports::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncFailure {
    /// This task cannot be synced as it stands (Graph answered 400 or a quota 403, a stored item
    /// breaks its schema): record the reason on the pair and go on with the rest.
    #[error("{reason}")]
    Item { reason: String },
    /// Someone else wrote first (412/409, a lost conditional write, a task that vanished between
    /// the read and the write): read both sides again and decide again.
    #[error("stale: {reason}")]
    Stale { reason: String },
    /// The binding itself is broken (its list or plan is gone, the app lost access): counts
    /// towards the binding's circuit breaker.
    #[error("{reason}")]
    Binding { reason: String },
    /// Worth trying again later without anyone changing anything; `after` is the wait Graph
    /// asked for, when it gave one.
    #[error("retry later{}: {reason}", after.map(|d| format!(" (after {}s)", d.as_secs())).unwrap_or_default())]
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Needs someone to fix the configuration or the data outside this pair (credentials, a
    /// missing table, a Graph answer of the wrong shape): the message fails, and dead-letters
    /// with this reason once its receives are used up.
    #[error("{reason}")]
    Config { reason: String },
}

impl SyncFailure {
    /// A 404 on the binding's container (listing it, creating in it).
    pub fn container_gone(binding: &Binding, call: &str) -> Self {
        SyncFailure::Binding {
            reason: format!(
                "{call} in the bound {:?} container {} answered 404: the container no longer exists",
                binding.remote, binding.remote_container_id
            ),
        }
    }

    /// The 404 of `call` on the binding's container, any other failure as classified.
    pub fn of_container_call(binding: &Binding, call: &str, e: GraphError) -> Self {
        match e {
            GraphError::NotFound => Self::container_gone(binding, call),
            other => other.into(),
        }
    }

    pub fn stale(reason: impl Into<String>) -> Self {
        SyncFailure::Stale {
            reason: reason.into(),
        }
    }

    /// True for a failure that concerns the binding as a whole: further pairs of the same
    /// binding would meet it too.
    pub fn stops_the_binding(&self) -> bool {
        matches!(
            self,
            SyncFailure::Binding { .. } | SyncFailure::Retry { after: Some(_), .. }
        )
    }
}

impl From<GraphError> for SyncFailure {
    fn from(e: GraphError) -> Self {
        let reason = e.to_string();
        match e {
            GraphError::Throttled { retry_after } => SyncFailure::Retry {
                reason,
                after: Some(retry_after),
            },
            GraphError::Transient(_) | GraphError::DeltaExpired => SyncFailure::Retry {
                reason,
                after: None,
            },
            GraphError::Conflict { status } => SyncFailure::Stale {
                reason: format!("Graph answered {status}: the task changed"),
            },
            GraphError::NotFound => SyncFailure::Stale {
                reason: "the task is gone (404)".to_owned(),
            },
            GraphError::Forbidden { .. } if e.is_quota() => SyncFailure::Item { reason },
            GraphError::Forbidden { .. } => SyncFailure::Binding { reason },
            GraphError::BadRequest { .. } => SyncFailure::Item { reason },
            GraphError::Config(_) | GraphError::Protocol(_) => SyncFailure::Config { reason },
        }
    }
}

impl From<StoreError> for SyncFailure {
    fn from(e: StoreError) -> Self {
        let reason = e.to_string();
        match e {
            StoreError::Transient(_) => SyncFailure::Retry {
                reason,
                after: None,
            },
            StoreError::ConditionFailed(reason) => SyncFailure::Stale { reason },
            StoreError::InvalidItem(_) => SyncFailure::Item { reason },
            StoreError::Config(_) => SyncFailure::Config { reason },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(code: &str) -> GraphError {
        GraphError::Forbidden {
            code: code.to_owned(),
            message: "no".to_owned(),
        }
    }

    #[test]
    fn a_missing_permission_is_the_binding_s_and_a_quota_the_item_s() {
        assert!(matches!(
            SyncFailure::from(forbidden("Authorization_RequestDenied")),
            SyncFailure::Binding { .. }
        ));
        assert!(matches!(
            SyncFailure::from(forbidden("MaximumActiveTasksInProject")),
            SyncFailure::Item { .. }
        ));
    }

    #[test]
    fn a_404_is_the_task_unless_the_call_was_on_the_container() {
        let binding = Binding::todo("b", "team", "user", "list");
        assert!(matches!(
            SyncFailure::from(GraphError::NotFound),
            SyncFailure::Stale { .. }
        ));
        assert!(matches!(
            SyncFailure::of_container_call(&binding, "listing", GraphError::NotFound),
            SyncFailure::Binding { .. }
        ));
        assert!(matches!(
            SyncFailure::of_container_call(&binding, "listing", GraphError::Transient("x".into())),
            SyncFailure::Retry { after: None, .. }
        ));
    }

    #[test]
    fn throttling_keeps_graph_s_wait() {
        let wait = Duration::from_secs(7);
        assert_eq!(
            SyncFailure::from(GraphError::Throttled { retry_after: wait }),
            SyncFailure::Retry {
                reason: GraphError::Throttled { retry_after: wait }.to_string(),
                after: Some(wait)
            }
        );
    }
}
