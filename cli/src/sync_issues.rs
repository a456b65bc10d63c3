//! `tasksync sync-issues`: the task items the sync could not sync, and why, read from the
//! deployed sync table with the functions' own configuration. The view is
//! `tasksync::ops::sync_issues`; this module configures and prints it.

use std::io::Write;
use std::process::ExitCode;

use tasksync::config::{Deployment, ProcessEnv};
use tasksync::ops::sync_issues::sync_issues;
use tasksync::sync::SyncIssue;

use crate::error::CliError;
use crate::output::{rows_or_table, table};
use crate::when::timestamp;

#[derive(clap::Args, Debug)]
pub struct SyncIssuesArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `tasksync sync-issues`.
pub async fn run(args: SyncIssuesArgs) -> Result<ExitCode, CliError> {
    let deployment = Deployment::from_env(&ProcessEnv).await?;
    print(&args, &deployment, &mut std::io::stdout().lock()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn print(
    args: &SyncIssuesArgs,
    deployment: &Deployment,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let issues = sync_issues(&deployment.sync_store()).await?;
    rows_or_table(
        out,
        args.json,
        || serde_json::to_string_pretty(&issues),
        || sync_issues_table(&issues),
    )
}

/// One line per issue, columns aligned; the reason last, whole, since it is what an operator
/// acts on.
pub fn sync_issues_table(issues: &[SyncIssue]) -> String {
    if issues.is_empty() {
        return "No sync issues: every task item is synced.\n".to_owned();
    }
    let rows: Vec<Vec<String>> = issues
        .iter()
        .map(|i| {
            vec![
                i.list_id.clone(),
                i.task_id.clone(),
                i.binding_id.clone(),
                timestamp(i.at),
                i.reason.clone(),
            ]
        })
        .collect();
    let mut table = table(&["LIST", "TASK", "BINDING", "SINCE", "REASON"], &rows);
    table.push_str(&format!("{} task item(s) not synced.\n", issues.len()));
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_issue_table_aligns_columns_and_keeps_the_whole_reason() {
        let at = chrono::Utc.with_ymd_and_hms(2026, 11, 22, 3, 4, 5).unwrap();
        let issues = vec![
            SyncIssue {
                list_id: "team".into(),
                task_id: "T-1".into(),
                binding_id: "b1".into(),
                reason: "the item has no title".into(),
                at,
            },
            SyncIssue {
                list_id: "operations".into(),
                task_id: "T-22".into(),
                binding_id: "b2".into(),
                reason: "unknown status \"done\"".into(),
                at,
            },
        ];
        let text = sync_issues_table(&issues);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "LIST        TASK  BINDING  SINCE                 REASON"
        );
        assert_eq!(
            lines[1],
            "team        T-1   b1       2026-11-22 03:04:05Z  the item has no title"
        );
        assert!(lines[2].ends_with("unknown status \"done\""));
        assert_eq!(lines[3], "2 task item(s) not synced.");
        assert_eq!(
            sync_issues_table(&[]),
            "No sync issues: every task item is synced.\n"
        );
    }
}
