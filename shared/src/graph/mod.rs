//! The Microsoft Graph client: the only way the library talks to Graph.
//!
//! What it relies on about Graph's behaviour is cited as docs/graph-behaviour.md §N; the list of
//! calls, their cost and the permissions they need is in docs/graph-client.md.
//!
//! Build one [`GraphClient`] per process from [`GraphSettings`] and the process's one
//! [`http_client`]; per invocation, bound its waits with [`GraphClient::with_deadline`].

mod auth;
mod batch;
mod client;
mod counters;
mod error;
pub mod metrics;
pub mod models;
mod planner;
mod request;
mod retry;
mod settings;
mod subscriptions;
mod todo;

pub use batch::{BatchOutcome, BatchRequest, BatchResponse, MAX_BATCH_SIZE};
pub use client::GraphClient;
pub use counters::{CallCounters, Outcome};
pub use error::GraphError;
pub use planner::PlannerApi;
pub use request::path_segment;
pub use retry::{RetryPolicy, parse_retry_after};
pub use settings::{GraphSettings, HttpOptions, Secret, http_client};
pub use subscriptions::SubscriptionsApi;
pub use todo::TodoApi;
