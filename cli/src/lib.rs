//! The `tasksync` command's code, as a library so its tests run the very steps the command runs.
//! One module per command, each with a `run(args)` that configures itself from the environment,
//! prints, and returns the exit code; `exit` turns a failure into its message and code.

pub mod approve_deletions;
pub mod bindings;
pub mod cleanup_orphans;
pub mod conflicts;
pub mod dlq;
pub mod error;
pub mod exit;
pub mod local_run;
pub mod output;
pub mod recovery;
pub mod redrive;
pub mod reset;
pub mod status;
pub mod status_table;
pub mod sync_issues;
pub mod sync_now;
pub mod when;
