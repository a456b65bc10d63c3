//! `tasksync status`: each binding's health against the deployed sync table, with the
//! functions' own configuration, and "something needs an operator" turned into an exit code a
//! cron job or alarm can act on. The view is `tasksync::ops::binding_status`; the table is
//! `status_table`.

use std::io::Write;
use std::process::ExitCode;

use chrono::Utc;
use tasksync::config::{Deployment, ProcessEnv};
use tasksync::ops::binding_status::binding_statuses;

use crate::error::CliError;
use crate::exit::NEEDS_OPERATOR;
use crate::output::rows_or_table;
use crate::status_table::status_table;

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// Print a JSON array (one object per binding) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What `tasksync status` found, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    AllHealthy,
    NeedsOperator,
}

/// `tasksync status`: exits `NEEDS_OPERATOR` when at least one binding needs an operator.
pub async fn run(args: StatusArgs) -> Result<ExitCode, CliError> {
    let deployment = Deployment::from_env(&ProcessEnv).await?;
    Ok(
        match print(&args, &deployment, &mut std::io::stdout().lock()).await? {
            Health::AllHealthy => ExitCode::SUCCESS,
            Health::NeedsOperator => ExitCode::from(NEEDS_OPERATOR),
        },
    )
}

async fn print(
    args: &StatusArgs,
    deployment: &Deployment,
    out: &mut impl Write,
) -> Result<Health, CliError> {
    let now = Utc::now();
    let statuses = binding_statuses(&deployment.sync_store(), now).await?;
    rows_or_table(
        out,
        args.json,
        || serde_json::to_string_pretty(&statuses),
        || status_table(&statuses, now),
    )?;
    Ok(if statuses.iter().any(|s| !s.needs_operator.is_empty()) {
        Health::NeedsOperator
    } else {
        Health::AllHealthy
    })
}
