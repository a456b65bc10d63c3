//! CloudWatch metrics as Embedded Metric Format (EMF) log lines.
//!
//! In Lambda, a stdout line that is a JSON object with an `_aws` member becomes metrics without
//! any API call (and without adding latency to the response). The line must be the whole log
//! record, not a field inside a tracing event, so it is written to stdout directly rather than
//! through the tracing subscriber.
//!
//! Metrics (namespace `tasksync`, dimension `Function=webhook`): `NotificationsReceived`,
//! `NotificationsAccepted`, `NotificationsRejected`, `HintsEnqueued`, `SubscriptionLookups`
//! (Count) and `EnqueueLatency` (Milliseconds); plus `NotificationsRejected` per `Reason` (one
//! line per reason that occurred, dimensions `Function, Reason`); and `Requests` per answered
//! `Status` (dimensions `Function, Status`), which is where handshakes (200), bad requests (4xx)
//! and failures (5xx) show up.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::outcome::WebhookCounts;

pub const NAMESPACE: &str = crate::telemetry::METRICS_NAMESPACE;
pub const FUNCTION_DIMENSION: &str = "webhook";

/// Where EMF lines go.
#[derive(Debug, Clone, Default)]
pub enum MetricsSink {
    /// Lambda: one line per record on stdout.
    #[default]
    Stdout,
    /// Nowhere (benchmarks, local runs that don't want the noise).
    Discard,
    /// Kept in memory, for tests.
    Memory(Arc<Mutex<Vec<String>>>),
}

impl MetricsSink {
    pub fn memory() -> (Self, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        (MetricsSink::Memory(Arc::clone(&lines)), lines)
    }

    /// Writes the metrics of one notification request. Never fails the request: a metric that
    /// cannot be written is not worth a retry from Graph.
    pub fn emit(&self, counts: &WebhookCounts, status: u16, timestamp_ms: i64) {
        let mut lines = emf_lines(counts, timestamp_ms);
        lines.push(request_line(status, timestamp_ms));
        self.write(lines);
    }

    /// Writes the metric of a request answered before any notification was looked at
    /// (handshake, 404, 405, 413, 400).
    pub fn emit_answered(&self, status: u16, timestamp_ms: i64) {
        self.write(vec![request_line(status, timestamp_ms)]);
    }

    fn write(&self, lines: Vec<String>) {
        match self {
            MetricsSink::Stdout => {
                let mut out = std::io::stdout().lock();
                for line in lines {
                    let _ = writeln!(out, "{line}");
                }
            }
            MetricsSink::Memory(sink) => sink
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .extend(lines),
            MetricsSink::Discard => {}
        }
    }
}

/// One answered request, by status.
pub fn request_line(status: u16, timestamp_ms: i64) -> String {
    document(
        &["Function", "Status"],
        &[("Status", &status.to_string())],
        &[("Requests", "Count", json!(1))],
        timestamp_ms,
    )
}

/// The EMF documents for one request's counts.
pub fn emf_lines(counts: &WebhookCounts, timestamp_ms: i64) -> Vec<String> {
    let mut metrics = vec![
        ("NotificationsReceived", "Count", json!(counts.received)),
        ("NotificationsAccepted", "Count", json!(counts.accepted)),
        (
            "NotificationsRejected",
            "Count",
            json!(counts.rejected_total()),
        ),
        ("HintsEnqueued", "Count", json!(counts.hints_enqueued)),
        ("SubscriptionLookups", "Count", json!(counts.store_lookups)),
    ];
    if let Some(latency) = counts.enqueue_latency {
        metrics.push((
            "EnqueueLatency",
            "Milliseconds",
            json!(latency.as_secs_f64() * 1000.0),
        ));
    }
    let mut lines = vec![document(&["Function"], &[], &metrics, timestamp_ms)];
    for (reason, count) in &counts.rejected {
        lines.push(document(
            &["Function", "Reason"],
            &[("Reason", reason.as_str())],
            &[("NotificationsRejected", "Count", json!(count))],
            timestamp_ms,
        ));
    }
    lines
}

/// One EMF document with the `Function` dimension set to the webhook.
fn document(
    dimension_set: &[&str],
    dimension_values: &[(&str, &str)],
    metrics: &[(&str, &str, Value)],
    timestamp_ms: i64,
) -> String {
    let mut values = vec![("Function", FUNCTION_DIMENSION)];
    values.extend_from_slice(dimension_values);
    crate::telemetry::emf_document(dimension_set, &values, metrics, timestamp_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::outcome::RejectReason;
    use std::time::Duration;

    #[test]
    fn writes_valid_emf_with_a_line_per_reject_reason() {
        let mut counts = WebhookCounts {
            received: 5,
            accepted: 2,
            hints_enqueued: 2,
            store_lookups: 1,
            enqueue_latency: Some(Duration::from_millis(12)),
            ..Default::default()
        };
        counts.reject(RejectReason::UnknownSubscription);
        counts.reject(RejectReason::UnknownSubscription);
        counts.reject(RejectReason::ForeignTenant);
        let lines = emf_lines(&counts, 1_700_000_000_000);
        assert_eq!(lines.len(), 3);
        let main: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(main["_aws"]["Timestamp"], 1_700_000_000_000i64);
        let directive = &main["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["Function"]]));
        // Every declared metric has a value at the root, as EMF requires.
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(main[name].is_number(), "{name} missing");
        }
        assert_eq!(main["NotificationsRejected"], 3);
        assert_eq!(main["EnqueueLatency"], 12.0);
        let reasons: Vec<Value> = lines[1..]
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(reasons[0]["Reason"], "unknown_subscription");
        assert_eq!(reasons[0]["NotificationsRejected"], 2);
        assert_eq!(reasons[1]["Reason"], "foreign_tenant");
        assert_eq!(
            reasons[1]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Function", "Reason"]])
        );
    }
}
