//! Plays the part of the template's EventBridge pipe where there is none (moto has no Pipes; the
//! in-memory store has no DynamoDB stream): each tasks-table stream record becomes the body the
//! pipe's own `InputTemplate` renders from it (`PipeSpec::render`), decoded as the worker will
//! decode it, and is sent to the work queue. The envelope is never restated here, so the local
//! run, the tests and AWS send the same `local_task` hints.
//!
//! [`PipeForwarder`] renders and sends records from any stream (the moto tests read the real
//! DynamoDB stream and hand its records here); [`MemoryStreamForwarder`] reads the in-memory
//! store's change feed, which announces every task write by its keys as a `KEYS_ONLY` stream does.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value as Json, json};

use crate::ports::{HintSend, QueueError};
use crate::queue_message::{DecodeError, Hint, decode};
use crate::standalone::provision::{
    PipeSpec, ProvisionError, TASKS_TABLE, TemplateResources, embedded_resources,
};
use crate::store::MemoryStore;
use crate::store::memory::TaskChange;

/// Why records could not be forwarded; nothing after the failing call was checkpointed, so the
/// same records are offered again.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// The template has no pipe from the tasks table, or its input template does not apply to
    /// the record: the template and the forwarder disagree (a bug, not a transient state).
    #[error("the pipe's template: {0}")]
    Template(#[from] ProvisionError),
    /// The rendered body is not a hint the worker accepts: the template and the decoder disagree.
    #[error("the pipe would send a body the worker cannot decode: {0}")]
    Decode(#[from] DecodeError),
    /// The queue refused the hints: try again.
    #[error("sending the pipe's hints failed: {0}")]
    Queue(#[from] QueueError),
}

/// The template's pipe from the tasks table's stream to the work queue.
#[derive(Debug, Clone)]
pub struct PipeForwarder {
    pipe: PipeSpec,
}

impl PipeForwarder {
    pub fn new(pipe: PipeSpec) -> Self {
        Self { pipe }
    }

    /// The pipe of the embedded template.yaml whose source is the tasks table.
    pub fn from_embedded_template() -> Result<Self, ForwardError> {
        Self::from_resources(&embedded_resources()?)
    }

    /// The pipe of these template resources whose source is the tasks table.
    pub fn from_resources(resources: &TemplateResources) -> Result<Self, ForwardError> {
        resources
            .pipes
            .iter()
            .find(|p| p.source_table == TASKS_TABLE)
            .cloned()
            .map(Self::new)
            .ok_or_else(|| {
                ProvisionError::MissingResource(format!("pipe from the stream of {TASKS_TABLE}"))
                    .into()
            })
    }

    /// The hint the pipe sends for one stream record.
    pub fn hint_for(&self, record: &Json) -> Result<Hint, ForwardError> {
        let body = self.pipe.render(record)?;
        Ok(decode(&body)?)
    }

    /// Sends the pipe's hint for each record, in order; how many were sent.
    pub async fn forward<Q: HintSend>(
        &self,
        records: &[Json],
        queue: &Q,
    ) -> Result<usize, ForwardError> {
        let hints = records
            .iter()
            .map(|r| self.hint_for(r))
            .collect::<Result<Vec<_>, _>>()?;
        if !hints.is_empty() {
            queue.send_hints(&hints).await?;
        }
        Ok(hints.len())
    }
}

/// The DynamoDB stream record of a `KEYS_ONLY` stream for one task write, as the pipe receives
/// it (only the fields a pipe's input template can refer to that this write determines).
pub fn keys_only_record(change: &TaskChange) -> Json {
    json!({
        "eventName": change.kind.event_name(),
        "eventSource": "aws:dynamodb",
        "eventVersion": "1.1",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {
                "list_id": {"S": change.list_id},
                "id": {"S": change.task_id},
            },
            "SequenceNumber": change.sequence.to_string(),
            "StreamViewType": "KEYS_ONLY",
        },
    })
}

/// Forwards the in-memory store's task writes to a queue as the pipe would. It starts at the
/// latest write (the template's pipe reads from `LATEST`) and checkpoints only what was sent.
#[derive(Debug)]
pub struct MemoryStreamForwarder {
    store: MemoryStore,
    pipe: PipeForwarder,
    checkpoint: AtomicU64,
}

impl MemoryStreamForwarder {
    pub fn new(store: MemoryStore, pipe: PipeForwarder) -> Self {
        let checkpoint = AtomicU64::new(store.latest_task_change());
        Self {
            store,
            pipe,
            checkpoint,
        }
    }

    /// With the embedded template's pipe.
    pub fn from_embedded_template(store: MemoryStore) -> Result<Self, ForwardError> {
        Ok(Self::new(store, PipeForwarder::from_embedded_template()?))
    }

    /// Sends the hints for every task write since the last call; how many were sent. Meant to
    /// be called by one driver loop at a time (as one pipe polls one shard).
    pub async fn forward_new<Q: HintSend>(&self, queue: &Q) -> Result<usize, ForwardError> {
        let after = self.checkpoint.load(Ordering::Acquire);
        let changes = self.store.task_changes_after(after);
        let Some(last) = changes.last().map(|c| c.sequence) else {
            return Ok(0);
        };
        let records: Vec<Json> = changes.iter().map(keys_only_record).collect();
        let sent = self.pipe.forward(&records, queue).await?;
        self.checkpoint.store(last, Ordering::Release);
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LocalTask, Origin};
    use crate::ports::TaskWrite;
    use crate::queue::MemoryHintQueue;

    fn task(id: &str) -> LocalTask {
        LocalTask::new("team", id, "Call the supplier", Origin::App("agent".into()))
    }

    #[tokio::test]
    async fn forwards_each_write_since_the_start_as_the_pipes_local_task_hint() {
        let store = MemoryStore::new();
        // Written before the forwarder starts: not forwarded (the pipe starts at LATEST).
        store.put_task(&task("before")).await.unwrap();
        let forwarder = MemoryStreamForwarder::from_embedded_template(store.clone()).unwrap();
        let queue = MemoryHintQueue::new();
        assert_eq!(forwarder.forward_new(&queue).await.unwrap(), 0);

        store.put_task(&task("a")).await.unwrap();
        store.put_task(&task("a")).await.unwrap();
        store.put_task(&task("b")).await.unwrap();
        assert_eq!(forwarder.forward_new(&queue).await.unwrap(), 3);
        let hints: Vec<Hint> = queue
            .drain_hints()
            .into_iter()
            .map(|h| h.unwrap())
            .collect();
        let local = |id: &str| Hint::LocalTask {
            list_id: "team".into(),
            task_id: id.into(),
        };
        assert_eq!(hints, [local("a"), local("a"), local("b")]);
        // Checkpointed: nothing again.
        assert_eq!(forwarder.forward_new(&queue).await.unwrap(), 0);
        assert!(queue.is_empty());
    }

    #[tokio::test]
    async fn a_refused_send_is_offered_again() {
        let store = MemoryStore::new();
        let forwarder = MemoryStreamForwarder::from_embedded_template(store.clone()).unwrap();
        let queue = MemoryHintQueue::new();
        store.put_task(&task("a")).await.unwrap();
        queue.refuse_sends(Some("queue down".into()));
        assert!(matches!(
            forwarder.forward_new(&queue).await,
            Err(ForwardError::Queue(_))
        ));
        queue.refuse_sends(None);
        assert_eq!(forwarder.forward_new(&queue).await.unwrap(), 1);
    }

    #[test]
    fn the_record_carries_the_keys_where_the_template_reads_them() {
        let pipe = PipeForwarder::from_embedded_template().unwrap();
        let record = keys_only_record(&TaskChange {
            sequence: 7,
            kind: crate::store::memory::TaskChangeKind::Modify,
            list_id: "team \"A\"".into(),
            task_id: "T-1".into(),
        });
        assert_eq!(record["eventName"], "MODIFY");
        assert_eq!(
            pipe.hint_for(&record).unwrap(),
            Hint::LocalTask {
                list_id: "team \"A\"".into(),
                task_id: "T-1".into()
            }
        );
    }

    #[test]
    fn a_template_without_the_pipe_is_a_template_error() {
        let mut resources = embedded_resources().unwrap();
        resources.pipes.clear();
        assert!(matches!(
            PipeForwarder::from_resources(&resources),
            Err(ForwardError::Template(_))
        ));
    }
}
