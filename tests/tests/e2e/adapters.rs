//! The store and queue adapters against the adapter contract: in-memory ones directly, the
//! DynamoDB and SQS ones on moto (tables and queues created from template.yaml). Plus what only
//! the real services show: the provisioned resources match the template, a poison message ends
//! in the DLQ intact, SDK errors map to the right error kinds.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{KeyType, ProjectionType, StreamViewType};
use aws_sdk_sqs::types::QueueAttributeName;
use tasksync::model::Binding;
use tasksync::ports::{BindingSave, HintSend, QueueError, StoreError, TaskRead};
use tasksync::queue::{MemoryHintQueue, SqsHintQueue};
use tasksync::queue_message::{Hint, decode};
use tasksync::store::{DynamoSyncStore, DynamoTaskStore, MemoryStore};
use testkit::adapter_contract::{
    DynamoRawItems, hint_batch, hint_queue_contract, sync_store_contract, task_store_contract,
};
use testkit::aws::{MotoAws, provisioned, sdk_config};
use testkit::moto::moto;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn raw_items(aws: &MotoAws) -> DynamoRawItems {
    DynamoRawItems {
        client: aws.dynamodb.clone(),
        tasks_table: aws.resources.tasks_table().to_owned(),
        sync_table: aws.resources.sync_table().to_owned(),
    }
}

// ---- the contract, in memory ----

#[tokio::test]
async fn memory_task_store_meets_the_contract() {
    let store = MemoryStore::new();
    task_store_contract(&store, &store).await;
}

#[tokio::test]
async fn memory_sync_store_meets_the_contract() {
    let store = MemoryStore::new();
    sync_store_contract(&store, &store).await;
}

#[tokio::test]
async fn memory_hint_queue_meets_the_contract() {
    hint_queue_contract(&MemoryHintQueue::new()).await;
}

// ---- the contract, on moto ----

#[tokio::test]
async fn dynamo_task_store_meets_the_contract() {
    let aws = provisioned().await.unwrap();
    let store = DynamoTaskStore::new(aws.dynamodb.clone(), aws.resources.tasks_table());
    task_store_contract(&store, &raw_items(&aws)).await;
}

#[tokio::test]
async fn dynamo_sync_store_meets_the_contract() {
    let aws = provisioned().await.unwrap();
    let store = DynamoSyncStore::new(aws.dynamodb.clone(), aws.resources.sync_table());
    sync_store_contract(&store, &raw_items(&aws)).await;
}

#[tokio::test]
async fn sqs_hint_queue_meets_the_contract() {
    let aws = provisioned().await.unwrap();
    let queue = SqsHintQueue::new(aws.sqs.clone(), aws.resources.work_queue_url());
    hint_queue_contract(&queue).await;
}

// ---- beyond the ports ----

#[tokio::test]
async fn listing_bindings_agrees_between_memory_and_dynamo() {
    let aws = provisioned().await.unwrap();
    let dynamo = DynamoSyncStore::new(aws.dynamodb.clone(), aws.resources.sync_table());
    let memory = MemoryStore::new();
    let bindings: Vec<Binding> = ["b3", "b1", "b2"]
        .iter()
        .map(|id| Binding::planner(*id, format!("l-{id}"), format!("plan-{id}")))
        .collect();
    for binding in &bindings {
        dynamo.save_binding(binding).await.unwrap();
        memory.save_binding(binding).await.unwrap();
    }
    let from_dynamo = dynamo.list_bindings().await.unwrap();
    let from_memory = memory.list_bindings().unwrap();
    assert_eq!(from_dynamo, from_memory);
    let ids: Vec<&str> = from_dynamo.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, ["b1", "b2", "b3"]);
    assert!(dynamo.list_subscriptions().await.unwrap().is_empty());
    assert!(memory.list_subscriptions().unwrap().is_empty());
}

