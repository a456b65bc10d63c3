//! `tasksync sync-issues` and `tasksync dlq` against moto (tables and queues from template.yaml)
//! through the real SDK: the binary itself, configured only by the functions' environment
//! variables, reads what the real worker recorded.

// Test helpers: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use tasksync::graph::{GraphClient, HttpOptions, Secret, http_client};
use tasksync::model::Binding;
use tasksync::ports::{BindingSave, HintSend};
use tasksync::queue::SqsHintQueue;
use tasksync::queue_message::Hint;
use tasksync::standalone::emulator_stack::graph_settings;
use tasksync::standalone::work_pump::sqs_event;
use tasksync::store::DynamoSyncStore;
use tasksync::worker::{WorkerDeps, handle_batch};
use testkit::aws::{MotoAws, provisioned};
use testkit::sync_harness::SyncWorld;

/// Runs the `tasksync` binary with the environment the functions get; it must succeed.
async fn tasksync(aws: &MotoAws, args: &[&str]) -> String {
    let run = crate::command::run(aws, args).await;
    assert!(
        run.code == 0,
        "tasksync {args:?} failed: {}\n{}",
        run.stderr,
        run.stdout
    );
    run.stdout
}

fn item(pairs: &[(&str, &str)]) -> HashMap<String, AttributeValue> {
    pairs
        .iter()
        .map(|(k, v)| {
            let value = if *k == "version" {
                AttributeValue::N((*v).to_owned())
            } else {
                AttributeValue::S((*v).to_owned())
            };
            ((*k).to_owned(), value)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_issues_lists_the_bad_item_the_worker_recorded() {
    let w = SyncWorld::start().await;
    assert_eq!(
        tasksync(&w.aws, &["sync-issues"]).await,
        "No sync issues: every task item is synced.\n"
    );
    w.todo_binding("b-issues", "team").await;
    // An application writes an item that breaks the contract; the stream and the worker see it.
    w.aws
        .dynamodb
        .put_item()
        .table_name(w.aws.resources.tasks_table())
        .set_item(Some(item(&[
            ("list_id", "team"),
            ("id", "BAD-1"),
            ("title", "Broken"),
            ("status", "done"),
            ("version", "1"),
            ("updated_at", "2026-11-22T01:00:00Z"),
            ("origin", "app:agent"),
        ])))
        .send()
        .await
        .unwrap();
    let pumped = w.drain().await;
    assert_eq!(pumped.failed, 0);

    let json: Value =
        serde_json::from_str(&tasksync(&w.aws, &["sync-issues", "--json"]).await).unwrap();
    let issues = json.as_array().unwrap();
    assert_eq!(issues.len(), 1, "{json}");
    let issue = &issues[0];
    assert_eq!(issue["list_id"], "team");
    assert_eq!(issue["task_id"], "BAD-1");
    assert_eq!(issue["binding_id"], "b-issues");
    let reason = issue["reason"].as_str().unwrap();
    assert!(reason.contains("status"), "{reason}");
    assert!(issue["at"].as_str().is_some());

    let table = tasksync(&w.aws, &["sync-issues"]).await;
    eprintln!("$ tasksync sync-issues\n{table}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("LIST"), "{table}");
    assert!(lines[1].starts_with("team"), "{table}");
    assert!(
        lines[1].contains("BAD-1") && lines[1].ends_with(reason),
        "{table}"
    );
    assert_eq!(lines[2], "1 task item(s) not synced.");
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_shows_dead_messages_with_their_reason_and_leaves_them_there() {
    let aws = provisioned().await.unwrap();
    assert_eq!(
        tasksync(&aws, &["dlq"]).await,
        "The dead-letter queue is empty.\n"
    );
    let emulator = graph_emulator::start(graph_emulator::EmulatorConfig::default(), "127.0.0.1:0")
        .await
        .unwrap();
    // A worker whose Graph credentials were revoked: every Graph call is refused.
    let mut settings = graph_settings(&emulator);
    settings.client_secret = Secret::new("a-revoked-secret".to_owned());
    let graph = GraphClient::new(settings, http_client(&HttpOptions::default()).unwrap()).unwrap();
    let sync = DynamoSyncStore::new(aws.dynamodb.clone(), aws.resources.sync_table());
    let tasks =
        tasksync::store::DynamoTaskStore::new(aws.dynamodb.clone(), aws.resources.tasks_table());
    let queue = SqsHintQueue::new(aws.sqs.clone(), aws.resources.work_queue_url());
    let worker = WorkerDeps::new(sync.clone(), tasks, graph, queue.clone());
    let user = emulator.state.config.user_id.clone();
    sync.save_binding(&Binding::todo("b-dlq", "team", &user, "list-1"))
        .await
        .unwrap();
    queue
        .send_hints(&[Hint::RemoteTodoTask {
            binding_id: "b-dlq".into(),
            task_id: "remote-7".into(),
        }])
        .await
        .unwrap();
    let poison = r#"{"v":9,"kind":"from_the_future"}"#.to_owned();
    queue
        .send_bodies(std::slice::from_ref(&poison))
        .await
        .unwrap();

    // Five receives, each handled by the real worker and failed; the sixth receive redrives.
    for receive in 1..=5 {
        let messages = queue.receive(10, 1).await.unwrap();
        assert_eq!(messages.len(), 2, "receive #{receive}");
        let event = sqs_event(&messages, "arn:aws:sqs:us-east-1:123456789012:work").unwrap();
        let response = handle_batch(event, &worker).await;
        assert_eq!(response.batch_item_failures.len(), 2, "receive #{receive}");
        for message in &messages {
            queue
                .change_visibility(&message.receipt_handle, 0)
                .await
                .unwrap();
        }
    }
    assert!(queue.receive(10, 0).await.unwrap().is_empty());

    let read = |aws: MotoAws| async move {
        let json: Value = serde_json::from_str(&tasksync(&aws, &["dlq", "--json"]).await).unwrap();
        json.as_array().unwrap().clone()
    };
    let letters = read(aws.clone()).await;
    assert_eq!(letters.len(), 2, "{letters:?}");
    let by_kind = |kind: &str| {
        letters
            .iter()
            .find(|l| l["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {letters:?}"))
            .clone()
    };
    let remote = by_kind("remote_todo_task");
    assert_eq!(remote["ids"]["binding_id"], "b-dlq");
    assert_eq!(remote["ids"]["task_id"], "remote-7");
    assert_eq!(remote["receive_count"], 5);
    let reason = remote["reason"].as_str().unwrap();
    assert!(!reason.is_empty());
    assert!(!reason.contains("a-revoked-secret"), "{reason}");
    let undecodable = by_kind("undecodable");
    assert_eq!(undecodable["body"], poison.as_str());
    assert_eq!(undecodable["receive_count"], 5);
    assert!(
        undecodable["reason"]
            .as_str()
            .unwrap()
            .contains("undecodable"),
        "{undecodable}"
    );

    // Reading left both in the queue, visible again at once: a second read sees them both.
    let again = read(aws.clone()).await;
    assert_eq!(again.len(), 2);
    assert!(
        again
            .iter()
            .all(|l| l["dlq_receive_count"].as_u64().unwrap() >= 2),
        "{again:?}"
    );
    let dlq = queue.dead_letter_queue().await.unwrap().unwrap();
    assert_eq!(dlq.approximate_depth().await.unwrap(), 2);

    let table = tasksync(&aws, &["dlq"]).await;
    eprintln!("$ tasksync dlq\n{table}");
    assert!(table.starts_with("MESSAGE"), "{table}");
    assert!(
        table.contains("binding_id=b-dlq task_id=remote-7"),
        "{table}"
    );
    assert!(table.contains("2 message(s) in the dead-letter queue (left there)."));
    emulator.shutdown();
}
