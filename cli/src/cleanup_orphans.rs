//! `tasksync cleanup-orphans ID (--dry-run | --confirm)`: the remote tasks of a binding that
//! carry tasksync's marker but that no local task owns (`tasksync::ops::orphan_cleanup`):
//! listed with `--dry-run`, deleted with `--confirm`. A task without the marker is never one.

use std::io::Write;
use std::process::ExitCode;

use tasksync::config::{Deployment, ProcessEnv};
use tasksync::ops::orphan_cleanup::{Orphan, cleanup_orphans};

use crate::error::CliError;
use crate::output::{rows_or_table, table};
use crate::recovery::{Mode, RecoveryError, binding, graph, progress};

#[derive(clap::Args, Debug)]
pub struct CleanupOrphansArgs {
    /// The binding whose container is cleaned.
    pub binding_id: String,
    #[command(flatten)]
    pub mode: Mode,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `tasksync cleanup-orphans`.
pub async fn run(args: CleanupOrphansArgs) -> Result<ExitCode, CliError> {
    let deployment = Deployment::from_env(&ProcessEnv).await?;
    let binding = binding(&deployment, &args.binding_id).await?;
    let graph = graph(&deployment).await?;
    let bar = progress(0, args.json, "looking at remote tasks");
    let orphans = cleanup_orphans(
        &deployment.sync_store(),
        &deployment.task_store(),
        &graph,
        &binding,
        args.mode.changes(),
        &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    )
    .await;
    bar.finish_and_clear();
    let orphans = orphans.map_err(RecoveryError::from)?;
    let mut out = std::io::stdout().lock();
    rows_or_table(
        &mut out,
        args.json,
        || serde_json::to_string_pretty(&orphans),
        || orphans_table(&binding.id, &orphans, args.mode.changes()),
    )?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn orphans_table(binding_id: &str, orphans: &[Orphan], deleted: bool) -> String {
    if orphans.is_empty() {
        return format!(
            "No orphans: every marked task of binding {binding_id} belongs to its local task.\n"
        );
    }
    let rows: Vec<Vec<String>> = orphans
        .iter()
        .map(|o| {
            vec![
                o.remote_id.clone(),
                o.marker.clone(),
                o.title.clone(),
                o.reason.describe(),
            ]
        })
        .collect();
    let mut text = table(&["REMOTE TASK", "MARKER", "TITLE", "WHY"], &rows);
    if deleted {
        text.push_str(&format!(
            "Deleted {} orphan(s) of binding {binding_id}.\n",
            orphans.len()
        ));
    } else {
        text.push_str(&format!(
            "Dry run: {} orphan(s) of binding {binding_id} would be deleted; nothing was deleted.\n",
            orphans.len()
        ));
    }
    text
}
