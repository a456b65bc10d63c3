//! What one webhook request did, counted: the source of the metrics and what tests assert on.

use std::collections::BTreeMap;
use std::time::Duration;

/// Why a notification item was not turned into a hint. Every reason is answered the same way to
/// the sender (the request's status does not depend on it); it shows only in logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// The item is not a well-formed notification (see `notification::ItemError`).
    InvalidItem,
    /// No subscription with that id is recorded.
    UnknownSubscription,
    /// The item's clientState is missing or differs from the recorded one.
    ClientStateMismatch,
    /// The item's tenant is not the subscription's (or not the configured) tenant.
    ForeignTenant,
    /// An authentic change notification whose resource is not a To Do task.
    NotATodoTask,
    /// An authentic lifecycle notification with an event this build does not know.
    UnsupportedLifecycleEvent,
    /// The stored subscription record is broken; an operator must look (logged as an error).
    InvalidSubscriptionRecord,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::InvalidItem => "invalid_item",
            RejectReason::UnknownSubscription => "unknown_subscription",
            RejectReason::ClientStateMismatch => "client_state_mismatch",
            RejectReason::ForeignTenant => "foreign_tenant",
            RejectReason::NotATodoTask => "not_a_todo_task",
            RejectReason::UnsupportedLifecycleEvent => "unsupported_lifecycle_event",
            RejectReason::InvalidSubscriptionRecord => "invalid_subscription_record",
        }
    }
}

/// Counters of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookCounts {
    /// Items in the collection (well-formed or not).
    pub received: u64,
    /// Items that passed every check and became a hint.
    pub accepted: u64,
    pub rejected: BTreeMap<RejectReason, u64>,
    /// Hints handed to the queue (accepted items minus duplicates within the request).
    pub hints_enqueued: u64,
    /// Subscription reads that went to the store (cache misses).
    pub store_lookups: u64,
    /// How long the `send_hints` call took, when one was made (successful or not).
    pub enqueue_latency: Option<Duration>,
}

impl WebhookCounts {
    pub fn reject(&mut self, reason: RejectReason) {
        *self.rejected.entry(reason).or_default() += 1;
    }

    pub fn rejected(&self, reason: RejectReason) -> u64 {
        self.rejected.get(&reason).copied().unwrap_or(0)
    }

    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}
