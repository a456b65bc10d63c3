//! `tasksync sync ID [--dry-run] [--full]`: a resync of one binding now, in this process, with
//! the worker's own engine (the same listing, pairing and decisions as a `ResyncBinding` hint).
//! `--dry-run` prints the plan per task and writes nothing on either side; `--full` re-compares
//! every pair's fields with its base, ignoring the ETags and versions the mapping recorded
//! (docs/bindings.md).

use std::io::Write;
use std::process::ExitCode;

use tasksync::ops::bindings::BindingError;
use tasksync::ops::bindings::resync_now::resync_now;
use tasksync::ports::BindingLookup;

use crate::bindings::{Connected, Progress, plan_table, report_json, report_text};
use crate::error::CliError;

#[derive(clap::Args, Debug)]
pub struct SyncArgs {
    /// The binding to resync.
    pub id: String,
    /// Print what the resync would do, per task, and write nothing on either side.
    #[arg(long)]
    pub dry_run: bool,
    /// Ignore the ETags and versions the mappings recorded: compare every pair field by field.
    #[arg(long)]
    pub full: bool,
    /// Print JSON instead of text (and no progress bar).
    #[arg(long)]
    pub json: bool,
}

/// `tasksync sync`.
pub async fn run(args: SyncArgs) -> Result<ExitCode, CliError> {
    let connected = Connected::from_env().await?;
    let engine = connected.engine();
    let Some(binding) = connected.sync.find_binding(&args.id).await? else {
        return Err(BindingError::NoSuchBinding(args.id).into());
    };
    let mut out = std::io::stdout().lock();
    if args.dry_run {
        let plan = engine
            .plan_resync(&binding, args.full)
            .await
            .map_err(|failure| BindingError::Sync {
                binding_id: binding.id.clone(),
                failure,
            })?;
        if args.json {
            writeln!(out, "{}", serde_json::to_string_pretty(&plan)?)?;
        } else {
            writeln!(
                out,
                "Dry run of binding {}{} (nothing was written):",
                binding.id,
                if args.full { ", full" } else { "" }
            )?;
            out.write_all(plan_table(&plan).as_bytes())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let progress = Progress::new(args.json);
    let result = resync_now(&engine, &binding, progress.options(args.full)).await;
    progress.finish();
    let report = result?;
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report_json(&binding.id, &report))?
        )?;
    } else {
        writeln!(
            out,
            "Resynced binding {}{}: {}",
            binding.id,
            if args.full { " (full)" } else { "" },
            report_text(&report)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
