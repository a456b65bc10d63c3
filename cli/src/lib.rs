//! The `tasksync` command's code, as a library so its tests run the very steps the command runs.

pub mod binding_commands;
pub mod local_run;
pub mod ops_commands;
