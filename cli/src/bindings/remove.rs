//! `tasksync bindings remove ID (--dry-run | --confirm)`.

use std::io::Write;
use std::process::ExitCode;

use tasksync::ops::bindings::remove::{Removal, remove};

use super::connect::Connected;
use crate::error::CliError;

#[derive(clap::Args, Debug)]
pub struct RemoveArgs {
    /// The binding to remove.
    pub id: String,
    /// Print what would be deleted and delete nothing.
    #[arg(long, conflicts_with = "confirm")]
    pub dry_run: bool,
    /// Really remove it (its subscription, schedule, mappings and records; never a task).
    #[arg(long, required_unless_present = "dry_run")]
    pub confirm: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `tasksync bindings remove`.
pub async fn run(args: RemoveArgs) -> Result<ExitCode, CliError> {
    let connected = Connected::from_env().await?;
    let removal = remove(&connected.sync, &connected.graph, &args.id, args.dry_run).await?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&removal)?)?;
    } else {
        out.write_all(removal_text(&removal).as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn removal_text(r: &Removal) -> String {
    let subscriptions = if r.subscriptions.is_empty() {
        "no Graph subscription".to_owned()
    } else {
        format!("Graph subscription(s) {}", r.subscriptions.join(", "))
    };
    let items = if r.items.is_empty() {
        "no other sync-table item".to_owned()
    } else {
        r.items
            .iter()
            .map(|(kind, n)| format!("{n} {kind} item(s)"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if r.dry_run {
        format!(
            "Dry run: removing binding {} would delete {subscriptions}, {items} and the binding item; no task on either side. Nothing was deleted.\n",
            r.binding_id
        )
    } else {
        format!(
            "Removed binding {}: deleted {subscriptions}, {items} and the binding item; no task on either side was touched.\n",
            r.binding_id
        )
    }
}
