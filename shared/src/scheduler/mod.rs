//! The scheduler function's handler (docs/scheduler.md): keeps every To Do binding's Graph
//! subscription alive and sweeps every binding when it is due.
//!
//! Each binding has a schedule record (`BindingSchedule`) with its own due time; a run takes the
//! due ones oldest first from one gsi1 Query, leases each with a conditional write (so
//! overlapping runs, and workers acting on binding hints, never handle one binding twice), does
//! what is due, and releases the lease with the next due time. Bindings are handled with bounded
//! concurrency, and none is started once the run's deadline is near: the rest stay due, and
//! being the oldest, come first next run.

mod binding;
mod enroll;
mod hints;
mod lease;
mod run;
mod schedule;
mod settings;
pub mod subscription;
pub mod sweep;

pub use enroll::{enroll, enroll_new_bindings};
pub use hints::{
    HintError, approve_withheld_deletions, reauthorize_subscription, recreate_subscription,
    resync_binding,
};
pub use lease::{Lease, LeaseError};
pub use run::{RunContext, TickReport, run_tick};
pub use schedule::{
    BindingSchedule, Failure, GuardReport, IntervalClass, QuietListing, backoff, interval_length,
    planner_interval,
};
pub use settings::SchedulerSettings;
pub use subscription::{SubscriptionAction, SubscriptionRequest};
pub use sweep::{SweepError, SweepStats};

use crate::graph::GraphClient;
use crate::ports::{
    BindingList, BindingLookup, RemoteEtagIndex, ScheduleStore, SubscriptionLookup,
    SubscriptionRemove, SubscriptionSave,
};

/// Every store capability the scheduler uses (the DynamoDB sync store and `MemoryStore` both
/// have them all).
pub trait SchedulerStore:
    BindingLookup
    + BindingList
    + SubscriptionLookup
    + SubscriptionSave
    + SubscriptionRemove
    + ScheduleStore
    + RemoteEtagIndex
    + Clone
    + 'static
{
}

impl<T> SchedulerStore for T where
    T: BindingLookup
        + BindingList
        + SubscriptionLookup
        + SubscriptionSave
        + SubscriptionRemove
        + ScheduleStore
        + RemoteEtagIndex
        + Clone
        + 'static
{
}

/// What the scheduler needs. `graph` should carry the invocation's deadline
/// (`GraphClient::with_deadline`).
#[derive(Clone)]
pub struct SchedulerDeps<S, Q> {
    pub store: S,
    pub queue: Q,
    pub graph: GraphClient,
    pub settings: SchedulerSettings,
}

/// What handling one binding did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingOutcome {
    pub subscription: Option<SubscriptionAction>,
    pub sweep: Option<Result<SweepStats, String>>,
    /// The binding no longer exists; its schedule and subscription were removed.
    pub removed: bool,
}
