//! The test kit: one test stack (moto, the Graph emulator, the stores and queue) and the sync,
//! scheduler and webhook harnesses built on it, for the end-to-end tests.

pub mod adapter_contract;
pub mod apigw;
pub mod aws;
pub mod moto;
pub mod scheduler_harness;
pub mod stack;
pub mod sync_harness;
pub mod webhook_harness;
