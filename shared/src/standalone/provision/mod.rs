//! Creates the DynamoDB tables and SQS queues of `template.yaml` against any endpoint (moto in
//! the tests, moto or a real account in the local run).
//!
//! docs/architecture.md makes template.yaml the single source of truth for AWS resources, so nothing here
//! names a key, an index or a redrive limit: everything is read from the template embedded at
//! build time. Each resource gets the physical name `{prefix}-{LogicalId}`, so parallel tests
//! sharing one moto server never collide.
//!
//! Only what changes behaviour is reproduced (keys, indexes, streams, TTL, queue timings and the
//! redrive policy). Properties that only matter in a real account (encryption, point-in-time
//! recovery, retention policies, tags) are read past.

mod create;
mod pipe;
mod provisioned;
mod spec;
mod template;
mod yaml;

pub use create::{provision, provision_resources};
pub use pipe::PipeSpec;
pub use provisioned::{
    Provisioned, ProvisionedPipe, ProvisionedQueue, ProvisionedTable, physical_name,
};
pub use spec::{
    IndexSpec, KeyElement, KeyRole, QueueSpec, RedriveSpec, TableSpec, TemplateResources,
    Throughput,
};
pub use template::{embedded_resources, parse_template};

/// The template this build was compiled with.
pub const EMBEDDED_TEMPLATE: &str = include_str!("../../../../template.yaml");

/// Logical ids the rest of the code relies on (typed accessors of [`Provisioned`]).
pub const TASKS_TABLE: &str = "TasksTable";
pub const SYNC_TABLE: &str = "SyncTable";
pub const WORK_QUEUE: &str = "WorkQueue";
pub const DEAD_LETTER_QUEUE: &str = "DeadLetterQueue";

/// Why provisioning failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The template cannot be read, or declares a resource in a way this code cannot reproduce.
    #[error("template.yaml: {0}")]
    Template(String),
    /// A resource the code relies on is not declared in the template.
    #[error("template.yaml declares no {0}")]
    MissingResource(String),
    #[error("creating DynamoDB table {table} failed: {source}")]
    Dynamo {
        table: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("creating SQS queue {queue} failed: {source}")]
    Sqs {
        queue: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}
