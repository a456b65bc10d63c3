//! `tasksync sync-issues` and `tasksync dlq`: what the sync could not do, read from the deployed
//! resources with the functions' own configuration (`TASKS_TABLE`, `SYNC_TABLE`,
//! `WORK_QUEUE_URL`, and the SDK's usual credentials, region and `AWS_ENDPOINT_URL`). The views
//! themselves are `tasksync::ops`; this module only configures and prints them.

use std::io::Write;

use tasksync::config::{AwsResources, ConfigError, Env};
use tasksync::ops::dead_letters::{DeadLetter, DeadLetterViewError, SqsDeadLetterQueue};
use tasksync::ops::sync_issues::sync_issues;
use tasksync::ports::{QueueError, StoreError};
use tasksync::store::DynamoSyncStore;
use tasksync::sync::SyncIssue;

#[derive(clap::Args, Debug)]
pub struct SyncIssuesArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct DlqArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Read at most this many messages.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum OpsCommandError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("reading the sync table failed: {0}")]
    Store(#[from] StoreError),
    #[error("reading the dead-letter queue failed: {0}")]
    Queue(#[from] QueueError),
    #[error(transparent)]
    View(#[from] DeadLetterViewError),
    #[error(transparent)]
    Approval(#[from] tasksync::ops::deletion_approval::ApprovalError),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    #[error("cannot encode the output: {0}")]
    Json(#[from] serde_json::Error),
}

/// The resources and the SDK configuration the functions use, from the process environment.
pub async fn configuration_from_env(
    env: &impl Env,
) -> Result<(AwsResources, aws_config::SdkConfig), OpsCommandError> {
    let resources = AwsResources::from_env(env)?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    Ok((resources, sdk))
}

/// `tasksync sync-issues`.
pub async fn run_sync_issues(
    args: &SyncIssuesArgs,
    resources: &AwsResources,
    sdk: &aws_config::SdkConfig,
    out: &mut impl Write,
) -> Result<(), OpsCommandError> {
    let store = DynamoSyncStore::new(
        aws_sdk_dynamodb::Client::new(sdk),
        resources.sync_table.clone(),
    );
    let issues = sync_issues(&store).await?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &issues)?;
        writeln!(out)?;
    } else {
        out.write_all(sync_issues_table(&issues).as_bytes())?;
    }
    Ok(())
}

/// `tasksync dlq`.
pub async fn run_dlq(
    args: &DlqArgs,
    resources: &AwsResources,
    sdk: &aws_config::SdkConfig,
    out: &mut impl Write,
) -> Result<(), OpsCommandError> {
    let store = DynamoSyncStore::new(
        aws_sdk_dynamodb::Client::new(sdk),
        resources.sync_table.clone(),
    );
    let dlq =
        SqsDeadLetterQueue::of_work_queue(aws_sdk_sqs::Client::new(sdk), &resources.work_queue_url)
            .await?;
    let letters = tasksync::ops::dead_letters::dead_letters(&dlq, &store, args.limit).await?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &letters)?;
        writeln!(out)?;
    } else {
        out.write_all(dead_letters_table(&letters).as_bytes())?;
    }
    Ok(())
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
                i.at.format("%Y-%m-%d %H:%M:%SZ").to_string(),
                i.reason.clone(),
            ]
        })
        .collect();
    let mut table = table(&["LIST", "TASK", "BINDING", "SINCE", "REASON"], &rows);
    table.push_str(&format!("{} task item(s) not synced.\n", issues.len()));
    table
}

pub fn dead_letters_table(letters: &[DeadLetter]) -> String {
    if letters.is_empty() {
        return "The dead-letter queue is empty.\n".to_owned();
    }
    let rows: Vec<Vec<String>> = letters
        .iter()
        .map(|l| {
            let ids = l
                .ids
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ");
            vec![
                l.message_id.clone(),
                l.kind.clone(),
                ids,
                l.receive_count
                    .map_or_else(|| "-".to_owned(), |n| n.to_string()),
                l.failed_at.map_or_else(
                    || "-".to_owned(),
                    |at| at.format("%Y-%m-%d %H:%M:%SZ").to_string(),
                ),
                l.reason
                    .clone()
                    .unwrap_or_else(|| "(no reason recorded)".to_owned()),
            ]
        })
        .collect();
    let mut table = table(
        &["MESSAGE", "KIND", "IDS", "RECEIVES", "FAILED", "REASON"],
        &rows,
    );
    table.push_str(&format!(
        "{} message(s) in the dead-letter queue (left there).\n",
        letters.len()
    ));
    table
}

/// Left-aligned columns separated by two spaces; the last column is not padded.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            if i == last {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  "));
            }
        }
        text.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
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

    #[test]
    fn the_dead_letter_table_says_when_no_reason_was_recorded() {
        let letter = DeadLetter {
            message_id: "m1".into(),
            kind: "undecodable".into(),
            ids: Default::default(),
            receive_count: None,
            dlq_receive_count: 1,
            reason: None,
            failed_at: None,
            body: "{}".into(),
        };
        let text = dead_letters_table(&[letter]);
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .ends_with("(no reason recorded)")
        );
        assert_eq!(dead_letters_table(&[]), "The dead-letter queue is empty.\n");
    }
}
