//! The command-line tool's tests, in one binary so the AWS SDK is linked once: the operator's
//! commands run as a process (`CARGO_BIN_EXE_tasksync`) against moto, and the steps of
//! `tasksync local`.

mod command;

mod binding_status;
mod bindings;
mod cleanup_orphans;
mod conflicts;
mod local_run;
mod local_system;
mod ops_commands;
mod redrive;
mod reset;
mod sync_now;
