//! The operator's binding commands (`tasksync bindings …`, `tasksync sync`), against the
//! deployed sync table, tasks table and Graph: checking a new binding ([`validate`]), adding it
//! with its first sync ([`add`]), looking at bindings ([`view`]), pausing and resuming
//! ([`pause`]), removing one with what it left ([`remove`]), and a resync now with the worker's
//! own engine ([`resync_now`]). docs/bindings.md says what each does and why.
//!
//! Every refusal is a [`BindingError`] whose message is one sentence saying what to fix.

pub mod add;
pub mod pause;
pub mod remove;
pub mod resync_now;
pub mod validate;
pub mod view;

use crate::graph::GraphError;
use crate::ports::StoreError;
use crate::sync::SyncFailure;

/// Why a binding command did nothing (or stopped), split by what the operator does next.
#[derive(Debug, thiserror::Error)]
pub enum BindingError {
    /// A typo or a removed binding: `tasksync bindings list` shows the ids.
    #[error("there is no binding {0:?} (tasksync bindings list shows the bindings)")]
    NoSuchBinding(String),
    #[error("a binding {0:?} exists already: choose another id")]
    IdTaken(String),
    #[error(
        "local list {list:?} is bound already by binding {by:?}: one local list syncs with one container"
    )]
    LocalListBound { list: String, by: String },
    #[error(
        "{container} is bound already by binding {by:?}: one container syncs with one local list"
    )]
    ContainerBound { container: String, by: String },
    /// Bad input the command line cannot check (an id with `#`, an unknown time zone).
    #[error("{0}")]
    Invalid(String),
    /// The container or its user does not exist, or the app cannot see it.
    #[error("{0}")]
    ContainerNotFound(String),
    /// Graph refused the app (a missing permission or consent).
    #[error(
        "Graph refused {what}: {code} ({message}); grant the app Tasks.ReadWrite.All (application) with admin consent"
    )]
    Forbidden {
        what: String,
        code: String,
        message: String,
    },
    #[error("Graph failed while {what}: {error}")]
    Graph { what: String, error: GraphError },
    /// The sync itself failed; the binding stays, so a `tasksync sync` can finish it.
    #[error(
        "the sync of binding {binding_id:?} failed: {failure}; fix the cause and run `tasksync sync {binding_id}`"
    )]
    Sync {
        binding_id: String,
        failure: SyncFailure,
    },
    #[error("the sync table failed: {0}")]
    Store(#[from] StoreError),
}

impl BindingError {
    /// A Graph failure while `what`, in the operator's words (a 403 names the permission).
    pub(crate) fn graph(what: impl Into<String>, error: GraphError) -> Self {
        let what = what.into();
        match error {
            GraphError::Forbidden { code, message } => BindingError::Forbidden {
                what,
                code,
                message,
            },
            error => BindingError::Graph { what, error },
        }
    }
}
