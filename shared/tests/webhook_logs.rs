//! The webhook's logs, in a test binary of their own: `tracing` caches per-callsite interest
//! process-wide, so a thread-local subscriber next to other tests running in parallel can miss
//! events.
// Test code: a failed unwrap is a failed test (clippy.toml allows these only inside #[test] fns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "webhook_support.rs"]
mod support;

use std::sync::{Arc, Mutex};

use tasksync::webhook::handle_request;

use support::*;

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn logs_carry_the_request_id_and_reasons_but_never_a_secret() {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_ansi(false)
        .with_current_span(true)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let deps = deps();
    let forged = "forged-secret-value-123";
    let items = vec![
        change(SUB, forged, TENANT, "T1"),
        change(SUB, SECRET, TENANT, "T2"),
    ];
    handle_request(post_notifications(&collection(items)), &deps).await;

    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("client_state_mismatch"), "{logs}");
    assert!(
        logs.contains("\"apigw_request_id\":\"id\""),
        "SAM's requestId in the span: {logs}"
    );
    assert!(!logs.contains(SECRET), "real secret leaked: {logs}");
    assert!(!logs.contains(forged), "presented secret leaked: {logs}");
}
