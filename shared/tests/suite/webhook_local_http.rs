//! The webhook handler served over real HTTP on loopback by the local adapter
//! (`tasksync::standalone::lambda_http_server`), as the Graph emulator and the local run reach it.
//! Needs the `standalone` feature: `cargo test -p tasksync --features standalone --test suite webhook_local_http`.
// Test code: a failed unwrap is a failed test (clippy.toml allows these only inside #[test] fns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use tasksync::standalone::lambda_http_server::serve;
use tasksync::webhook::{MetricsSink, WebhookSettings, handle};

use crate::webhook_support::*;

#[tokio::test]
async fn handshake_and_notifications_over_loopback_http() {
    let deps = Arc::new(
        tasksync::webhook::WebhookDeps::new(
            CountingStore::with(&[record(SUB, BINDING)]),
            RecordingQueue::default(),
            WebhookSettings::default(),
        )
        .with_metrics(MetricsSink::Discard),
    );
    let served = Arc::clone(&deps);
    let server = serve("127.0.0.1:0", move |req| {
        let deps = Arc::clone(&served);
        async move { handle(req, &deps).await }
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();

    // The handshake exactly as Graph sends it (docs/graph-behaviour.md §1.3): POST, text/plain, encoded token.
    let token = "Validation: Testing client application reachability 25ba8c4f/ab==&x<1>+plus";
    let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let response = client
        .post(format!(
            "{}/notifications?validationToken={encoded}",
            server.base_url()
        ))
        .header("content-type", "text/plain; charset=utf-8")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/plain"
    );
    assert_eq!(response.text().await.unwrap(), token);

    let body = collection(vec![
        change(SUB, SECRET, TENANT, "T1"),
        change(SUB, "forged", TENANT, "T2"),
    ]);
    let response = client
        .post(format!("{}/notifications", server.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(deps.queue().all_hints(), vec![task_hint("T1")]);

    let response = client
        .post(format!("{}/elsewhere", server.base_url()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}
