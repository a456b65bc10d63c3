//! `tasksync`: the operations tool. Thin: parses the command line and runs the command.

use clap::{Parser, Subcommand};
use tasksync::config::ProcessEnv;
use tasksync_cli::binding_commands::{self, EXIT_NEEDS_OPERATOR, Health};
use tasksync_cli::{local_run, ops_commands};

#[derive(Parser)]
#[command(name = "tasksync", version, about = "tasksync operations tool")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole system on this machine on its embedded defaults (Graph emulator, in-memory
    /// stores, the real webhook and worker handlers) and show changes flowing both ways.
    Local(local_run::LocalArgs),
    /// List the task items that are not synced, and why (list, task, binding, since, reason).
    /// Reads SYNC_TABLE with the functions' configuration.
    SyncIssues(ops_commands::SyncIssuesArgs),
    /// List the messages in the work queue's dead-letter queue with their kind, ids, receive
    /// count and the last failure reason recorded beside them, without removing them.
    Dlq(ops_commands::DlqArgs),
    /// One row per binding: subscription, last sweep and next due, interval class, the
    /// mass-deletion guard, the circuit breaker, the lease. Exit codes: 0 every binding is
    /// healthy, 3 at least one needs an operator (failing subscription or sweep, withheld
    /// deletions, open breaker, expired subscription), 1 the command failed, 2 bad usage.
    Status(binding_commands::StatusArgs),
    /// Let the next sweep send, once, the deletions the mass-deletion guard withholds on a
    /// binding. Refused (exit 1) when the binding does not exist or nothing is withheld.
    ApproveDeletions(binding_commands::ApproveDeletionsArgs),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tasksync::telemetry::init_local("warn");
    let cli = Cli::parse();
    let done = std::process::ExitCode::SUCCESS;
    let result: Result<std::process::ExitCode, Box<dyn std::error::Error>> = match cli.command {
        Command::Local(args) => local_run::run(args)
            .await
            .map(|()| done)
            .map_err(Into::into),
        Command::SyncIssues(args) => async {
            let (resources, sdk) = ops_commands::configuration_from_env(&ProcessEnv).await?;
            let mut out = std::io::stdout().lock();
            ops_commands::run_sync_issues(&args, &resources, &sdk, &mut out).await?;
            Ok::<_, ops_commands::OpsCommandError>(done)
        }
        .await
        .map_err(Into::into),
        Command::Dlq(args) => async {
            let (resources, sdk) = ops_commands::configuration_from_env(&ProcessEnv).await?;
            let mut out = std::io::stdout().lock();
            ops_commands::run_dlq(&args, &resources, &sdk, &mut out).await?;
            Ok::<_, ops_commands::OpsCommandError>(done)
        }
        .await
        .map_err(Into::into),
        Command::Status(args) => async {
            let (resources, sdk) = ops_commands::configuration_from_env(&ProcessEnv).await?;
            let mut out = std::io::stdout().lock();
            let health = binding_commands::run_status(&args, &resources, &sdk, &mut out).await?;
            Ok::<_, ops_commands::OpsCommandError>(match health {
                Health::AllHealthy => done,
                Health::NeedsOperator => std::process::ExitCode::from(EXIT_NEEDS_OPERATOR),
            })
        }
        .await
        .map_err(Into::into),
        Command::ApproveDeletions(args) => async {
            let (resources, sdk) = ops_commands::configuration_from_env(&ProcessEnv).await?;
            let mut out = std::io::stdout().lock();
            binding_commands::run_approve_deletions(&args, &resources, &sdk, &mut out).await?;
            Ok::<_, ops_commands::OpsCommandError>(done)
        }
        .await
        .map_err(Into::into),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let mut shown = e.to_string();
            eprintln!("tasksync: {shown}");
            let mut source = e.source();
            while let Some(cause) = source {
                // Most messages already quote their cause; print only what they do not say.
                let text = cause.to_string();
                if !shown.contains(&text) {
                    eprintln!("  caused by: {text}");
                }
                shown = text;
                source = cause.source();
            }
            std::process::ExitCode::FAILURE
        }
    }
}
