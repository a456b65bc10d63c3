//! Counts of Graph calls by operation and outcome: read by tests and benchmarks, and emitted as
//! metrics by the telemetry layer. One count per HTTP attempt, so retries and throttling show.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// How one HTTP attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Success,
    NotFound,
    Conflict,
    Throttled,
    Transient,
    Forbidden,
    BadRequest,
    DeltaExpired,
    /// A 401 from Graph that led to a token refresh.
    Unauthorized,
    Config,
    Protocol,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::NotFound => "not_found",
            Outcome::Conflict => "conflict",
            Outcome::Throttled => "throttled",
            Outcome::Transient => "transient",
            Outcome::Forbidden => "forbidden",
            Outcome::BadRequest => "bad_request",
            Outcome::DeltaExpired => "delta_expired",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Config => "config",
            Outcome::Protocol => "protocol",
        }
    }

    pub(crate) fn of(err: &super::GraphError) -> Self {
        use super::GraphError as E;
        match err {
            E::NotFound => Outcome::NotFound,
            E::Conflict { .. } => Outcome::Conflict,
            E::Throttled { .. } => Outcome::Throttled,
            E::Transient(_) => Outcome::Transient,
            E::Forbidden { .. } => Outcome::Forbidden,
            E::BadRequest { .. } => Outcome::BadRequest,
            E::DeltaExpired => Outcome::DeltaExpired,
            E::Config(_) => Outcome::Config,
            E::Protocol(_) => Outcome::Protocol,
        }
    }
}

/// Shared by every clone of a client. A mutex over a small map is cheap next to an HTTP call.
#[derive(Debug, Default)]
pub struct CallCounters {
    counts: Mutex<BTreeMap<(&'static str, Outcome), u64>>,
}

impl CallCounters {
    pub(crate) fn record(&self, operation: &'static str, outcome: Outcome) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        *counts.entry((operation, outcome)).or_insert(0) += 1;
    }

    /// Attempts of `operation` that ended with `outcome`.
    pub fn get(&self, operation: &str, outcome: Outcome) -> u64 {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts
            .iter()
            .filter(|((op, out), _)| *op == operation && *out == outcome)
            .map(|(_, n)| *n)
            .sum()
    }

    /// All attempts of `operation`, whatever the outcome.
    pub fn total(&self, operation: &str) -> u64 {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts
            .iter()
            .filter(|((op, _), _)| *op == operation)
            .map(|(_, n)| *n)
            .sum()
    }

    /// Every Graph request so far, the token endpoint aside: what a sync step cost.
    pub fn requests(&self) -> u64 {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts
            .iter()
            .filter(|((op, _), _)| *op != "token")
            .map(|(_, n)| *n)
            .sum()
    }

    /// Writes to tasks (To Do and Planner creates, updates and deletes, of tasks, details and
    /// checklist items), whatever their outcome: the number an echo must keep at zero. The
    /// operation names say what they do, so a new write operation is counted without a list to
    /// keep up to date.
    pub fn task_writes(&self) -> u64 {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts
            .iter()
            .filter(|((op, _), _)| is_task_write(op))
            .map(|(_, n)| *n)
            .sum()
    }

    /// A copy of every count, e.g. for emitting metrics.
    pub fn snapshot(&self) -> BTreeMap<(&'static str, Outcome), u64> {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn is_task_write(operation: &str) -> bool {
    match operation.split_once('.') {
        Some(("todo" | "planner", name)) => ["create", "update", "delete"]
            .iter()
            .any(|verb| name.starts_with(verb)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_writes_are_the_task_creates_updates_and_deletes_and_requests_skip_the_token() {
        let counters = CallCounters::default();
        for op in [
            "token",
            "todo.get_task",
            "todo.create_checklist_item",
            "todo.update_task",
            "planner.update_task_details",
            "planner.delete_task",
            "planner.list_plan_tasks",
            "subscriptions.create",
        ] {
            counters.record(op, Outcome::Success);
        }
        counters.record("planner.update_task", Outcome::Conflict);
        assert_eq!(
            counters.task_writes(),
            5,
            "a refused write is still a write"
        );
        assert_eq!(counters.requests(), 8);
    }
}
