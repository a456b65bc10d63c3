//! Structured logging. In Lambda: JSON lines without ANSI colours (CloudWatch shows escape codes
//! verbatim), one line per event, level from `RUST_LOG` (default `info`). Locally: readable text.

use tracing_subscriber::EnvFilter;

fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
}

/// For the Lambda functions. Safe to call more than once (later calls are no-ops).
pub fn init_lambda() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter("info"))
        .with_ansi(false)
        .with_target(false)
        .with_current_span(true)
        .without_time()
        .try_init();
}

/// For the CLI and the local run: human-readable lines on stderr, at `default_level` unless
/// `RUST_LOG` says otherwise (the CLI prints its own story on stdout, so it defaults to `warn`).
pub fn init_local(default_level: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(default_level))
        .with_writer(std::io::stderr)
        .try_init();
}
