//! A faithful local Microsoft Graph and Microsoft identity platform, for tests, benchmarks and the
//! local run. It is a product part, not a test mock: every rule it enforces follows
//! `docs/graph-behaviour.md` (section numbers are cited in each module).
//!
//! State lives in memory behind one lock per area, so thousands of requests per second are cheap.

pub mod auth;
pub mod batch;
pub mod config;
pub mod control;
pub mod control_client;
pub mod delivery;
pub mod errors;
pub mod faults;
pub mod planner;
pub mod server;
pub mod state;
pub mod subscriptions;
pub mod todo;

pub use config::{EmulatorConfig, TodoCompletion};
pub use control_client::ControlClient;
pub use server::{RunningEmulator, start};
