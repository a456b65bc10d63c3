//! Throttling and transient failures against the emulator's fault injection: Retry-After
//! honoured and counted, the caller's deadline respected, creates not repeated after an
//! ambiguous failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::graph_support::Env;
use tasksync::graph::models::NewTodoTask;
use tasksync::graph::{GraphError, Outcome};

const LISTS: &str = "GET /users/{id}/todo/lists";

#[tokio::test]
async fn retry_after_is_honoured_and_counted() {
    let env = Env::default().await;
    let client = env.client();
    env.add_fault(serde_json::json!({
        "method": "GET", "path": "/users/{id}/todo/lists", "status": 429,
        "retry_after_secs": 1, "times": 1
    }))
    .await;
    let started = Instant::now();
    client.todo().list_lists(&env.user()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited only {:?}",
        started.elapsed()
    );
    assert_eq!(
        client.counters().get("todo.list_lists", Outcome::Throttled),
        1
    );
    assert_eq!(
        client.counters().get("todo.list_lists", Outcome::Success),
        1
    );
    assert_eq!(env.count(LISTS, 429).await, 1);
    assert_eq!(env.count(LISTS, 200).await, 1);
}

#[tokio::test]
async fn a_wait_past_the_deadline_is_returned_instead_of_slept() {
    let env = Env::default().await;
    let client = env.client();
    env.add_fault(serde_json::json!({
        "method": "GET", "path": "/users/{id}/todo/lists", "status": 429, "retry_after_secs": 30
    }))
    .await;
    let bounded = client.with_deadline(Instant::now() + Duration::from_secs(3));
    let started = Instant::now();
    let err = bounded.todo().list_lists(&env.user()).await.unwrap_err();
    assert!(
        matches!(err, GraphError::Throttled { retry_after } if retry_after == Duration::from_secs(30)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2), "it slept");
    assert_eq!(env.count(LISTS, 429).await, 1, "no second attempt");
}

#[tokio::test]
async fn a_503_without_retry_after_is_retried_with_backoff() {
    let env = Env::default().await;
    let client = env.client();
    env.add_fault(serde_json::json!({
        "method": "GET", "path": "/users/{id}/todo/lists", "status": 503, "times": 2
    }))
    .await;
    client.todo().list_lists(&env.user()).await.unwrap();
    assert_eq!(
        client.counters().get("todo.list_lists", Outcome::Transient),
        2
    );
    assert_eq!(env.count(LISTS, 503).await, 2);
}

#[tokio::test]
async fn retries_stop_after_the_attempt_bound() {
    let env = Env::default().await;
    let client = env.client();
    env.add_fault(serde_json::json!({
        "method": "GET", "path": "/users/{id}/todo/lists", "status": 500
    }))
    .await;
    let err = client.todo().list_lists(&env.user()).await.unwrap_err();
    assert!(matches!(err, GraphError::Transient(_)), "{err:?}");
    assert_eq!(env.count(LISTS, 500).await, 4);
}

#[tokio::test]
async fn a_create_is_not_repeated_after_an_ambiguous_failure() {
    let env = Env::default().await;
    let client = env.client();
    let list = env.new_todo_list(&client, "Inbox").await;
    env.add_fault(serde_json::json!({
        "method": "POST", "path": "/users/{id}/todo/lists/{list_id}/tasks", "status": 500,
        "times": 1
    }))
    .await;
    let err = client
        .todo()
        .create_task(&env.user(), &list, &NewTodoTask::for_local_task("l-1", "t"))
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Transient(_)), "{err:?}");
    assert_eq!(
        env.count("POST /users/{id}/todo/lists/{list_id}/tasks", 500)
            .await,
        1
    );
    // A refused create (429) is safe to repeat and is repeated.
    env.add_fault(serde_json::json!({
        "method": "POST", "path": "/users/{id}/todo/lists/{list_id}/tasks", "status": 429,
        "retry_after_secs": 0, "times": 1
    }))
    .await;
    let created = client
        .todo()
        .create_task(&env.user(), &list, &NewTodoTask::for_local_task("l-1", "t"))
        .await
        .unwrap();
    assert_eq!(created.marker(), Some("l-1"));
}

#[tokio::test]
async fn a_429_without_retry_after_backs_off_and_retries() {
    let env = Env::default().await;
    let client = env.client();
    env.add_fault(serde_json::json!({
        "method": "GET", "path": "/users/{id}/todo/lists", "status": 429,
        "omit_retry_after": true, "times": 2
    }))
    .await;
    client.todo().list_lists(&env.user()).await.unwrap();
    assert_eq!(
        client.counters().get("todo.list_lists", Outcome::Throttled),
        2
    );
    assert_eq!(env.count(LISTS, 429).await, 2);
}
