//! `tasksync bindings …`: add a binding with its first sync, list and show them, pause, resume
//! and remove one. The rules are `tasksync::ops::bindings`; these modules parse, print and
//! return the exit code (docs/bindings.md).

mod add;
mod connect;
mod pause;
mod plan_table;
mod progress;
mod remove;
mod show;

use std::process::ExitCode;

pub use add::{AddArgs, report_json, report_text};
pub use connect::Connected;
pub use plan_table::plan_table;
pub use progress::Progress;
pub use remove::RemoveArgs;

use crate::error::CliError;

#[derive(clap::Args, Debug)]
pub struct BindingsArgs {
    #[command(subcommand)]
    pub command: BindingsCommand,
}

#[derive(clap::Args, Debug)]
pub struct IdArgs {
    /// The binding's id.
    pub id: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Subcommand, Debug)]
pub enum BindingsCommand {
    /// Check a new binding against Graph and the sync table, write it, and run its first sync
    /// (cold-start matching: tasks on both sides with the same title are paired, not copied).
    Add(Box<AddArgs>),
    /// Every binding: its local list, container, policies, first sync and state.
    List(ListArgs),
    /// One binding's attributes and what the sync table keeps for it.
    Show(IdArgs),
    /// Stop syncing a binding: hints are acknowledged and remembered, sweeps skip it, the
    /// subscription is kept.
    Pause(IdArgs),
    /// Sync a paused binding again, with a resync that catches up on what changed meanwhile.
    Resume(IdArgs),
    /// Remove a binding: its Graph subscription, schedule, mappings and records; never a task.
    Remove(RemoveArgs),
}

/// `tasksync bindings …`.
pub async fn run(args: BindingsArgs) -> Result<ExitCode, CliError> {
    match args.command {
        BindingsCommand::Add(args) => add::run(*args).await,
        BindingsCommand::List(args) => show::run_list(args.json).await,
        BindingsCommand::Show(args) => show::run_show(&args.id, args.json).await,
        BindingsCommand::Pause(args) => pause::run_pause(&args.id).await,
        BindingsCommand::Resume(args) => pause::run_resume(&args.id, args.json).await,
        BindingsCommand::Remove(args) => remove::run(args).await,
    }
}
