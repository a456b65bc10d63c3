//! `tasksync dlq redrive (--all | MESSAGE_ID...) [--dry-run]`: moves dead-lettered hints back to
//! the work queue, where the worker handles them as new (`tasksync::ops::redrive`: sent first,
//! deleted from the dead-letter queue after; a body that is not a hint stays, with its reason).
//!
//! Exit codes: 0 every selected message moved (or, with `--dry-run`, would move); 1 a named
//! message is not in the dead-letter queue; 3 a message is not a hint and was left there (an
//! operator decides: fix what wrote it, then delete it).

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;

use tasksync::config::{Deployment, ProcessEnv};
use tasksync::ops::dead_letters::SqsDeadLetterQueue;
use tasksync::ops::redrive::{RedriveEntry, RedriveOutcome, Selection, redrive, redrive_plan};

use crate::error::CliError;
use crate::exit::{FAILED, NEEDS_OPERATOR};
use crate::output::{rows_or_table, table};
use crate::recovery::{ids_text, progress};

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["all", "message_ids"])))]
pub struct RedriveArgs {
    /// Every message of the dead-letter queue.
    #[arg(long)]
    pub all: bool,
    /// The messages to move, by id (`tasksync dlq` lists them).
    pub message_ids: Vec<String>,
    /// List what would move; move nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Handle at most this many messages in one run.
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
}

/// `tasksync dlq redrive`.
pub async fn run(args: RedriveArgs) -> Result<ExitCode, CliError> {
    let deployment = Deployment::from_env(&ProcessEnv).await?;
    let work = deployment.hint_queue();
    let dlq = SqsDeadLetterQueue::of_work_queue(
        aws_sdk_sqs::Client::new(&deployment.aws),
        work.queue_url(),
    )
    .await?;
    let selection = if args.all {
        Selection::All
    } else {
        Selection::Ids(args.message_ids.iter().cloned().collect::<BTreeSet<_>>())
    };
    let entries = if args.dry_run {
        redrive_plan(&dlq, &selection, args.limit)
            .await
            .map_err(crate::recovery::RecoveryError::from)?
    } else {
        let len = dlq.approximate_len().await.unwrap_or(0);
        let bar = progress(len, args.json, "redriving");
        let moved = redrive(
            &dlq,
            &work,
            &deployment.sync_store(),
            &selection,
            args.limit,
            &|_| bar.inc(1),
        )
        .await;
        bar.finish_and_clear();
        moved.map_err(crate::recovery::RecoveryError::from)?
    };
    let mut out = std::io::stdout().lock();
    rows_or_table(
        &mut out,
        args.json,
        || serde_json::to_string_pretty(&entries),
        || redrive_table(&entries, args.dry_run),
    )?;
    out.flush()?;
    Ok(exit_code(&entries))
}

/// 1 when a named message was missing, else 3 when one was left, else 0.
pub fn exit_code(entries: &[RedriveEntry]) -> ExitCode {
    let has = |o: RedriveOutcome| entries.iter().any(|e| e.outcome == o);
    if has(RedriveOutcome::NotFound) {
        ExitCode::from(FAILED)
    } else if has(RedriveOutcome::Left) {
        ExitCode::from(NEEDS_OPERATOR)
    } else {
        ExitCode::SUCCESS
    }
}

pub fn redrive_table(entries: &[RedriveEntry], dry_run: bool) -> String {
    if entries.is_empty() {
        return "The dead-letter queue is empty: nothing to redrive.\n".to_owned();
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let ids = ids_text(&e.ids);
            let outcome = match e.outcome {
                RedriveOutcome::Moved => "moved".to_owned(),
                RedriveOutcome::WouldMove => "would move".to_owned(),
                RedriveOutcome::Left | RedriveOutcome::NotFound => {
                    e.reason.clone().unwrap_or_default()
                }
            };
            vec![e.message_id.clone(), e.kind.clone(), ids, outcome]
        })
        .collect();
    let count = |o: RedriveOutcome| entries.iter().filter(|e| e.outcome == o).count();
    let mut text = table(&["MESSAGE", "KIND", "IDS", "OUTCOME"], &rows);
    if dry_run {
        text.push_str(&format!(
            "Dry run: {} message(s) would move to the work queue; nothing was moved.\n",
            count(RedriveOutcome::WouldMove)
        ));
    } else {
        text.push_str(&format!(
            "{} message(s) moved to the work queue.\n",
            count(RedriveOutcome::Moved)
        ));
    }
    let left = count(RedriveOutcome::Left);
    if left > 0 {
        text.push_str(&format!(
            "{left} message(s) are not hints and stay in the dead-letter queue.\n"
        ));
    }
    let missing = count(RedriveOutcome::NotFound);
    if missing > 0 {
        text.push_str(&format!(
            "{missing} message id(s) are not in the dead-letter queue.\n"
        ));
    }
    text
}
