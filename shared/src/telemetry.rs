//! Structured logging. In Lambda: JSON lines without ANSI colours (CloudWatch shows escape codes
//! verbatim), one line per event, level from `RUST_LOG` (default `info`). Locally: readable text.

use tracing_subscriber::EnvFilter;

/// `RUST_LOG` when it is set and parses, `default` otherwise.
fn filter(default: &str) -> EnvFilter {
    crate::config::log_filter(&crate::config::ProcessEnv)
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new(default))
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

/// CloudWatch namespace of every tasksync metric.
pub const METRICS_NAMESPACE: &str = "tasksync";

/// One CloudWatch Embedded Metric Format document: a JSON log line that CloudWatch turns into
/// metrics without any API call from the function (so emitting costs no latency and no IAM).
/// `metrics` are (name, unit, value); every dimension in `dimension_set` must have a value,
/// `Function` included.
pub fn emf_document(
    dimension_set: &[&str],
    dimension_values: &[(&str, &str)],
    metrics: &[(&str, &str, serde_json::Value)],
    timestamp_ms: i64,
) -> String {
    use serde_json::json;
    let definitions: Vec<serde_json::Value> = metrics
        .iter()
        .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
        .collect();
    let mut root = serde_json::Map::new();
    root.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                "Dimensions": [dimension_set],
                "Metrics": definitions,
            }],
        }),
    );
    for (key, value) in dimension_values {
        root.insert((*key).to_owned(), json!(value));
    }
    for (name, _, value) in metrics {
        root.insert((*name).to_owned(), value.clone());
    }
    serde_json::Value::Object(root).to_string()
}
