//! The deployed shape on one machine (`tasksync local`, the tests): serving a `lambda_http`
//! handler over plain HTTP, starting moto and provisioning it from template.yaml, playing the
//! stream's pipe and the queue's event source mapping. Behind the feature `standalone`: never
//! part of a Lambda binary.

pub mod dynamodb_stream;
pub mod emulator_stack;
pub mod lambda_http_server;
pub mod moto;
pub mod provision;
pub mod stream_forwarder;
pub mod work_pump;
