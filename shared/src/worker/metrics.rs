//! The worker's CloudWatch metrics: the Graph calls each batch made, by operation and outcome,
//! as Embedded Metric Format lines on stdout (namespace `tasksync`, dimensions `Function=worker,
//! Operation, Outcome`, metric `GraphCalls`). The lines must be whole log records, not fields of
//! a tracing event, so they are written to stdout directly.

use std::future::Future;
use std::io::Write;

use crate::graph::GraphClient;
use crate::graph::metrics::{CountsSnapshot, emf_lines};

/// The `Function` dimension of the worker's metrics.
pub const FUNCTION_DIMENSION: &str = "worker";

/// Runs `batch` (the handler on one SQS batch) and then writes the Graph calls `graph` made
/// meanwhile. A warm execution environment handles one invocation at a time, so the calls
/// between the two snapshots of the client's counters are this batch's.
pub async fn with_graph_metrics<F: Future>(graph: &GraphClient, batch: F) -> F::Output {
    let before = graph.counters().snapshot();
    let output = batch.await;
    let after = graph.counters().snapshot();
    emit_graph_calls(
        &before,
        &after,
        chrono::Utc::now().timestamp_millis(),
        &mut std::io::stdout().lock(),
    );
    output
}

/// Writes one EMF line per operation and outcome whose count grew from `before` to `after`.
/// Never fails the batch: a metric that cannot be written is not worth a redelivery.
pub fn emit_graph_calls(
    before: &CountsSnapshot,
    after: &CountsSnapshot,
    timestamp_ms: i64,
    out: &mut impl Write,
) {
    for line in emf_lines(FUNCTION_DIMENSION, before, after, timestamp_ms) {
        let _ = writeln!(out, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Outcome;

    #[test]
    fn one_line_per_call_kind_that_grew_with_the_worker_dimension() {
        let before: CountsSnapshot = [(("todo.get_task", Outcome::Success), 3)]
            .into_iter()
            .collect();
        let after: CountsSnapshot = [
            (("todo.get_task", Outcome::Success), 4),
            (("todo.update_task", Outcome::Throttled), 2),
        ]
        .into_iter()
        .collect();
        let mut out = Vec::new();
        emit_graph_calls(&before, &after, 1_700_000_000_000, &mut out);
        let text = String::from_utf8(out).unwrap();
        let docs: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(docs.len(), 2);
        assert!(docs.iter().all(|d| d["Function"] == "worker"));
        let mut none = Vec::new();
        emit_graph_calls(&after, &after, 0, &mut none);
        assert!(none.is_empty());
    }
}
