//! The webhook's logs. `tracing` caches per-callsite interest process-wide, so a thread-local
//! subscriber next to other tests running in parallel in this binary can miss events: the logs
//! are captured by a process-wide subscriber whose writer keeps only what the capturing thread
//! logs (the test runs on a current-thread runtime, so the handler logs on that thread).
// Test code: a failed unwrap is a failed test (clippy.toml allows these only inside #[test] fns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::sync::{Arc, Mutex, Once};

use tasksync::webhook::handle_request;

use crate::webhook_support::*;

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

thread_local! {
    /// Where this thread's log lines go while it captures; other threads' lines are dropped.
    static CAPTURE: RefCell<Option<LogBuffer>> = const { RefCell::new(None) };
}

/// The process-wide writer: into the capturing thread's buffer, or nowhere.
#[derive(Clone, Copy)]
struct ThreadCapture;

impl std::io::Write for ThreadCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some(buffer) = capture.borrow().as_ref() {
                buffer.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn logs_carry_the_request_id_and_reasons_but_never_a_secret() {
    let buffer = capture_this_thread();

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

/// Installs the process-wide JSON subscriber once, and sends this thread's lines to a new buffer.
fn capture_this_thread() -> LogBuffer {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_ansi(false)
            .with_current_span(true)
            .with_writer(|| ThreadCapture)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    let buffer = LogBuffer::default();
    CAPTURE.with(|capture| *capture.borrow_mut() = Some(buffer.clone()));
    buffer
}
