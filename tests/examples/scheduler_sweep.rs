//! Measures the scheduler (docs/scheduler.md "Measurements"): the Graph calls and time of one
//! sweep of an unchanged plan of 100, 1,000 and 5,000 tasks (and of one with 10 changed tasks),
//! and the time to handle 1,000 due bindings in one run, with the schedules on moto (DynamoDB)
//! and on the in-memory store, at several concurrencies.
//!
//! `cargo run --release -p tasksync-tests --example scheduler_sweep` (about ten minutes; starts
//! moto and the emulator itself; `-- --sweeps-only` skips the 1,000 bindings). Prints markdown
//! tables.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use graph_emulator::EmulatorConfig;
use serde_json::json;
use tasksync::model::{Binding, RemoteKind};
use tasksync::ports::{BindingSave, ScheduleStore};
use tasksync::queue::MemoryHintQueue;
use tasksync::scheduler::sweep::sweep_binding;
use tasksync::scheduler::{BindingSchedule, RunContext, SchedulerDeps, run_tick};
use tasksync::store::MemoryStore;
use testkit::scheduler_harness::SchedulerWorld;

const ROUNDS: usize = 5;

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn config() -> EmulatorConfig {
    EmulatorConfig {
        max_plans_per_group: 5_000,
        max_active_tasks_per_plan: 20_000,
        max_tasks_per_plan: 20_000,
        ..EmulatorConfig::default()
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let world = SchedulerWorld::start_with(config()).await;
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(
                |c| c.lines().find(|l| l.starts_with("model name")).map(|l| l
                    .split(':')
                    .nth(1)
                    .unwrap_or("")
                    .trim()
                    .to_owned())
            )
            .unwrap_or_default()
    );
    println!();
    println!(
        "| plan size | changed | Graph calls | hints | median sweep time (of {ROUNDS}) | of which the Graph listing |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for size in [100usize, 1_000, 5_000] {
        let binding = world.planner_binding(&format!("bench-{size}"), size).await;
        let ids = world.record_plan_as_synced(&binding).await;
        let queue = MemoryHintQueue::new();
        for changed in [0usize, 10] {
            for id in ids.iter().take(changed) {
                world
                    .control
                    .call(
                        reqwest::Method::PATCH,
                        &format!("/planner/tasks/{id}"),
                        Some(&json!({ "title": format!("changed {id}") })),
                    )
                    .await
                    .expect("edit");
            }
            let mut listing = Vec::new();
            for _ in 0..ROUNDS {
                let started = Instant::now();
                world
                    .graph
                    .planner()
                    .list_plan_tasks_with_details(&binding.remote_container_id)
                    .await
                    .expect("listing");
                listing.push(started.elapsed());
            }
            let mut times = Vec::new();
            let mut calls = 0;
            let mut hints = 0;
            for _ in 0..ROUNDS {
                let now = world.now().await;
                let mut schedule = BindingSchedule::new(&binding.id, RemoteKind::Planner, now);
                let before = world.total_calls();
                let started = Instant::now();
                let stats = sweep_binding(
                    &world.store,
                    &queue,
                    &world.graph,
                    &world.settings,
                    &binding,
                    &mut schedule,
                    now,
                    false,
                )
                .await
                .expect("sweep");
                times.push(started.elapsed());
                calls = world.total_calls() - before;
                hints = stats.hints;
                queue.drain();
            }
            println!(
                "| {size} | {changed} | {calls} | {hints} | {:.1} ms | {:.1} ms |",
                median(times).as_secs_f64() * 1e3,
                median(listing).as_secs_f64() * 1e3
            );
        }
    }

    if std::env::args().any(|a| a == "--sweeps-only") {
        world.emulator.shutdown();
        return;
    }
    // 1,000 due bindings: plans of 5 tasks, mapping recorded, all due at once.
    println!();
    println!(
        "| 1,000 due bindings | concurrency | swept in one run | Graph calls | run time | per swept binding |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let memory = MemoryStore::new();
    let mut bindings = Vec::new();
    for i in 0..1_000 {
        let plan = world
            .control
            .call(
                reqwest::Method::POST,
                "/planner/plans",
                Some(&json!({ "title": format!("due {i}") })),
            )
            .await
            .expect("plan");
        let plan_id = plan["id"].as_str().expect("plan id").to_owned();
        world.seed_plan(&plan_id, 5, "t").await;
        let binding = Binding::planner(format!("due-{i:04}"), format!("local-due-{i}"), plan_id);
        memory.save_binding(&binding).await.expect("memory binding");
        world
            .store
            .save_binding(&binding)
            .await
            .expect("moto binding");
        bindings.push(binding);
    }
    // Record the mappings in both stores (an unchanged binding is the common case).
    for binding in &bindings {
        let tasks = world
            .graph
            .planner()
            .list_plan_tasks_with_details(&binding.remote_container_id)
            .await
            .expect("listing");
        let entries: Vec<(String, Option<String>, Option<String>)> = tasks
            .into_iter()
            .map(|t| {
                let d = t.details.as_ref().and_then(|d| d.etag.clone());
                (t.id, t.etag, d)
            })
            .collect();
        world.record_mappings(binding, &entries).await;
        for (id, etag, details) in &entries {
            let mut item = tasksync::store::schedule_item::mapping_index_attributes(
                &binding.id,
                id,
                etag.as_deref(),
                details.as_deref(),
            );
            item.insert(
                "pk".into(),
                aws_sdk_dynamodb::types::AttributeValue::S(format!("remote#planner#{id}")),
            );
            item.insert(
                "sk".into(),
                aws_sdk_dynamodb::types::AttributeValue::S("mapping".into()),
            );
            memory.put_raw_sync_item(item).expect("memory mapping");
        }
    }
    let mut offset = 0i64;
    for (store_name, concurrency) in [
        ("memory", 1usize),
        ("memory", 8),
        ("memory", 32),
        ("moto", 8),
        ("moto", 32),
    ] {
        // Each configuration starts from schedules all due: enroll, then move the clock past
        // every interval.
        offset += 3_600;
        let now = world.now().await + chrono::Duration::seconds(offset);
        let mut settings = world.settings.clone();
        settings.concurrency = concurrency;
        let ctx = RunContext::new(now, Instant::now() + Duration::from_secs(58));
        let calls_before = world.total_calls();
        let started = Instant::now();
        let report = if store_name == "memory" {
            let deps = SchedulerDeps {
                store: memory.clone(),
                queue: MemoryHintQueue::new(),
                graph: world.graph.clone(),
                settings,
            };
            run_tick(&deps, &ctx).await
        } else {
            let deps = SchedulerDeps {
                store: world.store.clone(),
                queue: MemoryHintQueue::new(),
                graph: world.graph.clone(),
                settings,
            };
            run_tick(&deps, &ctx).await
        };
        let elapsed = started.elapsed();
        println!(
            "| schedules on {store_name} | {concurrency} | {} of {} | {} | {:.1} s | {:.1} ms |",
            report.bindings_swept,
            report.bindings_due,
            world.total_calls() - calls_before,
            elapsed.as_secs_f64(),
            elapsed.as_secs_f64() * 1e3 / f64::from(report.bindings_swept.max(1))
        );
        assert_eq!(report.store_errors, 0, "{report:?}");
    }
    let scheduled = world
        .store
        .scheduled_binding_ids()
        .await
        .expect("ids")
        .len();
    println!();
    println!("schedules on moto: {scheduled}");
    world.emulator.shutdown();
}
