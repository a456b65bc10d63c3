//! The test kit: starts moto and the Graph emulator for end-to-end tests.

pub mod adapter_contract;
pub mod aws;
pub mod moto;
pub mod scheduler_harness;
pub mod sync_harness;
pub mod webhook_harness;
