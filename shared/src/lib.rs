//! tasksync: the library that all three Lambda functions, the CLI and the tests share.
//!
//! The layering is hexagonal: `model` and `queue_message` are pure domain types; `ports` are the
//! narrow traits the handlers need; `store`, `queue` and `graph` are the adapters that talk to
//! DynamoDB, SQS and Microsoft Graph and convert SDK/JSON types at their edge; `webhook` and
//! `worker` hold the function handlers so that the Lambda mains, the local run and the tests call
//! the very same code.

pub mod config;
pub mod graph;
pub mod model;
pub mod notification;
pub mod ops;
pub mod ports;
pub mod queue;
pub mod queue_message;
pub mod scheduler;
pub mod secrets;
pub mod store;
pub mod subscription_setup;
pub mod sync;
pub mod telemetry;
pub mod webhook;
pub mod worker;

#[cfg(feature = "standalone")]
pub mod standalone;
