//! The Microsoft Graph client: the only way the library talks to Graph.
//!
//! Facts it relies on are cited as graph-facts §N (../shared/reference/graph-facts.md); the list of
//! calls, their cost and the permissions they need is in docs/graph-client.md.

mod auth;
mod client;
mod counters;
mod error;
mod retry;
mod settings;

pub use client::GraphClient;
pub use counters::{CallCounters, Outcome};
pub use error::GraphError;
pub use retry::{RetryPolicy, parse_retry_after};
pub use settings::{GraphSettings, HttpOptions, Secret, http_client};
