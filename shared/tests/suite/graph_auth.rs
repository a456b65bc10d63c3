//! Tokens against the emulator's token endpoint: reuse, single-flight refresh, 401 then refresh,
//! configuration errors that say what to fix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::graph_support::Env;
use tasksync::graph::{GraphError, Outcome, Secret};

#[tokio::test]
async fn many_calls_reuse_one_token() {
    let env = Env::default().await;
    let client = env.client();
    let user = env.user();
    for _ in 0..10 {
        client.todo().list_lists(&user).await.unwrap();
    }
    // A clone (a warm Lambda's next invocation) shares the cache too.
    client.clone().todo().list_lists(&user).await.unwrap();
    assert_eq!(env.token_requests().await, 1);
    assert_eq!(client.counters().get("token", Outcome::Success), 1);
    assert_eq!(
        client.counters().get("todo.list_lists", Outcome::Success),
        11
    );
}

#[tokio::test]
async fn concurrent_callers_share_one_refresh() {
    let env = Env::default().await;
    let client = env.client();
    let user = env.user();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..25 {
        let c = client.clone();
        let u = user.clone();
        calls.spawn(async move { c.todo().list_lists(&u).await.map(|_| ()) });
    }
    while let Some(done) = calls.join_next().await {
        done.unwrap().unwrap();
    }
    assert_eq!(env.token_requests().await, 1);
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_succeeds() {
    let env = Env::default().await;
    let client = env.client();
    let user = env.user();
    client.todo().list_lists(&user).await.unwrap();
    // The emulator now considers the cached token expired; the client does not know yet.
    env.advance_clock(3600 * 2).await;
    client.todo().list_lists(&user).await.unwrap();
    assert_eq!(env.token_requests().await, 2);
    assert_eq!(
        client
            .counters()
            .get("todo.list_lists", Outcome::Unauthorized),
        1
    );
    assert_eq!(
        client.counters().get("todo.list_lists", Outcome::Success),
        2
    );
}

#[tokio::test]
async fn a_persistent_401_is_a_configuration_error_after_one_refresh() {
    let env = Env::default().await;
    let client = env.client();
    env.add_fault(serde_json::json!({
        "method": "GET", "path": "/users/{id}/todo/lists", "status": 401
    }))
    .await;
    let err = client.todo().list_lists(&env.user()).await.unwrap_err();
    assert!(
        matches!(err, GraphError::Config(ref m) if m.contains("Tasks.Read.All")),
        "{err:?}"
    );
    assert_eq!(env.token_requests().await, 2, "one refresh, not a loop");
    assert_eq!(client.counters().total("todo.list_lists"), 2);
}

#[tokio::test]
async fn a_wrong_secret_says_what_to_fix_without_the_secret() {
    let env = Env::default().await;
    let mut settings = env.settings();
    let wrong = "b8a5~ThisIsTheWrongSecretValue";
    settings.client_secret = Secret::new(wrong);
    let client = env.client_with(settings);
    let err = client.todo().list_lists(&env.user()).await.unwrap_err();
    let GraphError::Config(message) = &err else {
        panic!("expected a configuration error, got {err:?}");
    };
    assert!(message.contains("secret"), "{message}");
    assert!(!message.contains(wrong), "{message}");
    assert!(!format!("{err:?}").contains(wrong));
    // Configuration errors are not retried.
    assert_eq!(env.token_requests().await, 1);
}

#[tokio::test]
async fn a_wrong_client_id_names_consent_and_tenant() {
    let env = Env::default().await;
    let mut settings = env.settings();
    settings.client_id = "11111111-2222-3333-4444-555555555555".into();
    let client = env.client_with(settings);
    let err = client.todo().list_lists(&env.user()).await.unwrap_err();
    assert!(matches!(err, GraphError::Config(_)), "{err:?}");
}

#[tokio::test]
async fn a_throttled_token_endpoint_is_retried() {
    let env = Env::default().await;
    env.add_fault(serde_json::json!({
        "path": "/{tenant}/oauth2/v2.0/token", "status": 429, "retry_after_secs": 0, "times": 1
    }))
    .await;
    let client = env.client();
    client.todo().list_lists(&env.user()).await.unwrap();
    assert_eq!(client.counters().get("token", Outcome::Throttled), 1);
    assert_eq!(client.counters().get("token", Outcome::Success), 1);
}

#[tokio::test]
async fn debug_output_of_a_client_shows_neither_secret_nor_token() {
    let env = Env::default().await;
    let client = env.client();
    client.todo().list_lists(&env.user()).await.unwrap();
    let shown = format!("{client:?}");
    assert!(!shown.contains(&env.config().client_secret), "{shown}");
    assert!(!shown.contains("emu."), "token leaked: {shown}");
    assert!(shown.contains("<redacted>"));
}
