//! What `tasksync local` can fail with: a part of the system that would not start or answer, or
//! a change that did not reach the other side in time, a setting that must be fixed.

use std::time::Duration;

use tasksync::standalone::stream_forwarder::ForwardError;

/// Why the local run stopped.
#[derive(Debug, thiserror::Error)]
pub enum LocalRunError {
    #[error("local I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the emulator's control API failed: {0}")]
    Control(#[from] graph_emulator::control_client::ControlError),
    #[error("Graph call failed: {0}")]
    Graph(#[from] tasksync::graph::GraphError),
    #[error("connecting the binding failed: {0}")]
    Setup(#[from] tasksync::subscription_setup::SetupError),
    #[error("store failed: {0}")]
    Store(#[from] tasksync::ports::StoreError),
    #[error("queue failed: {0}")]
    Queue(#[from] tasksync::ports::QueueError),
    #[error("the stream forwarder failed: {0}")]
    Forward(#[from] ForwardError),
    #[error("{0} did not happen within {1:?}")]
    Timeout(&'static str, Duration),
    #[error("the emulator answered without {0}")]
    Shape(&'static str),
    #[error("{0}; tasksync local needs python3 with venv, and a free --moto-port")]
    Moto(#[from] tasksync::standalone::moto::MotoError),
    #[error("creating template.yaml's tables and queues failed: {0}")]
    Provision(#[from] tasksync::standalone::provision::ProvisionError),
    #[error("{0}")]
    Config(tasksync::config::ConfigError),
    #[error("connecting to Graph failed: {0}")]
    Startup(#[from] tasksync::config::StartupError),
    #[error("reading the tasks table's stream failed: {0}")]
    Stream(#[from] tasksync::standalone::dynamodb_stream::StreamError),
}
