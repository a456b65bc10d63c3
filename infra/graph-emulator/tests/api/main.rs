//! The emulator's HTTP surface, tested over real HTTP on loopback: one test binary, one module per
//! area, with the harnesses in `helpers`.

// Test code outside `#[test]` functions, where a failed step must fail the test: the workspace's
// no-panic lints (meant for the product's input paths) are lifted here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod auth_token;
mod batch_api;
mod core_binary;
mod core_faults;
mod delivery_notifications;
mod planner_api;
mod subscriptions_api;
mod todo_api;
mod todo_delta;
mod todo_fidelity;
