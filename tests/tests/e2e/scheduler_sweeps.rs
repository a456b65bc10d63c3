//! The safety-net sweep against moto and the Graph emulator: only differences from the
//! mapping become hints, an unchanged plan costs its listing pages, overlapping runs sweep a
//! binding once, the mass-deletion guard holds, and a run stops before its deadline.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use serde_json::json;
use tasksync::graph::Outcome;
use tasksync::model::Binding;
use tasksync::ports::ScheduleStore;
use tasksync::queue_message::Hint;
use tasksync::scheduler::{RunContext, approve_withheld_deletions, run_tick};
use testkit::scheduler_harness::SchedulerWorld;

fn planner_hints(binding: &Binding, ids: &[&str]) -> Vec<Hint> {
    let mut hints: Vec<Hint> = ids
        .iter()
        .map(|id| Hint::RemotePlannerTask {
            binding_id: binding.id.clone(),
            task_id: (*id).to_owned(),
        })
        .collect();
    hints.sort_by_key(|h| format!("{h:?}"));
    hints
}

/// The queue holds exactly the hints for these Planner tasks of the binding (in any order).
async fn assert_hints_for(world: &SchedulerWorld, binding: &Binding, ids: &[&str]) {
    assert_eq!(
        sorted(world.drain_hints().await),
        planner_hints(binding, ids)
    );
}

fn sorted(mut hints: Vec<Hint>) -> Vec<Hint> {
    hints.sort_by_key(|h| format!("{h:?}"));
    hints
}

/// A plan whose tasks are all recorded in the mapping (as the reconcile engine would), and its
/// first sweep.
async fn synced_plan(world: &SchedulerWorld, id: &str, tasks: usize) -> (Binding, Vec<String>) {
    let binding = world.planner_binding(id, tasks).await;
    let ids = world.record_plan_as_synced(&binding).await;
    let first = world.tick().await;
    assert_eq!(first.bindings_swept, 1, "{first:?}");
    assert_eq!(
        first.hints_enqueued, 0,
        "a synced plan yields no hint: {first:?}"
    );
    (binding, ids)
}

