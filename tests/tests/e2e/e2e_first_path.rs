//! The first end-to-end path, with every real part: a To Do task created "as
//! a person would" through the Graph emulator's control API is delivered by the emulator as a
//! change notification to the real webhook handler served over HTTP on loopback (the
//! subscription was created through the emulator's real validation handshake against it); the
//! webhook enqueues a hint on SQS (moto); the real worker handler consumes it as Lambda would,
//! fetches the task from the emulator and writes it into the tasks table (moto), where the test
//! reads the raw item back.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;
use tasksync::model::Binding;
use tasksync::standalone::work_pump::pump_once;
use tasksync::subscription_setup::{WebhookUrls, connect_todo_binding};
use tasksync::worker::{WorkerDeps, handle_batch};
use testkit::stack::TestStack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_todo_task_created_in_the_app_reaches_the_tasks_table() {
    let stack = TestStack::start().await;
    let TestStack {
        aws,
        control,
        graph,
        sync,
        tasks,
        queue,
        ..
    } = &stack;
    let webhook = stack.serve_webhook().await;

    // A binding and its subscription: the emulator runs the validation handshake against the
    // webhook before it answers, so this fails unless the real handler answered it over HTTP.
    let list_id = stack.todo_list("Team tasks").await;
    let binding = Binding::todo("b-e2e", "team", &stack.user_id, &list_id);
    let subscription = connect_todo_binding(
        graph,
        sync,
        &binding,
        &WebhookUrls::under(&webhook.base_url()),
        &stack.tenant_id,
        chrono::Utc::now() + chrono::Duration::hours(48),
    )
    .await
    .expect("subscription created through the handshake");
    let graph_side = control
        .call(reqwest::Method::GET, "/subscriptions", None)
        .await
        .expect("emulator's subscriptions");
    assert!(
        graph_side.to_string().contains(&subscription.id),
        "the emulator holds the subscription: {graph_side}"
    );

    // A person creates a task in the To Do app.
    let created = control
        .create_todo_task(
            &list_id,
            &json!({ "title": "Call the supplier", "body": { "content": "About the delivery", "contentType": "text" } }),
        )
        .await
        .expect("task created");
    let task_id = graph_emulator::control_client::id_of(&created, "task").expect("task id");

    // The worker consumes what the webhook enqueued, as the SQS event source mapping would
    // drive it, until the task is in the table (bounded: a lost notification fails the test).
    let worker = WorkerDeps::new(sync.clone(), tasks.clone(), graph.clone(), queue.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut handled = 0;
    let item = loop {
        let report = pump_once(queue, |event| handle_batch(event, &worker))
            .await
            .expect("queue reachable");
        assert_eq!(report.failed, 0, "no message fails on this path");
        handled += report.succeeded;
        let got = aws
            .dynamodb
            .get_item()
            .table_name(aws.resources.tasks_table())
            .key("list_id", AttributeValue::S("team".to_owned()))
            .key("id", AttributeValue::S(task_id.clone()))
            .consistent_read(true)
            .send()
            .await
            .expect("get item");
        if let Some(item) = got.item {
            break item;
        }
        assert!(
            Instant::now() < deadline,
            "the task did not reach the tasks table in time"
        );
    };

    let s = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    assert_eq!(s("title").as_deref(), Some("Call the supplier"));
    assert_eq!(s("notes").as_deref(), Some("About the delivery"));
    assert_eq!(s("status").as_deref(), Some("not_started"));
    assert_eq!(s("origin").as_deref(), Some("sync"));
    assert_eq!(
        item.get("version")
            .and_then(|v| v.as_n().ok())
            .map(String::as_str),
        Some("1")
    );
    assert_eq!(
        item.get("deleted").and_then(|v| v.as_bool().ok()),
        Some(&false)
    );
    assert_eq!(
        handled, 1,
        "one notification became one hint and one message"
    );
    // The worker read the task once from Graph (notifications are hints, never data) and wrote
    // nothing to Graph.
    let calls = graph.counters().snapshot();
    let count = |op: &str| -> u64 {
        calls
            .iter()
            .filter(|((name, _), _)| *name == op)
            .map(|(_, n)| *n)
            .sum()
    };
    assert_eq!(count("todo.get_task"), 1);
    assert_eq!(count("todo.create_task") + count("todo.update_task"), 0);

    stack.emulator.shutdown();
}
