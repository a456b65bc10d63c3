//! The shared library's integration tests, in one binary so the AWS SDK is linked once: the Graph
//! client against the emulator, notification parsing, the reconcile engine and the worker, and
//! the webhook handler. Each module is one subject; `graph_support` and `webhook_support` are the
//! scaffolding they share.

mod graph_support;
mod webhook_support;

mod graph_auth;
mod graph_batch;
mod graph_dates;
mod graph_planner;
mod graph_retry;
mod graph_subscriptions;
mod graph_todo;
mod hostile_ids;
mod notification_parse;
mod sync_reconcile;
mod sync_worker;
mod webhook_arbitrary_input;
mod webhook_deadline;
mod webhook_handler;
mod webhook_hostile_headers;
#[cfg(feature = "standalone")]
mod webhook_local_hostile;
#[cfg(feature = "standalone")]
mod webhook_local_http;
mod webhook_logs;
mod webhook_memory_adapters;
