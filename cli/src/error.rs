//! What a `tasksync` command can fail with. Each message says what was being done, so the one
//! line on stderr is enough to act on; the cause chain is printed by `exit::report`.

use tasksync::config::{ConfigError, StartupError};
use tasksync::ops::bindings::BindingError;
use tasksync::ops::dead_letters::DeadLetterViewError;
use tasksync::ops::deletion_approval::ApprovalError;
use tasksync::ports::{QueueError, StoreError};

use crate::local_run::LocalRunError;
use crate::recovery::RecoveryError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("reading the sync table failed: {0}")]
    Store(#[from] StoreError),
    #[error("reading the dead-letter queue failed: {0}")]
    Queue(#[from] QueueError),
    #[error(transparent)]
    View(#[from] DeadLetterViewError),
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    #[error("cannot encode the output: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Local(#[from] LocalRunError),
    #[error(transparent)]
    Recovery(#[from] RecoveryError),
    #[error(transparent)]
    Bindings(#[from] BindingError),
    #[error("connecting to Graph: {0}")]
    Graph(#[from] StartupError),
}
