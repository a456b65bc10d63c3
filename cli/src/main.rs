//! `tasksync`: the operations tool. Thin: parses the command line and runs the command.

use clap::{Parser, Subcommand};
use tasksync_cli::{
    approve_deletions, bindings, cleanup_orphans, conflicts, dlq, exit, local_run, reset, status,
    sync_issues, sync_now,
};

#[derive(Parser)]
#[command(
    name = "tasksync",
    version,
    about = "tasksync operations tool",
    after_help = exit::HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the system on this machine as AWS runs it: moto (or --aws-endpoint, or real AWS), the
    /// Graph emulator (or a real tenant), the webhook, worker, pipe and scheduler. Prints the
    /// environment as `export` lines on stdout; Ctrl-C stops everything. `local demo` is the
    /// scripted walk-through.
    Local(local_run::LocalArgs),
    /// List the task items that are not synced, and why (list, task, binding, since, reason).
    /// Reads SYNC_TABLE with the functions' configuration.
    SyncIssues(sync_issues::SyncIssuesArgs),
    /// List the messages in the work queue's dead-letter queue with their kind, ids, receive
    /// count and the last failure reason recorded beside them, without removing them;
    /// `--pipe` lists the pipe's; `dlq redrive` moves hints back to the work queue.
    Dlq(dlq::DlqArgs),
    /// One row per binding: subscription, last sweep and next due, interval class, the
    /// mass-deletion guard, the circuit breaker, the lease. Exits 3 when at least one binding
    /// needs an operator (failing subscription or sweep, withheld deletions, open breaker,
    /// expired subscription).
    Status(status::StatusArgs),
    /// Let the next sweep send, once, the deletions the mass-deletion guard withholds on a
    /// binding. Refused (exit 1) when the binding does not exist or nothing is withheld.
    ApproveDeletions(approve_deletions::ApproveDeletionsArgs),
    /// Forget a binding's mappings and the sync issues of its tasks, and queue its resync, which
    /// pairs the tasks again by their markers. Never touches a task.
    Reset(reset::ResetArgs),
    /// List (--dry-run) or delete (--confirm) the remote tasks that carry this binding's marker
    /// but whose local task is gone or paired with another remote task.
    CleanupOrphans(cleanup_orphans::CleanupOrphansArgs),
    /// The conflict history: each field both sides changed differently, both values and the
    /// winner.
    Conflicts(conflicts::ConflictsArgs),
    /// Add, list, show, pause, resume and remove bindings (docs/bindings.md).
    Bindings(bindings::BindingsArgs),
    /// Resync one binding now with the worker's own engine; `--dry-run` prints the plan per
    /// task and writes nothing.
    Sync(sync_now::SyncArgs),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tasksync::telemetry::init_local("warn");
    exit::report(match Cli::parse().command {
        Command::Local(args) => local_run::run(args).await,
        Command::SyncIssues(args) => sync_issues::run(args).await,
        Command::Dlq(args) => dlq::run(args).await,
        Command::Status(args) => status::run(args).await,
        Command::ApproveDeletions(args) => approve_deletions::run(args).await,
        Command::Reset(args) => reset::run(args).await,
        Command::CleanupOrphans(args) => cleanup_orphans::run(args).await,
        Command::Conflicts(args) => conflicts::run(args).await,
        Command::Bindings(args) => bindings::run(args).await,
        Command::Sync(args) => sync_now::run(args).await,
    })
}
