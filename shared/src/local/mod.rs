//! Support for the local run and the tests (feature `local`): never part of a Lambda binary.

pub mod emulator_stack;
pub mod lambda_http_server;
pub mod provision;
pub mod stream_forwarder;
pub mod work_pump;