#[tokio::test]
async fn provisioning_creates_what_the_template_declares() {
    let aws = provisioned().await.unwrap();
    let tasks = aws
        .dynamodb
        .describe_table()
        .table_name(aws.resources.tasks_table())
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    assert_eq!(
        tasks.table_name(),
        Some(format!("{}-TasksTable", aws.resources.prefix).as_str())
    );
    let keys: Vec<(&str, &KeyType)> = tasks
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type()))
        .collect();
    assert_eq!(keys, [("list_id", &KeyType::Hash), ("id", &KeyType::Range)]);
    let stream = tasks.stream_specification().unwrap();
    assert!(stream.stream_enabled());
    assert_eq!(stream.stream_view_type(), Some(&StreamViewType::KeysOnly));
    assert!(aws.resources.tasks_stream_arn().is_some());

    let sync = aws
        .dynamodb
        .describe_table()
        .table_name(aws.resources.sync_table())
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let keys: Vec<&str> = sync
        .key_schema()
        .iter()
        .map(|k| k.attribute_name())
        .collect();
    assert_eq!(keys, ["pk", "sk"]);
    let gsi = &sync.global_secondary_indexes()[0];
    assert_eq!(gsi.index_name(), Some("gsi1"));
    let keys: Vec<&str> = gsi
        .key_schema()
        .iter()
        .map(|k| k.attribute_name())
        .collect();
    assert_eq!(keys, ["gsi1pk", "gsi1sk"]);
    assert_eq!(
        gsi.projection().and_then(|p| p.projection_type()),
        Some(&ProjectionType::All)
    );

    let attributes = aws
        .sqs
        .get_queue_attributes()
        .queue_url(aws.resources.work_queue_url())
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(attributes[&QueueAttributeName::VisibilityTimeout], "180");
    let redrive: serde_json::Value =
        serde_json::from_str(&attributes[&QueueAttributeName::RedrivePolicy]).unwrap();
    assert_eq!(redrive["maxReceiveCount"], 5);
    assert_eq!(
        redrive["deadLetterTargetArn"].as_str(),
        Some(aws.resources.queues["DeadLetterQueue"].arn.as_str())
    );
    let dlq_retention = aws
        .sqs
        .get_queue_attributes()
        .queue_url(aws.resources.dead_letter_queue_url())
        .attribute_names(QueueAttributeName::MessageRetentionPeriod)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(
        dlq_retention[&QueueAttributeName::MessageRetentionPeriod],
        "1209600"
    );
    assert!(aws.resources.queue_url("PipeDeadLetterQueue").is_some());

    // The pipe is resolved to the created stream and queue, for the local forwarder.
    let pipe = &aws.resources.pipes[0];
    assert_eq!(pipe.spec.logical_id, "TasksStreamPipe");
    assert_eq!(pipe.source_table, aws.resources.tasks_table());
    assert_eq!(
        pipe.source_stream_arn.as_deref(),
        aws.resources.tasks_stream_arn()
    );
    assert_eq!(pipe.target_queue_url, aws.resources.work_queue_url());
}

#[tokio::test]
async fn a_poison_message_lands_in_the_dead_letter_queue_intact_after_five_receives() {
    let aws = provisioned().await.unwrap();
    let queue = SqsHintQueue::new(aws.sqs.clone(), aws.resources.work_queue_url());
    let poison = r#"{"v":9,"kind":"from_the_future"}"#.to_owned();
    queue
        .send_bodies(std::slice::from_ref(&poison))
        .await
        .unwrap();

    let mut counts = Vec::new();
    for _ in 0..5 {
        let messages = queue.receive(10, 1).await.unwrap();
        assert_eq!(messages.len(), 1, "receive #{}", counts.len() + 1);
        assert_eq!(messages[0].body, poison);
        counts.push(messages[0].receive_count);
        // The worker reports it failed; make it visible again at once instead of waiting 180 s.
        queue
            .change_visibility(&messages[0].receipt_handle, 0)
            .await
            .unwrap();
    }
    assert_eq!(counts, [1, 2, 3, 4, 5]);
    // The sixth receive moves it to the DLQ (maxReceiveCount 5) instead of handing it out.
    assert!(queue.receive(10, 0).await.unwrap().is_empty());

    let dlq = queue
        .dead_letter_queue()
        .await
        .unwrap()
        .expect("work queue has a DLQ");
    assert_eq!(dlq.queue_url(), aws.resources.dead_letter_queue_url());
    let dead = dlq.receive(10, 1).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, poison);
    dlq.delete(&dead[0].receipt_handle).await.unwrap();
    assert_eq!(dlq.approximate_depth().await.unwrap(), 0);
    assert!(dlq.dead_letter_queue().await.unwrap().is_none());
}