async fn next_sweep(world: &SchedulerWorld) -> tasksync::scheduler::TickReport {
    // Busy plans come due after a minute; two is past any interval class but idle.
    world.advance_clock(31 * 60).await;
    world.tick().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_planner_task_changed_by_a_person_becomes_a_hint_after_a_sweep() {
    let world = SchedulerWorld::start().await;
    let (binding, ids) = synced_plan(&world, "p-edit", 10).await;
    // A person renames a task in the Planner app: no notification exists for Planner.
    world
        .person_edits_planner(&ids[3], json!({ "title": "renamed by a person" }))
        .await;
    let report = next_sweep(&world).await;
    assert_eq!(report.hints_enqueued, 1, "{report:?}");
    assert_hints_for(&world, &binding, &[&ids[3]]).await;
    // Until the worker syncs it (and records the new ETag), each sweep finds it again; a
    // sweep never loses a change.
    let again = next_sweep(&world).await;
    assert_eq!(again.hints_enqueued, 1);
    world.drain_hints().await;
    world.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_description_edit_in_the_task_details_is_caught() {
    let world = SchedulerWorld::start().await;
    let (binding, ids) = synced_plan(&world, "p-details", 5).await;
    world
        .person_edits_planner_details(&ids[1], json!({ "description": "notes added in Planner" }))
        .await;
    next_sweep(&world).await;
    assert_hints_for(&world, &binding, &[&ids[1]]).await;
    // A second edit of the description only (hasDescription stays true, so the task's own
    // ETag may not move): still caught, by the details ETag.
    world.record_plan_as_synced(&binding).await;
    world
        .person_edits_planner_details(&ids[1], json!({ "description": "edited again" }))
        .await;
    next_sweep(&world).await;
    assert_hints_for(&world, &binding, &[&ids[1]]).await;
    world.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unchanged_plan_costs_only_its_list_calls_and_enqueues_nothing() {
    let world = SchedulerWorld::start().await;
    // 900 tasks: three pages of 400 (docs/graph-behaviour.md §2.9).
    let (_binding, _) = synced_plan(&world, "p-quiet", 900).await;
    let before_total = world.total_calls();
    let before_list = world.calls("planner.list_plan_tasks");
    world
        .control
        .call(reqwest::Method::DELETE, "/counters", None)
        .await
        .expect("reset emulator counters");
    let report = next_sweep(&world).await;
    assert_eq!(report.bindings_swept, 1, "{report:?}");
    assert_eq!(report.hints_enqueued, 0);
    assert_eq!(world.calls("planner.list_plan_tasks") - before_list, 3);
    assert_eq!(world.total_calls() - before_total, 3, "no other Graph call");
    // The emulator agrees: three GETs of the plan's task list, nothing else (no writes).
    let counters = world.control.counters().await.expect("counters");
    let routes = counters["routes"].as_object().expect("routes");
    let graph_routes: Vec<&String> = routes.keys().filter(|r| !r.contains("oauth2")).collect();
    assert_eq!(
        graph_routes,
        vec!["GET /planner/plans/{plan_id}/tasks"],
        "{counters}"
    );
    assert_eq!(
        routes["GET /planner/plans/{plan_id}/tasks"]["total"],
        json!(3)
    );
    assert!(world.drain_hints().await.is_empty());
    world.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unchanged_plan_reads_no_mapping_until_the_full_compare_interval_has_passed() {
    let world = SchedulerWorld::start().await;
    let (binding, ids) = synced_plan(&world, "p-digest", 12).await;
    // The first sweep compared and found the listing equal to the mapping.
    let quiet = next_sweep(&world).await;
    assert_eq!(
        (
            quiet.bindings_swept,
            quiet.sweeps_compared,
            quiet.hints_enqueued
        ),
        (1, 0, 0),
        "the same listing again: the mapping is not read: {quiet:?}"
    );
    // A person's edit changes the listing, so the next sweep compares and hints it.
    world
        .person_edits_planner(&ids[5], json!({ "percentComplete": 50 }))
        .await;
    let changed = next_sweep(&world).await;
    assert_eq!((changed.sweeps_compared, changed.hints_enqueued), (1, 1));
    assert_hints_for(&world, &binding, &[&ids[5]]).await;
    // The worker records the new ETag; the next sweep compares once more, finds it quiet, and
    // the one after trusts the listing again.
    world.record_plan_as_synced(&binding).await;
    let settled = next_sweep(&world).await;
    assert_eq!((settled.sweeps_compared, settled.hints_enqueued), (1, 0));
    // Drift the listing cannot show (a mapping item lost with Graph unchanged) is not seen by
    // the short-cut, but the periodic full comparison (an hour by default) finds it.
    let key = |id: &str| {
        std::collections::HashMap::from([
            (
                "pk".to_owned(),
                aws_sdk_dynamodb::types::AttributeValue::S(format!("remote#planner#{id}")),
            ),
            (
                "sk".to_owned(),
                aws_sdk_dynamodb::types::AttributeValue::S("mapping".into()),
            ),
        ])
    };
    world
        .aws
        .dynamodb
        .delete_item()
        .table_name(world.aws.resources.sync_table())
        .set_key(Some(key(&ids[2])))
        .send()
        .await
        .expect("delete mapping item");
    let trusted = next_sweep(&world).await;
    assert_eq!((trusted.sweeps_compared, trusted.hints_enqueued), (0, 0));
    let full = next_sweep(&world).await;
    assert_eq!(
        (full.sweeps_compared, full.hints_enqueued),
        (1, 1),
        "31 + 31 minutes after the last comparison: compared in full: {full:?}"
    );
    assert_hints_for(&world, &binding, &[&ids[2]]).await;
    world.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_runs_sweep_each_binding_once() {
    let world = SchedulerWorld::start().await;
    let mut bindings = Vec::new();
    for i in 0..20 {
        bindings.push(world.planner_binding(&format!("p-race-{i:02}"), 3).await);
    }
    let now = world.now().await;
    let deps = world.deps();
    let ctx_a = RunContext::new(now, Instant::now() + Duration::from_secs(50));
    let ctx_b = RunContext::new(now, Instant::now() + Duration::from_secs(50));
    let (a, b) = tokio::join!(run_tick(&deps, &ctx_a), run_tick(&deps, &ctx_b));
    assert_eq!(
        a.bindings_swept + b.bindings_swept,
        20,
        "each binding swept exactly once: {a:?} {b:?}"
    );
    assert_eq!(
        world.calls("planner.list_plan_tasks"),
        20,
        "each plan listed exactly once"
    );
    // Every binding got its three tasks hinted exactly once.
    let hints = world.drain_hints().await;
    assert_eq!(hints.len(), 60);
    for binding in &bindings {
        let s = world
            .sync
            .get_schedule(&binding.id)
            .await
            .expect("store")
            .expect("schedule");
        assert!(s.lease_owner.is_none(), "every lease released");
        assert!(s.last_swept_at.is_some());
    }
    world.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_guard_stops_a_mass_deletion_until_an_operator_approves_it() {
    let world = SchedulerWorld::start().await;
    let (binding, ids) = synced_plan(&world, "p-guard", 20).await;

    // A few deletions pass.
    for id in &ids[..3] {
        world.person_deletes_planner(id).await;
    }
    let report = next_sweep(&world).await;
    assert_eq!(report.deletions_withheld, 0, "{report:?}");
    assert_hints_for(&world, &binding, &[&ids[0], &ids[1], &ids[2]]).await;
    // (The worker would now drop those mappings.)
    for id in &ids[..3] {
        world
            .aws
            .dynamodb
            .delete_item()
            .table_name(world.aws.resources.sync_table())
            .key(
                "pk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("remote#planner#{id}")),
            )
            .key(
                "sk",
                aws_sdk_dynamodb::types::AttributeValue::S("mapping".into()),
            )
            .send()
            .await
            .expect("mapping dropped");
    }

    // Then 12 of the remaining 17 vanish at once: stopped and reported.
    for id in &ids[3..15] {
        world.person_deletes_planner(id).await;
    }
    let report = next_sweep(&world).await;
    assert_eq!(report.deletions_withheld, 12, "{report:?}");
    assert_eq!(report.hints_enqueued, 0);
    assert!(
        world.drain_hints().await.is_empty(),
        "no deletion hint sent"
    );
    let s = world
        .sync
        .get_schedule(&binding.id)
        .await
        .expect("store")
        .expect("schedule");
    let guard = s.deletion_guard.expect("reported on the schedule");
    assert_eq!((guard.vanished, guard.mapped), (12, 17));
    // Still stopped on the next sweep.
    let again = next_sweep(&world).await;
    assert_eq!(again.deletions_withheld, 12);

    // An operator approves: the next sweep sends them.
    let now = world.now().await;
    assert!(
        approve_withheld_deletions(&world.sync, &binding.id, now)
            .await
            .expect("approve")
    );
    let report = world.tick().await;
    assert_eq!(report.hints_enqueued, 12, "{report:?}");
    assert_eq!(world.drain_hints().await.len(), 12);
    let s = world
        .sync
        .get_schedule(&binding.id)
        .await
        .expect("store")
        .expect("schedule");
    assert!(s.deletion_guard.is_none());
    assert!(!s.deletions_approved, "the approval is used once");
    world.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_run_stops_before_its_deadline_and_the_next_run_takes_the_rest_oldest_first() {
    let mut world = SchedulerWorld::start().await;
    world.settings.concurrency = 2;
    world.settings.min_time_per_binding = Duration::from_secs(2);
    for i in 0..30 {
        world.planner_binding(&format!("p-dl-{i:02}"), 1).await;
    }
    // Slow Graph: each listing takes 300 ms, so a 3 s run cannot do 30 bindings.
    world
        .add_fault(json!({ "path_prefix": "/planner/plans/", "latency_ms": 300 }))
        .await;
    let now = world.now().await;
    let started = Instant::now();
    let ctx = RunContext::new(now, Instant::now() + Duration::from_secs(3));
    let first = run_tick(&world.deps(), &ctx).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "stopped in time"
    );
    assert!(first.bindings_left_for_next_run > 0, "{first:?}");
    assert_eq!(
        first.bindings_swept + first.bindings_left_for_next_run,
        30,
        "{first:?}"
    );
    world.clear_faults().await;
    let second = world.tick_at(now).await;
    assert_eq!(
        second.bindings_swept, first.bindings_left_for_next_run,
        "{second:?}"
    );
    world.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_todo_safety_net_round_finds_a_lost_change_and_starts_over_when_the_delta_link_expired() {
    let world = SchedulerWorld::start().await;
    let binding = world.todo_binding("t-net").await;
    world
        .control
        .create_todo_task(&binding.remote_container_id, &json!({ "title": "a" }))
        .await
        .expect("task");
    world.tick().await;
    world.record_todo_list_as_synced(&binding).await;
    world.drain_hints().await;

    // A lost notification: the safety-net delta round finds the change.
    world.drop_next_deliveries(1).await;
    let lost_id = world
        .person_creates_todo_task(&binding.remote_container_id, &json!({ "title": "lost" }))
        .await;
    let report = next_sweep(&world).await;
    assert_eq!(report.bindings_swept, 1, "{report:?}");
    assert_eq!(
        world.drain_hints().await,
        vec![Hint::RemoteTodoTask {
            binding_id: binding.id.clone(),
            task_id: lost_id.clone()
        }]
    );

    // The deltaLink expires: the next round starts over and compares with the mapping.
    world.record_todo_list_as_synced(&binding).await;
    world
        .control
        .call(reqwest::Method::POST, "/todo/delta/expire", None)
        .await
        .expect("expire");
    let counters = world.graph.counters();
    let expired_before = counters.get("todo.delta", Outcome::DeltaExpired);
    let ok_before = counters.get("todo.delta", Outcome::Success);
    let report = next_sweep(&world).await;
    assert_eq!(report.sweep_failures, 0, "{report:?}");
    assert_eq!(
        counters.get("todo.delta", Outcome::DeltaExpired) - expired_before,
        1,
        "the stored link was refused once"
    );
    assert_eq!(
        counters.get("todo.delta", Outcome::Success) - ok_before,
        1,
        "then one full round (one page)"
    );
    assert!(
        world.drain_hints().await.is_empty(),
        "every task equals its mapping"
    );
    assert_eq!(report.sweeps_compared, 1, "a full round compares");

    // Nothing changed since: the round is empty and the mapping is not read.
    let quiet = next_sweep(&world).await;
    assert_eq!(
        (
            quiet.bindings_swept,
            quiet.sweeps_compared,
            quiet.hints_enqueued
        ),
        (1, 0, 0),
        "{quiet:?}"
    );
    world.stack.emulator.shutdown();
}
