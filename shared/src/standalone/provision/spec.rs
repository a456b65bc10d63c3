//! What the template declares, reduced to what behaviour depends on: tables, queues, pipes.

use std::collections::BTreeMap;

use super::PipeSpec;

/// Key role of an attribute in a key schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    Hash,
    Range,
}

/// One element of a key schema, as the template declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyElement {
    pub attribute: String,
    pub role: KeyRole,
}

/// A global secondary index declared on a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: String,
    pub key_schema: Vec<KeyElement>,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection_type: String,
    pub non_key_attributes: Vec<String>,
}

/// Capacity of a table that is not on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throughput {
    pub read: i64,
    pub write: i64,
}

/// An `AWS::DynamoDB::Table` of the template, reduced to what behaviour depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub logical_id: String,
    /// Attribute name to scalar type (`S`, `N` or `B`).
    pub attribute_types: BTreeMap<String, String>,
    pub key_schema: Vec<KeyElement>,
    pub global_indexes: Vec<IndexSpec>,
    /// `PAY_PER_REQUEST` or `PROVISIONED`.
    pub billing_mode: String,
    pub throughput: Option<Throughput>,
    /// `KEYS_ONLY`, `NEW_IMAGE`, ... when the table has a stream.
    pub stream_view_type: Option<String>,
    /// The TTL attribute when time to live is enabled.
    pub ttl_attribute: Option<String>,
}

/// The dead-letter part of a queue's redrive policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedriveSpec {
    /// Logical id of the dead-letter queue (resolved from `!GetAtt X.Arn`).
    pub dead_letter_queue: String,
    pub max_receive_count: u32,
}

/// An `AWS::SQS::Queue` of the template, reduced to what behaviour depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    pub logical_id: String,
    /// SQS attribute name to value, as `SetQueueAttributes` takes them (redrive excluded).
    pub attributes: BTreeMap<String, String>,
    pub redrive: Option<RedriveSpec>,
    pub fifo: bool,
}

/// Every table and queue the template declares, in a stable (logical id) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateResources {
    pub tables: Vec<TableSpec>,
    pub queues: Vec<QueueSpec>,
    pub pipes: Vec<PipeSpec>,
}

impl TemplateResources {
    pub fn table(&self, logical_id: &str) -> Option<&TableSpec> {
        self.tables.iter().find(|t| t.logical_id == logical_id)
    }

    pub fn queue(&self, logical_id: &str) -> Option<&QueueSpec> {
        self.queues.iter().find(|q| q.logical_id == logical_id)
    }

    pub fn pipe(&self, logical_id: &str) -> Option<&PipeSpec> {
        self.pipes.iter().find(|p| p.logical_id == logical_id)
    }
}