#[tokio::test]
async fn deleted_messages_are_not_delivered_again_and_depth_counts_in_flight_ones() {
    let aws = provisioned().await.unwrap();
    let queue = SqsHintQueue::new(aws.sqs.clone(), aws.resources.work_queue_url());
    queue.send_hints(&hint_batch()[..3]).await.unwrap();
    assert_eq!(queue.approximate_depth().await.unwrap(), 3);
    let mut received = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while received.len() < 3 && Instant::now() < deadline {
        received.extend(queue.receive(10, 1).await.unwrap());
    }
    assert_eq!(received.len(), 3);
    // In flight (invisible) still counts.
    assert_eq!(queue.approximate_depth().await.unwrap(), 3);
    for message in &received {
        assert!(decode(&message.body).is_ok());
        queue.delete(&message.receipt_handle).await.unwrap();
    }
    assert_eq!(queue.approximate_depth().await.unwrap(), 0);
}

#[tokio::test]
async fn missing_tables_and_queues_are_configuration_errors() {
    let aws = provisioned().await.unwrap();
    let tasks = DynamoTaskStore::new(aws.dynamodb.clone(), "no-such-table");
    assert!(matches!(
        tasks.get_task("l", "t").await,
        Err(StoreError::Config(_))
    ));
    let sync = DynamoSyncStore::new(aws.dynamodb.clone(), "no-such-table");
    let binding = Binding::todo("b", "l", "u", "c");
    assert!(matches!(
        sync.save_binding(&binding).await,
        Err(StoreError::Config(_))
    ));

    let missing_queue = format!("{}/123456789012/no-such-queue", aws.endpoint);
    let queue = SqsHintQueue::new(aws.sqs.clone(), missing_queue);
    let result = queue.send_hints(&hint_batch()[..1]).await;
    assert!(matches!(result, Err(QueueError::Config(_))), "{result:?}");
}

#[tokio::test]
async fn memory_queue_refusing_sends_reports_every_hint_as_not_enqueued() {
    let queue = MemoryHintQueue::new();
    queue.refuse_sends(Some("test says no".to_owned()));
    match queue.send_hints(&hint_batch()[..4]).await {
        Err(QueueError::NotEnqueued {
            failed: 4,
            total: 4,
            reason,
        }) => {
            assert_eq!(reason, "test says no")
        }
        other => panic!("expected NotEnqueued, got {other:?}"),
    }
    assert!(queue.is_empty());
    queue.refuse_sends(None);
    queue.send_hints(&hint_batch()[..4]).await.unwrap();
    assert_eq!(queue.len(), 4);
}

#[tokio::test]
async fn concurrent_callers_share_one_moto_server() {
    let (a, b, c) = tokio::join!(moto(), moto(), moto());
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    assert!(std::ptr::eq(a, b) && std::ptr::eq(b, c));
    assert!(a.endpoint().starts_with("http://127.0.0.1:"));
}

// ---- SQS answers moto cannot give: a loopback stand-in ----

// Helpers live in a cfg(test) module so the test-only lint allowances apply to them.
#[cfg(test)]
mod fake {
    use super::*;

    /// Serves canned SQS (JSON protocol) answers on loopback. SendMessageBatch refuses the entry with
    /// id "3" of each batch (SQS answers 200 with per-entry failures); with `status_500`, every
    /// request fails with a 500.
    pub async fn fake_sqs(status_500: bool) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    while let Some(body) = read_request(&mut socket).await {
                        let (status, answer) = if status_500 {
                            (
                                "500 Internal Server Error",
                                r#"{"__type":"InternalError","message":"boom"}"#.to_owned(),
                            )
                        } else {
                            ("200 OK", batch_answer(&body))
                        };
                        let response = format!(
                            "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.0\r\n\
                             x-amzn-requestid: fake\r\ncontent-length: {}\r\n\r\n{answer}",
                            answer.len()
                        );
                        if socket.write_all(response.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        endpoint
    }

    async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 8192];
        let header_end = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            let n = socket.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buffer.extend_from_slice(&chunk[..n]);
        };
        let headers = String::from_utf8_lossy(&buffer[..header_end]).to_ascii_lowercase();
        let length: usize = headers
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buffer.len() < header_end + length {
            let n = socket.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buffer.extend_from_slice(&chunk[..n]);
        }
        Some(buffer[header_end..header_end + length].to_vec())
    }

    fn batch_answer(request: &[u8]) -> String {
        let request: serde_json::Value = serde_json::from_slice(request).unwrap_or_default();
        let mut successful = Vec::new();
        let mut failed = Vec::new();
        for entry in request["Entries"].as_array().cloned().unwrap_or_default() {
            let id = entry["Id"].as_str().unwrap_or_default().to_owned();
            if id == "3" {
                failed.push(serde_json::json!({
                    "Id": id, "SenderFault": false, "Code": "InternalError", "Message": "try later"
                }));
            } else {
                successful.push(serde_json::json!({
                    "Id": id, "MessageId": format!("m-{id}"), "MD5OfMessageBody": "0"
                }));
            }
        }
        serde_json::json!({ "Successful": successful, "Failed": failed }).to_string()
    }

    pub fn client_without_retries(endpoint: &str) -> aws_sdk_sqs::Client {
        let config = aws_sdk_sqs::config::Builder::from(&sdk_config(endpoint))
            .retry_config(aws_sdk_sqs::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_sqs::Client::from_conf(config)
    }
}

