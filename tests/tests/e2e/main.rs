//! The end-to-end tests, in one binary so the AWS SDK is linked once: every real part against
//! moto and the Graph emulator (the adapters' contract, the sync engine on each side, the
//! scheduler, the webhook). Tests run in parallel threads: each builds its own stack (tables and
//! queue under a fresh prefix, its own emulator), and the process shares one moto server.

mod adapters;
mod binding_admin_contract;
mod breaker_paths;
mod cold_start;
mod convergence;
mod e2e_first_path;
mod lifecycle;
mod scheduler_e2e;
mod scheduler_store_contract;
mod scheduler_subscriptions;
mod scheduler_sweeps;
mod secrets;
mod sync_planner;
mod sync_todo;
mod throttling;
mod todo_completion;
mod webhook_e2e;
