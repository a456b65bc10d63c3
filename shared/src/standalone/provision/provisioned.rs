//! What provisioning created: the physical names, URLs and ARNs by logical id.

use std::collections::BTreeMap;

use super::{PipeSpec, TASKS_TABLE};

/// A created table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedTable {
    pub name: String,
    pub stream_arn: Option<String>,
}

/// A created queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedQueue {
    pub name: String,
    pub url: String,
    pub arn: String,
}

/// A pipe of the template with its source and target resolved to the created resources. Nothing
/// is created for it (moto has no Pipes): the local stream forwarder plays its part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedPipe {
    pub spec: PipeSpec,
    pub source_table: String,
    pub source_stream_arn: Option<String>,
    pub target_queue_url: String,
}

/// What [`provision`](super::provision) created, by logical id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    pub prefix: String,
    pub tables: BTreeMap<String, ProvisionedTable>,
    pub queues: BTreeMap<String, ProvisionedQueue>,
    pub pipes: Vec<ProvisionedPipe>,
    // The four resources the code always needs, checked present when provisioning.
    pub(super) tasks_table: String,
    pub(super) sync_table: String,
    pub(super) work_queue_url: String,
    pub(super) dead_letter_queue_url: String,
}

impl Provisioned {
    /// Physical name of `TasksTable` (the `TASKS_TABLE` variable of the functions).
    pub fn tasks_table(&self) -> &str {
        &self.tasks_table
    }

    /// Physical name of `SyncTable` (`SYNC_TABLE`).
    pub fn sync_table(&self) -> &str {
        &self.sync_table
    }

    /// URL of `WorkQueue` (`WORK_QUEUE_URL`).
    pub fn work_queue_url(&self) -> &str {
        &self.work_queue_url
    }

    /// URL of `DeadLetterQueue`, where the work queue's redrive policy sends failing messages.
    pub fn dead_letter_queue_url(&self) -> &str {
        &self.dead_letter_queue_url
    }

    /// Stream ARN of `TasksTable` (what the pipe reads; the local forwarder reads it too).
    pub fn tasks_stream_arn(&self) -> Option<&str> {
        self.tables
            .get(TASKS_TABLE)
            .and_then(|t| t.stream_arn.as_deref())
    }

    pub fn table_name(&self, logical_id: &str) -> Option<&str> {
        self.tables.get(logical_id).map(|t| t.name.as_str())
    }

    pub fn queue_url(&self, logical_id: &str) -> Option<&str> {
        self.queues.get(logical_id).map(|q| q.url.as_str())
    }
}

/// Physical name of a resource for a prefix: `{prefix}-{LogicalId}`.
pub fn physical_name(prefix: &str, logical_id: &str) -> String {
    format!("{prefix}-{logical_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn physical_names_carry_the_prefix() {
        assert_eq!(physical_name("t-42", "WorkQueue"), "t-42-WorkQueue");
    }
}
