//! What the recovery commands (`dlq redrive`, `dlq --pipe`, `reset`, `cleanup-orphans`,
//! `conflicts`) share: their failures, the binding they name, and the progress bar of their long
//! work (on a terminal only, never with `--json`).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use tasksync::config::{Deployment, GraphEndpoints, ProcessEnv, StartupError};
use tasksync::graph::GraphClient;
use tasksync::model::Binding;
use tasksync::ops::redrive::RedriveError;
use tasksync::ops::reset::ResetError;
use tasksync::ports::BindingLookup;
use tasksync::sync::SyncFailure;

use crate::error::CliError;

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("there is no binding {0:?}: `tasksync status` lists the bindings")]
    UnknownBinding(String),
    #[error(transparent)]
    Redrive(#[from] RedriveError),
    #[error(transparent)]
    Reset(#[from] ResetError),
    #[error("working on the binding's tasks failed: {0}")]
    Sync(#[from] SyncFailure),
    #[error("cannot connect to Microsoft Graph: {0}")]
    Graph(#[from] StartupError),
    #[error(
        "the pipe's dead-letter queue was not found beside the work queue: set PIPE_DLQ_URL to \
         its URL (the stack's PipeDeadLetterQueueUrl output)"
    )]
    NoPipeQueue,
}

/// How a command that changes something runs: `--confirm` to do it, `--dry-run` to only say what
/// it would do (given both, the dry run wins: nothing is changed by mistake). One is required.
#[derive(clap::Args, Debug, Clone, Copy)]
#[group(required = true, multiple = true)]
pub struct Mode {
    /// Do it.
    #[arg(long)]
    pub confirm: bool,
    /// Say what would be done; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl Mode {
    /// Whether to change anything.
    pub fn changes(self) -> bool {
        self.confirm && !self.dry_run
    }
}

/// A hint's ids printed as `key=value` pairs.
pub fn ids_text(ids: &std::collections::BTreeMap<&'static str, String>) -> String {
    ids.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The binding `id`, or the one sentence that says it does not exist.
pub async fn binding(deployment: &Deployment, id: &str) -> Result<Binding, CliError> {
    deployment
        .sync_store()
        .find_binding(id)
        .await?
        .ok_or_else(|| RecoveryError::UnknownBinding(id.to_owned()).into())
}

/// The functions' Graph client (the same settings, the secret read the same way).
pub async fn graph(deployment: &Deployment) -> Result<GraphClient, CliError> {
    let endpoints = GraphEndpoints::from_env(&ProcessEnv)?;
    Ok(endpoints
        .connect(&deployment.aws)
        .await
        .map_err(RecoveryError::from)?)
}

/// A bar of `len` steps on stderr when it is a terminal and the output is for a person; hidden
/// otherwise, so scripts and `--json` see nothing of it.
pub fn progress(len: u64, json: bool, what: &str) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}
