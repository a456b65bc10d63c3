//! Graph calls as CloudWatch metrics: one `GraphCalls` count per operation and outcome, for what
//! happened between two snapshots of the client's counters (one Lambda invocation).

use std::collections::BTreeMap;

use super::counters::Outcome;

/// A copy of the counters, as `CallCounters::snapshot` returns it.
pub type CountsSnapshot = BTreeMap<(&'static str, Outcome), u64>;

/// EMF lines for the calls made between `before` and `after`; nothing when no call was made.
pub fn emf_lines(
    function: &str,
    before: &CountsSnapshot,
    after: &CountsSnapshot,
    timestamp_ms: i64,
) -> Vec<String> {
    after
        .iter()
        .filter_map(|(key, count)| {
            let delta = count.saturating_sub(before.get(key).copied().unwrap_or(0));
            (delta > 0).then(|| {
                crate::telemetry::emf_document(
                    &["Function", "Operation", "Outcome"],
                    &[
                        ("Function", function),
                        ("Operation", key.0),
                        ("Outcome", key.1.as_str()),
                    ],
                    &[("GraphCalls", "Count", serde_json::json!(delta))],
                    timestamp_ms,
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emits_only_what_changed_since_the_last_snapshot() {
        let before: CountsSnapshot = [
            (("todo.get_task", Outcome::Success), 3),
            (("token", Outcome::Success), 1),
        ]
        .into_iter()
        .collect();
        let after: CountsSnapshot = [
            (("todo.get_task", Outcome::Success), 5),
            (("todo.get_task", Outcome::Throttled), 1),
            (("token", Outcome::Success), 1),
        ]
        .into_iter()
        .collect();
        let lines = emf_lines("worker", &before, &after, 1_700_000_000_000);
        assert_eq!(lines.len(), 2);
        let docs: Vec<serde_json::Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let success = docs.iter().find(|d| d["Outcome"] == "success").unwrap();
        assert_eq!(success["GraphCalls"], 2);
        assert_eq!(success["Operation"], "todo.get_task");
        assert_eq!(success["Function"], "worker");
        assert_eq!(
            success["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "tasksync"
        );
        let throttled = docs.iter().find(|d| d["Outcome"] == "throttled").unwrap();
        assert_eq!(throttled["GraphCalls"], 1);
        assert!(emf_lines("worker", &after, &after, 0).is_empty());
    }
}
