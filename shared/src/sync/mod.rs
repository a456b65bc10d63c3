//! The sync engine (issue 4): normalised fields and the field mapping per side (`fields`,
//! `remote`), the mapping record (`mapping`), the pure decision (`reconcile`) and the executor
//! that applies a plan (`executor`). docs/sync-engine.md describes the tables and policies.

pub mod executor;
pub mod fields;
pub mod mapping;
pub mod mass_deletion;
pub mod reconcile;
pub mod records;
pub mod remote;

pub use executor::{ExecDeps, ExecError, Executed, Pair, execute};
pub use fields::{ALL_FIELDS, Field, FieldMap, SideRules};
pub use mapping::{Conflict, Mapping, MappingState, Side};
pub use reconcile::{LocalSide, Merge, Plan, RemoteTask, reconcile};
pub use records::{DeadLetterReason, SyncIssue};
pub use remote::RemoteTasks;
