//! The local HTTP adapter (`tasksync::standalone::lambda_http_server`) over a raw socket with
//! the `Host` and `X-Forwarded-Proto` headers that panicked `lambda_http`'s conversion: each
//! request gets an HTTP answer (the connection is not dropped), and the notification is taken.
//! Needs the `standalone` feature.
// Test code: a failed unwrap is a failed test (clippy.toml allows these only inside #[test] fns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use tasksync::standalone::lambda_http_server::serve;
use tasksync::webhook::{MetricsSink, WebhookDeps, WebhookSettings, handle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::webhook_support::*;

async fn raw_post(addr: std::net::SocketAddr, host: &str, proto: &str, body: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /notifications HTTP/1.1\r\nHost: {host}\r\nX-Forwarded-Proto: {proto}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn hostile_host_headers_get_an_answer_over_http() {
    let deps = Arc::new(
        WebhookDeps::new(
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
    let body = collection(vec![change(SUB, SECRET, TENANT, "T-1")]).to_string();
    let cases = [
        ("a b", "https"),
        ("[", "https"),
        ("h:99999", "https"),
        ("localhost", "http,https"),
    ];
    for (host, proto) in cases {
        let answer = raw_post(server.addr, host, proto, &body).await;
        assert!(
            answer.starts_with("HTTP/1.1 202"),
            "Host {host:?}, X-Forwarded-Proto {proto:?}: {answer:?}"
        );
    }
    assert_eq!(deps.queue().all_hints().len(), cases.len());
}
