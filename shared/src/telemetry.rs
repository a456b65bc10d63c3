//! Structured logging. In Lambda: JSON lines without ANSI colours (CloudWatch shows escape codes
//! verbatim), one line per event, level from `RUST_LOG` (default `info`). Locally: readable text.

use tracing_subscriber::EnvFilter;

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// For the Lambda functions. Safe to call more than once (later calls are no-ops).
pub fn init_lambda() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter())
        .with_ansi(false)
        .with_target(false)
        .with_current_span(true)
        .without_time()
        .try_init();
}

/// For the CLI and the local run: human-readable lines on stderr.
pub fn init_local() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        .try_init();
}
