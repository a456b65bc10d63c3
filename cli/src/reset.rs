//! `tasksync reset ID --confirm [--dry-run]`: forgets a binding's mappings and the sync issues of
//! its tasks, and queues its resync, which pairs the tasks again by their markers
//! (`tasksync::ops::reset`). Never touches a task on either side. `--dry-run` counts what would
//! be forgotten and changes nothing.

use std::io::Write;
use std::process::ExitCode;

use tasksync::config::{Deployment, ProcessEnv};
use tasksync::ops::reset::{ResetReport, reset_binding};

use crate::error::CliError;
use crate::output::rows_or_table;
use crate::recovery::{Mode, RecoveryError, binding, progress};

#[derive(clap::Args, Debug)]
pub struct ResetArgs {
    /// The binding whose mappings are forgotten.
    pub binding_id: String,
    #[command(flatten)]
    pub mode: Mode,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `tasksync reset`.
pub async fn run(args: ResetArgs) -> Result<ExitCode, CliError> {
    let deployment = Deployment::from_env(&ProcessEnv).await?;
    let binding = binding(&deployment, &args.binding_id).await?;
    let dry_run = !args.mode.changes();
    let bar = progress(0, args.json || dry_run, "forgetting");
    let report = reset_binding(
        &deployment.sync_store(),
        &deployment.hint_queue(),
        &binding,
        dry_run,
        &|| bar.inc(1),
    )
    .await;
    bar.finish_and_clear();
    let report = report.map_err(RecoveryError::from)?;
    let mut out = std::io::stdout().lock();
    rows_or_table(
        &mut out,
        args.json,
        || serde_json::to_string_pretty(&report),
        || reset_text(&report),
    )?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn reset_text(r: &ResetReport) -> String {
    let what = format!(
        "{} pair(s) ({} mapping item(s) by local id, {} by remote id) and {} sync issue(s) of binding {}",
        r.local_mapping_items,
        r.local_mapping_items,
        r.remote_mapping_items,
        r.sync_issues,
        r.binding_id
    );
    if r.dry_run {
        format!(
            "Dry run: a reset would forget {what}, then queue its resync. Nothing was changed.\n"
        )
    } else {
        format!(
            "Forgot {what}. A resync is queued: it pairs the tasks again by their markers. No task was changed on either side.\n"
        )
    }
}
