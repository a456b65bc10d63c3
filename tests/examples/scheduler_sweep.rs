//! Measures the scheduler (docs/scheduler.md "Measurements"): the Graph calls and time of one
//! sweep of an unchanged plan of 100, 1,000 and 5,000 tasks (and of one with 10 changed tasks),
//! and the time to handle 1,000 due bindings in one run, with the schedules on moto (DynamoDB)
//! and on the in-memory store, at several concurrencies.
//!
//! `cargo run --release -p tasksync-tests --example scheduler_sweep` (about ten minutes; starts
//! moto and the emulator itself; `-- --sweeps-only` skips the 1,000 bindings, `--bindings-only`
//! the single sweeps). Prints markdown
//! tables.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use graph_emulator::EmulatorConfig;
use serde_json::json;
use tasksync::model::{Binding, RemoteKind};
use tasksync::ports::{BindingSave, RemoteEtagIndex, ScheduleStore};
use tasksync::queue::MemoryHintQueue;
use tasksync::scheduler::sweep::{SweepStats, sweep_binding};
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

/// One sweep of the binding, not a full round, on the world's stores and Graph client.
async fn sweep(
    world: &SchedulerWorld,
    queue: &MemoryHintQueue,
    binding: &Binding,
    schedule: &mut BindingSchedule,
    now: chrono::DateTime<chrono::Utc>,
) -> SweepStats {
    sweep_binding(
        &world.sync,
        queue,
        &world.graph,
        &world.settings,
        binding,
        schedule,
        now,
        false,
    )
    .await
    .expect("sweep")
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
        "| plan size | changed | mapping | Graph calls | hints | median sweep time (of {ROUNDS}) | of which the Graph listing |"
    );
    println!("|---:|---:|---|---:|---:|---:|---:|");
    let sizes: &[usize] = if std::env::args().any(|a| a == "--bindings-only") {
        &[]
    } else {
        &[100, 1_000, 5_000]
    };
    for &size in sizes {
        let binding = world.planner_binding(&format!("bench-{size}"), size).await;
        let ids = world.record_plan_as_synced(&binding).await;
        let queue = MemoryHintQueue::new();
        for changed in [0usize, 10] {
            for id in ids.iter().take(changed) {
                world
                    .person_edits_planner(id, json!({ "title": format!("changed {id}") }))
                    .await;
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
                let stats = sweep(&world, &queue, &binding, &mut schedule, now).await;
                times.push(started.elapsed());
                calls = world.total_calls() - before;
                hints = stats.hints;
                queue.drain();
            }
            println!(
                "| {size} | {changed} | compared | {calls} | {hints} | {:.1} ms | {:.1} ms |",
                median(times).as_secs_f64() * 1e3,
                median(listing).as_secs_f64() * 1e3
            );
        }
        // The changes above are now recorded, as the worker would; then the plan is unchanged
        // between sweeps: the first compares and remembers the listing, the rest skip the mapping.
        world.record_plan_as_synced(&binding).await;
        let now = world.now().await;
        let mut schedule = BindingSchedule::new(&binding.id, RemoteKind::Planner, now);
        let mut times = Vec::new();
        let mut calls = 0;
        for round in 0..=ROUNDS {
            let before = world.total_calls();
            let started = Instant::now();
            let stats = sweep(&world, &queue, &binding, &mut schedule, now).await;
            assert_eq!(stats.mapping_read, round == 0, "{stats:?}");
            if round > 0 {
                times.push(started.elapsed());
                calls = world.total_calls() - before;
            }
        }
        println!(
            "| {size} | 0 | listing unchanged since a quiet sweep (mapping not read) | {calls} | 0 | {:.1} ms | |",
            median(times).as_secs_f64() * 1e3,
        );
    }

    if std::env::args().any(|a| a == "--sweeps-only") {
        world.stack.emulator.shutdown();
        return;
    }
    // 1,000 due bindings: plans of 5 tasks, mapping recorded, all due at once.
    println!();
    println!("1,000 due bindings (plans of 5 tasks, all synced):");
    println!();
    let memory = MemoryStore::new();
    let mut bindings = Vec::new();
    for i in 0..1_000 {
        let plan_id = world.plan(&format!("due {i}")).await;
        world.seed_plan(&plan_id, 5, "t").await;
        let binding = Binding::planner(format!("due-{i:04}"), format!("local-due-{i}"), plan_id);
        memory.save_binding(&binding).await.expect("memory binding");
        world
            .sync
            .save_binding(&binding)
            .await
            .expect("moto binding");
        bindings.push(binding);
    }
    // Record the mappings in both stores (an unchanged binding is the common case).
    for binding in &bindings {
        let entries = world.plan_etags(binding).await;
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
    println!(
        "| store | concurrency | phase | runs until all 1,000 swept | swept per run | longest run | Graph calls | mapping reads |"
    );
    println!("|---|---:|---|---:|---|---:|---:|---:|");
    // Each configuration starts an hour (past every interval and past the full-compare
    // interval) after the last, so its first pass is cold: every binding compares its listing
    // with the mapping. The second pass comes 31 minutes later (every plan due again, idle ones
    // included, but the listings are unchanged and recently compared): the steady state. Runs
    // are one simulated minute apart, as the schedule fires, each with the Lambda's 58 s.
    let mut clock = world.now().await;
    for (store_name, concurrency) in [("memory", 1usize), ("memory", 32), ("moto", 32)] {
        clock += chrono::Duration::hours(2);
        for phase in ["cold", "steady"] {
            if phase == "steady" {
                clock += chrono::Duration::minutes(31);
            }
            let mut settings = world.settings.clone();
            settings.concurrency = concurrency;
            let calls_before = world.total_calls();
            let (mut swept, mut compared, mut runs) = (0u32, 0u32, 0u32);
            let mut per_run = Vec::new();
            let mut longest = Duration::ZERO;
            while swept < 1_000 && runs < 30 {
                runs += 1;
                let ctx = RunContext::new(clock, Instant::now() + Duration::from_secs(58));
                let started = Instant::now();
                let report = if store_name == "memory" {
                    let deps = SchedulerDeps {
                        store: memory.clone(),
                        queue: MemoryHintQueue::new(),
                        graph: world.graph.clone(),
                        settings: settings.clone(),
                    };
                    run_tick(&deps, &ctx).await
                } else {
                    let deps = SchedulerDeps {
                        store: world.sync.clone(),
                        queue: MemoryHintQueue::new(),
                        graph: world.graph.clone(),
                        settings: settings.clone(),
                    };
                    run_tick(&deps, &ctx).await
                };
                longest = longest.max(started.elapsed());
                assert_eq!(report.store_errors, 0, "{report:?}");
                assert_eq!(report.hints_enqueued, 0, "{report:?}");
                swept += report.bindings_swept;
                compared += report.sweeps_compared;
                per_run.push(report.bindings_swept.to_string());
                clock += chrono::Duration::minutes(1);
            }
            println!(
                "| {store_name} | {concurrency} | {phase} | {runs} | {} | {:.1} s | {} | {compared} |",
                per_run.join(", "),
                longest.as_secs_f64(),
                world.total_calls() - calls_before,
            );
        }
    }
    let scheduled = world.sync.scheduled_binding_ids().await.expect("ids").len();
    println!();
    println!("schedules on moto: {scheduled}");
    // What one mapping-index query (the read a cold sweep adds) costs on this moto table, alone.
    let mut times = Vec::new();
    for binding in bindings.iter().take(20) {
        let started = Instant::now();
        let mapped = world
            .sync
            .mapped_remote_etags(&binding.id)
            .await
            .expect("mapping index");
        times.push(started.elapsed());
        assert_eq!(mapped.len(), 5);
    }
    let mut items = 0;
    let mut pages = world
        .aws
        .dynamodb
        .scan()
        .table_name(world.aws.resources.sync_table())
        .select(aws_sdk_dynamodb::types::Select::Count)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        items += page.expect("count").count();
    }
    println!(
        "one mapping-index query on moto (5 items returned, sync table of {} items, nothing else running): median {:.1} ms of 20",
        items,
        median(times).as_secs_f64() * 1e3
    );
    world.stack.emulator.shutdown();
}
