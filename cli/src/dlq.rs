//! `tasksync dlq`: the messages in the work queue's dead-letter queue with the failure reason
//! recorded beside them, read without removing anything, with the functions' own configuration.
//! The view is `tasksync::ops::dead_letters`; this module configures and prints it.
//!
//! `tasksync dlq --pipe` shows the EventBridge pipe's dead-letter queue instead
//! (`tasksync::ops::pipe_dead_letters`): stream batch failure records, which name stream
//! positions, not tasks. The plain view ends with a one-line pointer to it when it holds any.
//! `tasksync dlq redrive` is `crate::redrive`.

use std::io::Write;
use std::process::ExitCode;

use tasksync::config::{Deployment, ProcessEnv, pipe_dead_letter_queue_url};
use tasksync::ops::dead_letters::{DeadLetter, SqsDeadLetterQueue, dead_letters};
use tasksync::ops::pipe_dead_letters::{
    PIPE_DEAD_LETTER_ADVICE, PipeDeadLetter, find_pipe_dead_letter_queue, pipe_dead_letters,
};

use crate::error::CliError;
use crate::output::{rows_or_table, table};
use crate::recovery::{RecoveryError, ids_text};
use crate::redrive::RedriveArgs;
use crate::when::timestamp;

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DlqArgs {
    #[command(subcommand)]
    pub action: Option<DlqAction>,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Read at most this many messages.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Show the EventBridge pipe's dead-letter queue (stream records it could not deliver)
    /// instead of the work queue's. Found through PIPE_DLQ_URL, or beside the work queue.
    #[arg(long)]
    pub pipe: bool,
}

#[derive(clap::Subcommand, Debug)]
pub enum DlqAction {
    /// Move dead-lettered hints back to the work queue (sent first, then deleted from the
    /// dead-letter queue). A message that is not a hint stays, with the reason. Exits 1 when a
    /// named message is not there, 3 when a message was left.
    Redrive(RedriveArgs),
}

/// `tasksync dlq`.
pub async fn run(args: DlqArgs) -> Result<ExitCode, CliError> {
    if let Some(DlqAction::Redrive(redrive)) = args.action {
        return crate::redrive::run(redrive).await;
    }
    let deployment = Deployment::from_env(&ProcessEnv).await?;
    let mut out = std::io::stdout().lock();
    if args.pipe {
        print_pipe(&args, &deployment, &mut out).await?;
    } else {
        print(&args, &deployment, &mut out).await?;
        if !args.json {
            print_pipe_pointer(&deployment, &mut out).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn pipe_queue(deployment: &Deployment) -> Result<Option<SqsDeadLetterQueue>, CliError> {
    Ok(find_pipe_dead_letter_queue(
        aws_sdk_sqs::Client::new(&deployment.aws),
        pipe_dead_letter_queue_url(&ProcessEnv),
        &deployment.resources.work_queue_url,
    )
    .await?)
}

async fn print_pipe(
    args: &DlqArgs,
    deployment: &Deployment,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let queue = pipe_queue(deployment)
        .await?
        .ok_or(RecoveryError::NoPipeQueue)?;
    let letters = pipe_dead_letters(&queue, args.limit).await?;
    rows_or_table(
        out,
        args.json,
        || serde_json::to_string_pretty(&letters),
        || pipe_dead_letters_table(&letters),
    )
}

/// A line under the work queue's view when the pipe's dead-letter queue holds records (nothing
/// when it is empty or cannot be found: this view is about the work queue).
async fn print_pipe_pointer(deployment: &Deployment, out: &mut impl Write) -> Result<(), CliError> {
    let depth = match pipe_queue(deployment).await {
        Ok(Some(queue)) => queue.approximate_len().await.unwrap_or(0),
        Ok(None) | Err(_) => 0,
    };
    if depth > 0 {
        writeln!(
            out,
            "The pipe's dead-letter queue holds {depth} stream record(s) it could not deliver: \
             see `tasksync dlq --pipe`."
        )?;
    }
    Ok(())
}

/// One line per batch failure record, then what to do about them.
pub fn pipe_dead_letters_table(letters: &[PipeDeadLetter]) -> String {
    if letters.is_empty() {
        return "The pipe's dead-letter queue is empty: every stream record reached the work \
                queue.\n"
            .to_owned();
    }
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let rows: Vec<Vec<String>> = letters
        .iter()
        .map(|l| {
            if !l.recognised {
                return vec![
                    l.message_id.clone(),
                    "(not a batch failure record)".to_owned(),
                    "-".to_owned(),
                    "-".to_owned(),
                    "-".to_owned(),
                    l.body.clone(),
                ];
            }
            vec![
                l.message_id.clone(),
                dash(&l.condition),
                dash(&l.shard_id),
                format!(
                    "{}..{}",
                    dash(&l.start_sequence_number),
                    dash(&l.end_sequence_number)
                ),
                l.batch_size
                    .map_or_else(|| "-".to_owned(), |n| n.to_string()),
                l.first_record_at.map_or_else(|| "-".to_owned(), timestamp),
            ]
        })
        .collect();
    let mut text = table(
        &[
            "MESSAGE",
            "CONDITION",
            "SHARD",
            "SEQUENCE NUMBERS",
            "RECORDS",
            "WRITTEN",
        ],
        &rows,
    );
    text.push_str(&format!(
        "{} batch failure record(s) in the pipe's dead-letter queue (left there).\n{}\n",
        letters.len(),
        PIPE_DEAD_LETTER_ADVICE
    ));
    text
}

async fn print(
    args: &DlqArgs,
    deployment: &Deployment,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let dlq = SqsDeadLetterQueue::of_work_queue(
        aws_sdk_sqs::Client::new(&deployment.aws),
        &deployment.resources.work_queue_url,
    )
    .await?;
    let letters = dead_letters(&dlq, &deployment.sync_store(), args.limit).await?;
    rows_or_table(
        out,
        args.json,
        || serde_json::to_string_pretty(&letters),
        || dead_letters_table(&letters),
    )
}

/// One line per message; the reason last, whole, or a note that none was recorded.
pub fn dead_letters_table(letters: &[DeadLetter]) -> String {
    if letters.is_empty() {
        return "The dead-letter queue is empty.\n".to_owned();
    }
    let rows: Vec<Vec<String>> = letters
        .iter()
        .map(|l| {
            let ids = ids_text(&l.ids);
            vec![
                l.message_id.clone(),
                l.kind.clone(),
                ids,
                l.receive_count
                    .map_or_else(|| "-".to_owned(), |n| n.to_string()),
                l.failed_at.map_or_else(|| "-".to_owned(), timestamp),
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

#[cfg(test)]
mod tests {
    use super::*;

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
