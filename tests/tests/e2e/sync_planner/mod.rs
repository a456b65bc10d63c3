//! The sync engine end to end with a Planner binding (moto + the Graph emulator + the real
//! worker handler on SQS): every operation on each side, notes and checklist in the task
//! details, a 412 race with a person's edit, a 409 on the task or the details PATCH (once, and
//! on every attempt), a crash between the remote create and the mapping write, and a create
//! whose answer was lost (its orphan adopted, never imported, a person's twin left alone). Planner sends no change notifications (docs/graph-behaviour.md §1.10): the scheduler's
//! sweep sends `remote_planner_task` hints, which the tests send directly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conflicts;
mod interrupted_creates;
mod operations;
mod orphans;
mod races;

use serde_json::json;
use tasksync::graph::{GraphClient, Outcome};
use tasksync::model::{Binding, ChecklistItem, LocalTask, Origin, Priority, TaskStatus};
use tasksync::queue_message::Hint;
use tasksync::sync::remote::{EarlierCreate, RemoteCall};
use tasksync::sync::{FieldMap, MappingState, OpenRemote, RemoteSide, RemoteTask, SideRules};
use tasksync::worker::WorkerDeps;
use testkit::sync_harness::{CrashAfterCreate, SyncWorld};

fn app_task(list: &str, id: &str, title: &str) -> LocalTask {
    LocalTask::new(list, id, title, Origin::App("test-agent".into()))
}

fn planner_hint(binding_id: &str, task_id: &str) -> Hint {
    Hint::RemotePlannerTask {
        binding_id: binding_id.to_owned(),
        task_id: task_id.to_owned(),
    }
}

fn report(scenario: &str, calls: u64, writes: u64) {
    println!("GRAPH-CALLS planner | {scenario} | {calls} | {writes}");
}

/// A resync of the binding, as the sweep sends it.
fn resync_hint(b: &Binding) -> Hint {
    Hint::ResyncBinding {
        binding_id: b.id.clone(),
        reason: "sweep".into(),
    }
}

/// What delivering one hint costs in Graph calls and writes.
async fn hint_cost(w: &SyncWorld, scenario: &str, hint: Hint) -> (u64, u64) {
    measured(w, scenario, async {
        w.send(hint).await;
        w.drain().await;
    })
    .await
}

/// [`hint_cost`] of a hint whose delivery must not fail.
async fn clean_hint_cost(w: &SyncWorld, scenario: &str, hint: Hint) -> (u64, u64) {
    measured(w, scenario, async {
        w.send(hint).await;
        assert_eq!(w.drain().await.failed, 0);
    })
    .await
}

/// What draining the queue costs, when every message must settle within its delivery.
async fn settled_cost(w: &SyncWorld, scenario: &str) -> (u64, u64) {
    measured(w, scenario, async {
        assert_eq!(w.drain().await.failed, 0, "settled within the message");
    })
    .await
}

async fn measured<F: std::future::Future<Output = ()>>(
    w: &SyncWorld,
    scenario: &str,
    f: F,
) -> (u64, u64) {
    let (c, wr) = (w.graph_calls(), w.graph_writes());
    f.await;
    let cost = (w.graph_calls() - c, w.graph_writes() - wr);
    report(scenario, cost.0, cost.1);
    cost
}

/// Makes the emulator answer `status` to the next `times` requests (all, when `None`) of
/// `method` on the route `path` (a template, as in its counters), with Planner's own body.
async fn inject(w: &SyncWorld, method: &str, path: &str, status: u16, times: Option<u64>) {
    let mut rule = json!({"method": method, "path": path, "status": status});
    if let Some(n) = times {
        rule["times"] = json!(n);
    }
    w.add_fault(rule).await;
}

/// How the emulator answered a route, by status, as its own counters saw it (every client).
async fn emulator_statuses(w: &SyncWorld, route: &str) -> std::collections::BTreeMap<String, u64> {
    let counters = w.control.counters().await.expect("emulator counters");
    serde_json::from_value(counters["routes"][route]["by_status"].clone()).unwrap_or_default()
}

const DETAILS_PATCH: &str = "PATCH /planner/tasks/{task_id}/details";

/// Both sides hold the same values and the mapping recorded Planner's current ETags: a sweep
/// hint for the task is an echo (two reads, no write).
async fn assert_settled(w: &SyncWorld, binding_id: &str, remote_id: &str) {
    let (t, d) = w.planner_task(remote_id).await.unwrap();
    let m = w.mapping("ops", "X-1").await.unwrap();
    assert_eq!(m.state, MappingState::Active);
    assert_eq!(
        m.task_etag.as_deref(),
        t["@odata.etag"].as_str(),
        "task ETag recorded"
    );
    assert_eq!(
        m.details_etag.as_deref(),
        d["@odata.etag"].as_str(),
        "details ETag recorded"
    );
    let cost = measured(w, "sweep hint after the settled 409 (echo)", async {
        w.send(planner_hint(binding_id, remote_id)).await;
        assert_eq!(w.drain().await.failed, 0);
    })
    .await;
    assert_eq!(cost, (2, 0), "nothing left to write on either side");
}

const TASK_POST: &str = "POST /planner/tasks";

/// A local task with something for every part of a Planner create: task fields (POST) and
/// notes + checklist (details).
fn rich_task(id: &str) -> LocalTask {
    let mut task = app_task("ops", id, "Move the servers");
    task.notes = "Rack B, after 18:00".into();
    task.priority = Priority::Important;
    task.categories = vec!["category3".into()];
    task.checklist = vec![ChecklistItem {
        id: "k1".into(),
        title: "Label the cables".into(),
        checked: false,
    }];
    task
}

/// Exactly one task in the plan (counted through the emulator), carrying the marker of "X-1"
/// and every field of [`rich_task`], and the mapping active on it with Planner's current ETags
/// (a sweep hint for it is an echo). Its id.
async fn assert_one_complete_task(w: &SyncWorld, b: &Binding) -> String {
    let tasks = w.planner_tasks(b).await;
    assert_eq!(tasks.len(), 1, "exactly one Planner task: {tasks:?}");
    let remote_id = tasks[0]["id"].as_str().unwrap().to_owned();
    let m = w.mapping("ops", "X-1").await.unwrap();
    assert_eq!(m.remote_id.as_deref(), Some(remote_id.as_str()));
    assert_eq!(m.last_error, None);
    let (t, d) = w.planner_task(&remote_id).await.unwrap();
    assert_eq!(t["title"], "Move the servers");
    assert_eq!(t["priority"], 3);
    assert_eq!(t["appliedCategories"], json!({"category3": true}));
    assert_eq!(d["description"], "Rack B, after 18:00");
    assert_eq!(d["checklist"]["k1"]["title"], "Label the cables");
    let references = d["references"].as_object().unwrap();
    assert_eq!(references.len(), 1, "one marker: {references:?}");
    let (_, marker) = references.iter().next().unwrap();
    assert_eq!(marker["alias"], "tasksync X-1");
    assert_eq!(
        emulator_statuses(w, TASK_POST).await.values().sum::<u64>(),
        1,
        "one POST ever reached Planner"
    );
    assert_settled(w, &b.id, &remote_id).await;
    remote_id
}
