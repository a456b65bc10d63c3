//! `tasksync bindings add`: the command line of `tasksync::ops::bindings::add`, and what it
//! prints: the first sync's plan with `--dry-run`, else what the first sync did.

use std::io::Write;
use std::process::ExitCode;

use tasksync::model::{ConflictPolicy, Direction};
use tasksync::ops::bindings::add::{Added, add};
use tasksync::ops::bindings::validate::{NewBinding, Target, container_text};
use tasksync::sync::ResyncReport;

use super::connect::Connected;
use super::plan_table::plan_table;
use super::progress::Progress;
use crate::error::CliError;

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("container").required(true).args(["todo_list", "plan"])))]
pub struct AddArgs {
    /// The new binding's id (letters, digits, '-', '_', '.').
    pub id: String,
    /// The local list (`list_id` of the tasks table) to sync.
    #[arg(long)]
    pub local_list: String,
    /// The To Do list id (`tasksync discover --user USER` lists them); needs --user.
    #[arg(long, requires = "user")]
    pub todo_list: Option<String>,
    /// The owner of the To Do list: user id or user principal name.
    #[arg(long, requires = "todo_list")]
    pub user: Option<String>,
    /// The Planner plan id (`tasksync discover` lists them).
    #[arg(long, conflicts_with_all = ["todo_list", "user"])]
    pub plan: Option<String>,
    /// Which way changes flow.
    #[arg(long, default_value = "both", value_parser = ["both", "to-remote", "to-local"])]
    pub direction: String,
    /// Who wins a field both sides changed differently.
    #[arg(long = "conflict", default_value = "remote-wins", value_parser = ["remote-wins", "local-wins", "newer"])]
    pub conflict: String,
    /// Also import and create tasks that are completed already (default: leave them).
    #[arg(long)]
    pub import_completed: bool,
    /// The zone (IANA or Windows name) of due and start days.
    #[arg(long, default_value = "UTC")]
    pub time_zone: String,
    /// Print what the first sync would do and write nothing on either side.
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON instead of text (and no progress bar).
    #[arg(long)]
    pub json: bool,
}

impl AddArgs {
    fn new_binding(&self) -> NewBinding {
        let target = match (&self.plan, &self.todo_list, &self.user) {
            (Some(plan_id), _, _) => Target::Planner {
                plan_id: plan_id.clone(),
            },
            (None, list, user) => Target::Todo {
                list_id: list.clone().unwrap_or_default(),
                user: user.clone().unwrap_or_default(),
            },
        };
        NewBinding {
            id: self.id.clone(),
            local_list_id: self.local_list.clone(),
            target,
            direction: Direction::parse_flag(&self.direction).unwrap_or(Direction::Both),
            conflict_policy: ConflictPolicy::parse(&self.conflict.replace('-', "_"))
                .unwrap_or(ConflictPolicy::RemoteWins),
            import_completed: self.import_completed,
            time_zone: self.time_zone.clone(),
        }
    }
}

/// `tasksync bindings add`.
pub async fn run(args: AddArgs) -> Result<ExitCode, CliError> {
    let connected = Connected::from_env().await?;
    let progress = Progress::new(args.json || args.dry_run);
    let added = add(
        &connected.engine(),
        &args.new_binding(),
        args.dry_run,
        progress.options(false),
    )
    .await;
    progress.finish();
    let mut out = std::io::stdout().lock();
    match added? {
        Added::Planned { binding, plan } => {
            if args.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&plan)?)?;
            } else {
                writeln!(
                    out,
                    "Dry run: binding {} of local list {} with {} is valid; its first sync would do this (nothing was written):",
                    binding.id,
                    binding.local_list_id,
                    container_text(&binding)
                )?;
                out.write_all(plan_table(&plan).as_bytes())?;
            }
        }
        Added::Synced { binding, report } => {
            if args.json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&report_json(&binding.id, &report))?
                )?;
            } else {
                writeln!(
                    out,
                    "Added binding {} (local list {} with {}). First sync: {}",
                    binding.id,
                    binding.local_list_id,
                    container_text(&binding),
                    report_text(&report)
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A resync's report in one sentence.
pub fn report_text(r: &ResyncReport) -> String {
    format!(
        "{} pairs, {} matched by title, {} changed, {} unchanged, {} skipped, {} failed{}.",
        r.pairs,
        r.matched_by_title,
        r.changed,
        r.unchanged,
        r.skipped,
        r.failed,
        if r.deletions_held > 0 {
            format!(
                ", {} deletions held back by the mass-deletion guard",
                r.deletions_held
            )
        } else {
            String::new()
        }
    )
}

/// A resync's report as JSON.
pub fn report_json(binding_id: &str, r: &ResyncReport) -> serde_json::Value {
    serde_json::json!({
        "binding_id": binding_id,
        "pairs": r.pairs,
        "matched_by_title": r.matched_by_title,
        "changed": r.changed,
        "unchanged": r.unchanged,
        "skipped": r.skipped,
        "failed": r.failed,
        "deletions_held": r.deletions_held,
    })
}
