//! `tasksync dlq`: the messages in the work queue's dead-letter queue with the failure reason
//! recorded beside them, read without removing anything, with the functions' own configuration.
//! The view is `tasksync::ops::dead_letters`; this module configures and prints it.

use std::io::Write;
use std::process::ExitCode;

use tasksync::config::{Deployment, ProcessEnv};
use tasksync::ops::dead_letters::{DeadLetter, SqsDeadLetterQueue, dead_letters};

use crate::error::CliError;
use crate::output::{rows_or_table, table};
use crate::when::timestamp;

#[derive(clap::Args, Debug)]
pub struct DlqArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Read at most this many messages.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
}

/// `tasksync dlq`.
pub async fn run(args: DlqArgs) -> Result<ExitCode, CliError> {
    let deployment = Deployment::from_env(&ProcessEnv).await?;
    print(&args, &deployment, &mut std::io::stdout().lock()).await?;
    Ok(ExitCode::SUCCESS)
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
