//! Narrow traits (ports), each sized to one capability a handler needs, grouped by what they
//! reach: the tasks table, the sync table, the queue, Graph. Adapters in `store`,
//! `queue` and `graph` implement them; in-memory adapters implement them too, for unit tests and
//! the local run, and pass the same adapter test suite as the real ones.
//!
//! Futures are declared `Send` so handlers can run them on the multi-threaded runtime.

mod binding_admin;
mod conflict_log;
mod graph;
mod queue;
mod sync_table;
mod tasks_table;

pub use binding_admin::*;
pub use conflict_log::*;
pub use graph::*;
pub use queue::*;
pub use sync_table::*;
pub use tasks_table::*;

/// Why a store call failed, split by what the caller should do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttling, timeouts, 5xx: try again later (the message goes back to the queue).
    #[error("store temporarily unavailable: {0}")]
    Transient(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A conditional write lost a race: re-read and decide again.
    #[error("conditional write failed: {0}")]
    ConditionFailed(String),
    /// An item in the store breaks its schema: give up on this item and record the reason.
    #[error("stored item is invalid: {0}")]
    InvalidItem(String),
    /// Missing table, access denied, wrong region: fix the configuration.
    #[error("store misconfigured: {0}")]
    Config(#[source] Box<dyn std::error::Error + Send + Sync>),
}
