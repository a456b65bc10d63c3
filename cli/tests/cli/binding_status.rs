//! `tasksync status` and `tasksync approve-deletions` against moto (from template.yaml) through
//! the real SDK: the binary itself, configured only by the functions' environment, reads what the
//! real scheduler recorded (a real subscription handshake, a failing one, a sweep stopped by the
//! mass-deletion guard) and the breaker the worker records, and its approval is what the next
//! real scheduler run acts on.

// Test helpers: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use tasksync::model::CircuitBreaker;
use tasksync::ports::{ScheduleStore, SyncRecords};
use tasksync::queue_message::Hint;
use tasksync::subscription_setup::WebhookUrls;
use testkit::aws::MotoAws;
use testkit::scheduler_harness::SchedulerWorld;

use crate::command::run as tasksync;

/// `tasksync status --json`, by binding id, and its exit code.
async fn status_json(aws: &MotoAws) -> (i32, Vec<Value>) {
    let run = tasksync(aws, &["status", "--json"]).await;
    let json: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    (run.code, json.as_array().unwrap().clone())
}

fn by_id<'a>(rows: &'a [Value], id: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["binding_id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {rows:?}"))
}

fn line_of<'a>(table: &'a str, binding_id: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.starts_with(&format!("{binding_id} ")))
        .unwrap_or_else(|| panic!("no row for {binding_id}:\n{table}"))
}

