//! The sync engine end to end with a To Do binding: the real worker handler on the SQS queue
//! (moto), the tasks and sync tables (moto), the Graph emulator, a person editing in the To Do
//! app (control API) and an application writing the tasks table. Each scenario also prints the
//! Graph calls it cost (docs/sync-engine.md, "Graph calls per scenario").
// Test helpers: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod checklist;
mod dates;
mod merge_and_delivery;
mod operations;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::json;
use tasksync::graph::models::TodoChecklistItemWrite;
use tasksync::model::{ChecklistItem, LocalTask, Origin, Priority, TaskDate, TaskStatus};
use tasksync::ports::{BindingLookup, BindingSave, MappingStore, TaskRead, TaskWrite};
use tasksync::queue_message::Hint;
use tasksync::store::Item;
use tasksync::sync::{Field, MappingState, Side};
use testkit::sync_harness::SyncWorld;

fn app_task(list: &str, id: &str, title: &str) -> LocalTask {
    LocalTask::new(list, id, title, Origin::App("test-agent".into()))
}

struct Cost {
    calls: u64,
    writes: u64,
}

fn writes(w: &SyncWorld) -> u64 {
    w.graph_writes()
}

fn cost_since(w: &SyncWorld, before: &Cost) -> Cost {
    Cost {
        calls: w.graph_calls() - before.calls,
        writes: writes(w) - before.writes,
    }
}

fn now_cost(w: &SyncWorld) -> Cost {
    Cost {
        calls: w.graph_calls(),
        writes: writes(w),
    }
}

fn report(scenario: &str, cost: &Cost) {
    println!(
        "GRAPH-CALLS todo | {scenario} | {} | {}",
        cost.calls, cost.writes
    );
}

fn remote_hint(binding_id: &str, task_id: &str) -> Hint {
    Hint::RemoteTodoTask {
        binding_id: binding_id.to_owned(),
        task_id: task_id.to_owned(),
    }
}

fn item(id: &str, title: &str, checked: bool) -> ChecklistItem {
    ChecklistItem {
        id: id.into(),
        title: title.into(),
        checked,
    }
}