use fake::{client_without_retries, fake_sqs};

#[tokio::test]
async fn per_entry_failures_of_a_batch_are_reported_as_not_enqueued() {
    let endpoint = fake_sqs(false).await;
    let queue = SqsHintQueue::new(client_without_retries(&endpoint), format!("{endpoint}/1/q"));
    // 25 hints = batches of 10, 10, 5: entry "3" of each is refused.
    match queue.send_hints(&hint_batch()).await {
        Err(QueueError::NotEnqueued {
            failed,
            total,
            reason,
        }) => {
            assert_eq!((failed, total), (3, 25));
            assert!(reason.contains("InternalError"), "{reason}");
        }
        other => panic!("expected NotEnqueued, got {other:?}"),
    }
    // Three hints fit in one batch without an entry "3".
    queue.send_hints(&hint_batch()[..3]).await.unwrap();
}

#[tokio::test]
async fn server_errors_are_transient() {
    let endpoint = fake_sqs(true).await;
    let queue = SqsHintQueue::new(client_without_retries(&endpoint), format!("{endpoint}/1/q"));
    let result = queue
        .send_hints(&[Hint::LocalTask {
            list_id: "l".into(),
            task_id: "t".into(),
        }])
        .await;
    assert!(
        matches!(result, Err(QueueError::Transient(_))),
        "{result:?}"
    );
    let result = queue.receive(1, 0).await;
    assert!(
        matches!(result, Err(QueueError::Transient(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_store_that_cannot_be_reached_is_transient() {
    // Nothing listens on this port once the listener is dropped: a dispatch failure.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk_config(&endpoint))
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    let store = DynamoTaskStore::new(aws_sdk_dynamodb::Client::from_conf(config), "t");
    let result = store.get_task("l", "t").await;
    assert!(
        matches!(result, Err(StoreError::Transient(_))),
        "{result:?}"
    );
}

// ---- the sync engine's stores, in memory and on moto ----

#[tokio::test]
async fn memory_sync_engine_stores_meet_the_contract() {
    let store = MemoryStore::new();
    testkit::adapter_contract::mapping_store_contract(&store, &store).await;
    testkit::adapter_contract::task_sync_contract(&store, &store).await;
    testkit::adapter_contract::sync_records_contract(&store).await;
    assert!(store.list_sync_issues().unwrap().is_empty());
    assert_eq!(store.list_dead_letter_reasons().unwrap().len(), 1);
    testkit::adapter_contract::operator_records_contract(&store, &store).await;
    testkit::adapter_contract::conflict_log_contract(&store, &store).await;
}

#[tokio::test]
async fn dynamo_sync_engine_stores_meet_the_contract() {
    let aws = provisioned().await.unwrap();
    let sync = DynamoSyncStore::new(aws.dynamodb.clone(), aws.resources.sync_table());
    let tasks = DynamoTaskStore::new(aws.dynamodb.clone(), aws.resources.tasks_table());
    testkit::adapter_contract::mapping_store_contract(&sync, &raw_items(&aws)).await;
    testkit::adapter_contract::task_sync_contract(&tasks, &raw_items(&aws)).await;
    testkit::adapter_contract::sync_records_contract(&sync).await;
    assert_eq!(sync.list_dead_letter_reasons().await.unwrap().len(), 1);
    testkit::adapter_contract::operator_records_contract(&sync, &raw_items(&aws)).await;
    testkit::adapter_contract::conflict_log_contract(&sync, &raw_items(&aws)).await;
}
