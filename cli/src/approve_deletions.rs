//! `tasksync approve-deletions <binding-id>`: lets the next sweep send, once, the deletions the
//! mass-deletion guard withholds on a binding, against the deployed sync table with the
//! functions' own configuration. The rule is `tasksync::ops::deletion_approval`; a refusal (no
//! such binding, nothing withheld) is its error and exits 1.

use std::io::Write;
use std::process::ExitCode;

use chrono::Utc;
use tasksync::config::{Deployment, ProcessEnv};
use tasksync::ops::deletion_approval::{Approval, approve_deletions};

use crate::error::CliError;
use crate::when::timestamp;

#[derive(clap::Args, Debug)]
pub struct ApproveDeletionsArgs {
    /// The binding whose withheld deletions the next sweep may send.
    pub binding_id: String,
}

/// `tasksync approve-deletions <binding-id>`.
pub async fn run(args: ApproveDeletionsArgs) -> Result<ExitCode, CliError> {
    let deployment = Deployment::from_env(&ProcessEnv).await?;
    let approval =
        approve_deletions(&deployment.sync_store(), &args.binding_id, Utc::now()).await?;
    std::io::stdout()
        .lock()
        .write_all(approval_text(&approval).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// What was approved, or that it already was, and when the deletions go.
pub fn approval_text(a: &Approval) -> String {
    let what = format!(
        "{} withheld deletion(s) of binding {} ({} of {} mapped tasks vanished; withheld since {})",
        a.vanished,
        a.binding_id,
        a.vanished,
        a.mapped,
        timestamp(a.since)
    );
    if a.already_approved {
        format!("Already approved: the {what}. The next sweep sends them once.\n")
    } else {
        format!("Approved the {what}. The next sweep sends them once.\n")
    }
}
