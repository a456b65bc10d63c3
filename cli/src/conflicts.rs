//! `tasksync conflicts [--binding ID] [--json]`: the conflict history (every field both sides
//! changed differently, with both values and the winner), oldest first
//! (`tasksync::ops::conflict_history`). Kept per pair up to a bound and for a retention period.

use std::io::Write;
use std::process::ExitCode;

use tasksync::config::{Deployment, ProcessEnv};
use tasksync::ops::conflict_history::conflict_history;
use tasksync::ports::{CONFLICT_RETENTION_DAYS, CONFLICTS_KEPT_PER_PAIR};
use tasksync::sync::Side;
use tasksync::sync::records::ConflictRecord;

use crate::error::CliError;
use crate::output::{rows_or_table, table};
use crate::recovery::binding;
use crate::when::timestamp;

#[derive(clap::Args, Debug)]
pub struct ConflictsArgs {
    /// Only this binding's conflicts.
    #[arg(long = "binding")]
    pub binding_id: Option<String>,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `tasksync conflicts`.
pub async fn run(args: ConflictsArgs) -> Result<ExitCode, CliError> {
    let deployment = Deployment::from_env(&ProcessEnv).await?;
    let store = deployment.sync_store();
    let records = conflict_history(&store, args.binding_id.as_deref()).await?;
    // The history outlives a removed binding; an id that names neither is a typo.
    if let Some(id) = &args.binding_id
        && records.is_empty()
    {
        binding(&deployment, id).await?;
    }
    let mut out = std::io::stdout().lock();
    rows_or_table(
        &mut out,
        args.json,
        || serde_json::to_string_pretty(&records),
        || conflicts_table(&records),
    )?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn conflicts_table(records: &[ConflictRecord]) -> String {
    if records.is_empty() {
        return "No conflicts recorded.\n".to_owned();
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                timestamp(r.at),
                r.binding_id.clone(),
                r.task_id.clone(),
                r.field.as_str().to_owned(),
                r.local.to_string(),
                r.remote.to_string(),
                match r.winner {
                    Side::Local => "local",
                    Side::Remote => "remote",
                }
                .to_owned(),
                r.rule.clone(),
            ]
        })
        .collect();
    let mut text = table(
        &[
            "AT", "BINDING", "TASK", "FIELD", "LOCAL", "REMOTE", "WINNER", "RULE",
        ],
        &rows,
    );
    text.push_str(&format!(
        "{} conflict(s); the newest {CONFLICTS_KEPT_PER_PAIR} per task are kept, for {CONFLICT_RETENTION_DAYS} days.\n",
        records.len()
    ));
    text
}
