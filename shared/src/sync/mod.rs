//! The sync engine: a pair's whole life lives here, so its callers only name the binding and
//! what to look at ([`Engine`]).
//!
//! - the data: normalised fields and their rules (`fields`), the mapping record (`mapping`), the
//!   application's side as read (`local_state`), the remote sides, one per container kind
//!   (`remote`);
//! - the decision, pure: `reconcile` (with `field_merge` and `echo`) produces a [`Plan`];
//! - the life of a pair: `resolve` (remote task → mapping → local id), `orphans` (what a lost
//!   create left), `pair` (read → decide → apply → retry), `resync` (a whole binding, with
//!   `cold_start` matching on its first sync and `resync_plan` for its dry run), and
//!   `executor` (the only part that writes);
//! - failures, classified once by what the caller must do (`failure`).
//!
//! docs/sync-engine.md describes the tables and policies.

pub mod cold_start;
pub mod echo;
mod engine;
pub mod executor;
pub mod failure;
mod field_merge;
pub mod fields;
pub mod local_state;
pub mod mapping;
pub mod mass_deletion;
pub mod orphans;
mod pair;
pub mod plan;
pub mod reconcile;
pub mod records;
pub mod remote;
mod resolve;
pub mod resync;
pub mod resync_plan;
mod scope;

pub use engine::Engine;
pub use executor::Executed;
pub use failure::SyncFailure;
pub use fields::{ALL_FIELDS, Field, FieldMap, SideRules};
pub use local_state::LocalState;
pub use mapping::{Conflict, Mapping, MappingState, Side};
pub use pair::{Pair, PairKey};
pub use plan::{Merge, Plan, SkipReason};
pub use reconcile::reconcile;
pub use records::{DeadLetterReason, SyncIssue};
pub use remote::{OpenRemote, RemoteSide, RemoteTask};
pub use resync::{ResyncOptions, ResyncReport};
pub use resync_plan::{PairedBy, PlannedPair, ResyncPlan};
pub use scope::{EngineSettings, rules_of};