/// Makes the binding's next sweep due at once rather than waiting out its interval (moving the
/// emulator's clock instead would put the recorded times in the real clock's future).
async fn due_now(world: &SchedulerWorld, binding_id: &str) {
    let mut schedule = world.sync.get_schedule(binding_id).await.unwrap().unwrap();
    let now = world.now().await;
    schedule.next_sweep_at = now;
    schedule.due_at = now;
    world.sync.put_schedule(&schedule).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_shows_a_failing_subscription_handshake_and_exits_3_and_healthy_bindings_exit_0() {
    let mut world = SchedulerWorld::start().await;
    let empty = tasksync(&world.aws, &["status"]).await;
    assert_eq!((empty.code, empty.stdout.as_str()), (0, "No bindings.\n"));

    // A To Do binding whose subscription is made through a real handshake, and a synced plan.
    let todo = world.todo_binding("b-todo").await;
    let plan = world.planner_binding("p-plan", 3).await;
    world.record_plan_as_synced(&plan).await;
    let report = world.tick().await;
    assert_eq!(report.subscription_failures, 0, "{report:?}");
    let subscription_id = world
        .sync
        .get_schedule(&todo.id)
        .await
        .unwrap()
        .unwrap()
        .subscription_id
        .expect("subscribed");

    let healthy = tasksync(&world.aws, &["status"]).await;
    eprintln!("$ tasksync status\n{}", healthy.stdout);
    assert_eq!(healthy.code, 0, "{}{}", healthy.stdout, healthy.stderr);
    let row = line_of(&healthy.stdout, "b-todo");
    let suffix: String = {
        let n = subscription_id.chars().count();
        subscription_id.chars().skip(n.saturating_sub(8)).collect()
    };
    // 4,220 minutes from now: 2 days 22 hours and some minutes.
    assert!(
        row.contains(&format!("…{suffix}, expires in 2d 22h")),
        "{row}"
    );
    assert!(row.contains("local-b-todo"), "{row}");
    assert!(
        row.contains(&format!("todo {}…", &todo.remote_container_id[..10])),
        "{row}"
    );
    assert!(row.contains("safety_net"), "{row}");
    let plan_row = line_of(&healthy.stdout, "p-plan");
    assert!(plan_row.contains("- (no notifications)"), "{plan_row}");
    assert!(
        healthy
            .stdout
            .ends_with("2 binding(s); none needs an operator.\n"),
        "{}",
        healthy.stdout
    );
    let (code, rows) = status_json(&world.aws).await;
    assert_eq!(code, 0);
    let json_todo = by_id(&rows, "b-todo");
    assert_eq!(json_todo["subscription"]["id"], subscription_id.as_str());
    assert_eq!(json_todo["needs_operator"], Value::Array(vec![]));
    assert!(by_id(&rows, "p-plan")["last_swept_at"].is_string());

    // A second To Do binding whose webhook answers nothing: the handshake fails.
    world.settings.webhook = WebhookUrls::under("http://127.0.0.1:9");
    world.todo_binding("b-deaf").await;
    let report = world.tick().await;
    assert_eq!(report.subscription_failures, 1, "{report:?}");
    let reason = world
        .sync
        .get_schedule("b-deaf")
        .await
        .unwrap()
        .unwrap()
        .subscription_failure
        .expect("failure recorded")
        .reason;
    assert!(reason.to_lowercase().contains("validation"), "{reason}");

    let failing = tasksync(&world.aws, &["status"]).await;
    eprintln!("$ tasksync status\n{}", failing.stdout);
    assert_eq!(failing.code, 3, "{}{}", failing.stdout, failing.stderr);
    let row = line_of(&failing.stdout, "b-deaf");
    assert!(row.contains("FAILING (attempt 1), retry in "), "{row}");
    let lines: Vec<&str> = failing.stdout.lines().collect();
    let summary = lines
        .iter()
        .position(|l| *l == "3 binding(s); 1 need(s) an operator:")
        .unwrap_or_else(|| panic!("{}", failing.stdout));
    let problem = lines.get(summary + 1).copied().unwrap_or_default();
    assert!(
        problem.starts_with("  b-deaf: subscription failing (attempt 1, next retry in "),
        "{problem}"
    );
    assert!(problem.ends_with(&format!("): {reason}")), "{problem}");
    assert_eq!(lines.len(), summary + 2, "only b-deaf is a problem");

    let (code, rows) = status_json(&world.aws).await;
    assert_eq!(code, 3);
    let deaf = by_id(&rows, "b-deaf");
    assert_eq!(
        deaf["needs_operator"],
        serde_json::json!(["subscription_failing"])
    );
    assert_eq!(deaf["subscription"]["failure"]["reason"], reason.as_str());
    assert_eq!(deaf["subscription"]["failure"]["attempts"], 1);
    assert!(deaf["subscription"]["id"].is_null());
    assert_eq!(
        by_id(&rows, "b-todo")["needs_operator"],
        serde_json::json!([])
    );
    world.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_shows_the_guard_and_approve_deletions_lets_the_next_sweep_send_them_once() {
    let world = SchedulerWorld::start().await;
    let binding = world.planner_binding("p-guard", 20).await;
    let ids = world.record_plan_as_synced(&binding).await;
    let first = world.tick().await;
    assert_eq!((first.bindings_swept, first.hints_enqueued), (1, 0));

    // Nothing to approve yet; no such binding.
    let refused = tasksync(&world.aws, &["approve-deletions", "p-guard"]).await;
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("binding \"p-guard\" has no withheld deletions"),
        "{}",
        refused.stderr
    );
    let unknown = tasksync(&world.aws, &["approve-deletions", "p-nope"]).await;
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("there is no binding \"p-nope\""),
        "{}",
        unknown.stderr
    );

    // 12 of the 20 tasks vanish from the plan at once: the sweep stops and reports.
    for id in &ids[..12] {
        world.person_deletes_planner(id).await;
    }
    due_now(&world, "p-guard").await;
    let report = world.tick().await;
    assert_eq!(report.deletions_withheld, 12, "{report:?}");
    assert!(world.drain_hints().await.is_empty());

    let held = tasksync(&world.aws, &["status"]).await;
    eprintln!("$ tasksync status\n{}", held.stdout);
    assert_eq!(held.code, 3, "{}{}", held.stdout, held.stderr);
    assert!(
        line_of(&held.stdout, "p-guard").contains("WITHHELD 12 of 20, "),
        "{}",
        held.stdout
    );
    assert!(
        held.stdout
            .contains("  p-guard: deletions withheld: 12 of 20 mapped tasks vanished (since "),
        "{}",
        held.stdout
    );
    assert!(
        held.stdout
            .contains("run `tasksync approve-deletions p-guard`"),
        "{}",
        held.stdout
    );
    let (_, rows) = status_json(&world.aws).await;
    let guard = &by_id(&rows, "p-guard")["deletion_guard"];
    assert_eq!(
        (guard["vanished"].as_u64(), guard["mapped"].as_u64()),
        (Some(12), Some(20))
    );
    assert_eq!(guard["approved"], false);
    assert_eq!(
        by_id(&rows, "p-guard")["needs_operator"],
        serde_json::json!(["deletions_withheld"])
    );

    let approved = tasksync(&world.aws, &["approve-deletions", "p-guard"]).await;
    eprintln!("$ tasksync approve-deletions p-guard\n{}", approved.stdout);
    assert_eq!(approved.code, 0, "{}", approved.stderr);
    assert!(
        approved.stdout.starts_with(
            "Approved the 12 withheld deletion(s) of binding p-guard (12 of 20 mapped tasks vanished; withheld since "
        ),
        "{}",
        approved.stdout
    );
    assert!(
        approved
            .stdout
            .ends_with("The next sweep sends them once.\n")
    );
    let pending = tasksync(&world.aws, &["status"]).await;
    assert_eq!(pending.code, 0, "{}", pending.stdout);
    assert!(
        line_of(&pending.stdout, "p-guard").contains("approved 12 of 20"),
        "{}",
        pending.stdout
    );

    // The next real scheduler run sends the 12 deletions, once.
    let report = world.tick().await;
    assert_eq!(report.hints_enqueued, 12, "{report:?}");
    let hints = world.drain_hints().await;
    assert_eq!(hints.len(), 12);
    assert!(hints.iter().all(|h| matches!(
        h,
        Hint::RemotePlannerTask { binding_id, task_id }
            if binding_id == "p-guard" && ids[..12].contains(task_id)
    )));
    let (code, rows) = status_json(&world.aws).await;
    assert_eq!(code, 0);
    assert!(by_id(&rows, "p-guard")["deletion_guard"].is_null());
    let again = tasksync(&world.aws, &["approve-deletions", "p-guard"]).await;
    assert_eq!(again.code, 1, "the approval was used: {}", again.stdout);

    // The worker opens the binding's breaker: shown with its reason, exit 3.
    let until = chrono::Utc::now() + chrono::Duration::minutes(10);
    world
        .sync
        .set_binding_breaker(
            "p-guard",
            Some(&CircuitBreaker {
                failures: 5,
                reason: "the plan is gone (404)".into(),
                last_failure_at: chrono::Utc::now(),
                open_until: Some(until),
            }),
        )
        .await
        .unwrap();
    let open = tasksync(&world.aws, &["status"]).await;
    eprintln!("$ tasksync status\n{}", open.stdout);
    assert_eq!(open.code, 3);
    assert!(
        line_of(&open.stdout, "p-guard")
            .contains(&format!("OPEN until {}", until.format("%H:%MZ"))),
        "{}",
        open.stdout
    );
    assert!(
        open.stdout.contains(&format!(
            "  p-guard: circuit breaker open until {} after 5 failure(s): the plan is gone (404)",
            until.format("%Y-%m-%d %H:%M:%SZ")
        )),
        "{}",
        open.stdout
    );
    world.stack.emulator.shutdown();
}
