//! One error type for every Graph call, split by what the caller should do.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The item is gone (404).
    #[error("not found")]
    NotFound,
    /// 409/412: re-read and merge.
    #[error("precondition failed or conflict (HTTP {status})")]
    Conflict { status: u16 },
    /// 429 (or 503 with Retry-After): try again after the wait.
    #[error("throttled; retry after {retry_after:?}")]
    Throttled { retry_after: Duration },
    /// 5xx, timeouts, connection resets.
    #[error("transient failure: {0}")]
    Transient(String),
    /// 403: a quota code (`MaximumActiveTasksInProject`, ...) or a missing permission.
    #[error("forbidden ({code}): {message}")]
    Forbidden { code: String, message: String },
    /// 400 with Graph's code and message: give up on this item.
    #[error("bad request ({code}): {message}")]
    BadRequest { code: String, message: String },
    /// A delta token expired (410, `syncStateNotFound`, `resyncRequired`): start over.
    #[error("delta token expired; start over")]
    DeltaExpired,
    /// Wrong credentials, app not consented: fix the configuration. Never contains the secret.
    #[error("Graph configuration error: {0}")]
    Config(String),
    /// A response that does not have the documented shape.
    #[error("unexpected response from Graph: {0}")]
    Protocol(String),
}
