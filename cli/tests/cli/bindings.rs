//! `tasksync bindings …` through the real binary, configured only by the functions' environment,
//! against moto and the Graph emulator: a first binding over a list and a container that both
//! hold tasks already (cold-start matching: no duplicate on either side), the refusals, dry runs
//! that write nothing anywhere, pause/resume, and a removal that leaves no subscription and no
//! item while every task stays.

// Test helpers: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tasksync::model::{LocalTask, Origin, TaskStatus};
use tasksync::ports::{BindingLookup, ScheduleStore, TaskList, TaskWrite};
use testkit::scheduler_harness::SchedulerWorld;
use testkit::stack::TestStack;

use crate::command::{Run, run_with_env};

pub async fn tasksync(stack: &TestStack, args: &[&str]) -> Run {
    let run = run_with_env(stack.function_env(), args).await;
    eprintln!(
        "$ tasksync {}\n{}{}(exit {})",
        args.join(" "),
        run.stdout,
        run.stderr,
        run.code
    );
    run
}

/// Every item of a table, as text, in key order: what "nothing was written" compares.
pub async fn table_items(stack: &TestStack, table: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = stack
            .aws
            .dynamodb
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap();
        for item in page.items.unwrap_or_default() {
            let sorted: BTreeMap<_, _> = item.into_iter().collect();
            items.push(format!("{sorted:?}"));
        }
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => break,
        }
    }
    items.sort();
    items
}

/// Both tables and the emulator's state of both containers' tasks.
pub async fn everything(
    stack: &TestStack,
    todo_list: Option<&str>,
    plan: Option<&str>,
) -> Vec<String> {
    let mut all = table_items(stack, stack.aws.resources.sync_table()).await;
    all.extend(table_items(stack, stack.aws.resources.tasks_table()).await);
    let observer = stack.another_graph_client();
    if let Some(list) = todo_list {
        for t in observer
            .todo()
            .list_tasks(&stack.user_id, list)
            .await
            .unwrap()
        {
            all.push(serde_json::to_string(&t).unwrap());
        }
    }
    if let Some(plan) = plan {
        for t in observer.planner().list_plan_tasks(plan).await.unwrap() {
            all.push(serde_json::to_string(&t).unwrap());
        }
    }
    all
}

/// Graph writes the emulator answered (every route but GET and the token).
pub async fn emulator_writes(stack: &TestStack) -> u64 {
    let counters = stack.control.counters().await.unwrap();
    counters["routes"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(route, _)| !route.starts_with("GET ") && !route.contains("oauth2"))
        .map(|(_, c)| c["total"].as_u64().unwrap_or(0))
        .sum()
}

pub async fn local_task(stack: &TestStack, list: &str, id: &str, title: &str) {
    let mut task = LocalTask::new(list, id, title, Origin::App("an-agent".into()));
    task.notes = format!("notes of {id}");
    stack.tasks.put_task(&task).await.unwrap();
}

pub async fn local_titles(stack: &TestStack, list: &str) -> Vec<String> {
    let mut titles: Vec<String> = stack
        .tasks
        .list_tasks(list)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|t| t.ok())
        .filter(|t| !t.deleted)
        .map(|t| t.title)
        .collect();
    titles.sort();
    titles
}

async fn todo_titles(stack: &TestStack, list: &str) -> Vec<String> {
    let mut titles: Vec<String> = stack
        .another_graph_client()
        .todo()
        .list_tasks(&stack.user_id, list)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.title)
        .collect();
    titles.sort();
    titles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_todo_binding_over_lists_with_the_same_titles_ends_without_duplicates_and_is_paused_resumed_and_removed()
 {
    let world = SchedulerWorld::start().await;
    let stack: &TestStack = &world;
    let list = stack.todo_list("Groceries").await;
    local_task(stack, "home", "t-milk", "Buy milk").await;
    local_task(stack, "home", "t-bob", "Call Bob").await;
    let mut done = LocalTask::new(
        "home",
        "t-done",
        "Old errand",
        Origin::App("an-agent".into()),
    );
    done.status = TaskStatus::Completed;
    stack.tasks.put_task(&done).await.unwrap();
    stack
        .person_creates_todo_task(&list, &json!({"title": "  buy MILK "}))
        .await;
    stack
        .person_creates_todo_task(&list, &json!({"title": "Walk the dog"}))
        .await;
    let user = stack.user_id.clone();
    let add = [
        "bindings",
        "add",
        "b-home",
        "--local-list",
        "home",
        "--todo-list",
        &list,
        "--user",
        &user,
    ];

    // The dry run: the plan, and nothing written on either side.
    let before = everything(stack, Some(&list), None).await;
    let writes = emulator_writes(stack).await;
    let dry = tasksync(stack, &[&add[..], &["--dry-run"]].concat()).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("1 by title"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("Creates: 1 remote, 1 local"),
        "{}",
        dry.stdout
    );
    assert_eq!(emulator_writes(stack).await, writes);
    assert_eq!(everything(stack, Some(&list), None).await, before);

    // The first sync: the same-title tasks are paired, the others copied, the completed one left.
    let added = tasksync(stack, &add).await;
    assert_eq!(added.code, 0, "{}", added.stderr);
    assert!(
        added.stdout.contains("1 matched by title"),
        "{}",
        added.stdout
    );
    assert_eq!(
        todo_titles(stack, &list).await,
        ["  buy MILK ", "Call Bob", "Walk the dog"]
    );
    assert_eq!(
        local_titles(stack, "home").await,
        ["  buy MILK ", "Call Bob", "Old errand", "Walk the dog"]
    );
    let binding = stack.sync.find_binding("b-home").await.unwrap().unwrap();
    assert!(!binding.first_sync_pending && binding.first_sync_completed_at.is_some());

    // A second binding of the same list, of the same container, of a list that does not exist.
    for (args, says) in [
        (
            vec![
                "bindings",
                "add",
                "b-again",
                "--local-list",
                "home",
                "--todo-list",
                &list,
                "--user",
                &user,
            ],
            "local list \"home\" is bound already",
        ),
        (
            vec![
                "bindings",
                "add",
                "b-other",
                "--local-list",
                "work",
                "--todo-list",
                &list,
                "--user",
                &user,
            ],
            "is bound already by binding \"b-home\"",
        ),
        (
            vec![
                "bindings",
                "add",
                "b-none",
                "--local-list",
                "work",
                "--todo-list",
                "no-such-list",
                "--user",
                &user,
            ],
            "has no To Do list \"no-such-list\"",
        ),
        (
            vec![
                "bindings",
                "add",
                "b-home",
                "--local-list",
                "work",
                "--plan",
                "p",
            ],
            "exists already",
        ),
    ] {
        let refused = tasksync(stack, &args).await;
        assert_eq!(refused.code, 1, "{args:?}");
        assert!(
            refused.stderr.contains(says),
            "{args:?}: {}",
            refused.stderr
        );
        assert_eq!(refused.stderr.lines().count(), 1, "{}", refused.stderr);
    }

    // Resync now: nothing to do; its dry run writes nothing.
    let before = everything(stack, Some(&list), None).await;
    let writes = emulator_writes(stack).await;
    let dry = tasksync(stack, &["sync", "b-home", "--dry-run", "--full"]).await;
    assert_eq!(dry.code, 0);
    assert!(dry.stdout.contains("3 by mapping"), "{}", dry.stdout);
    assert_eq!(emulator_writes(stack).await, writes);
    assert_eq!(everything(stack, Some(&list), None).await, before);

    // The scheduler gives the binding its subscription; pause keeps it and stops the sweeps.
    world.tick().await;
    assert_eq!(stack.emulator_subscriptions().await.len(), 1);
    let paused = tasksync(stack, &["bindings", "pause", "b-home"]).await;
    assert_eq!(paused.code, 0);
    let schedule = stack.sync.get_schedule("b-home").await.unwrap().unwrap();
    let report = world
        .tick_at(schedule.next_sweep_at + chrono::Duration::hours(1))
        .await;
    assert_eq!(report.sweeps_compared, 0, "{report:?}");
    assert_eq!(stack.emulator_subscriptions().await.len(), 1);
    let shown = tasksync(stack, &["bindings", "list"]).await;
    assert!(shown.stdout.contains("paused"), "{}", shown.stdout);

    // Meanwhile a person adds a task; resume catches up.
    stack
        .person_creates_todo_task(&list, &json!({"title": "Buy bread"}))
        .await;
    let resumed = tasksync(stack, &["bindings", "resume", "b-home"]).await;
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert!(
        local_titles(stack, "home")
            .await
            .contains(&"Buy bread".to_owned())
    );
    let shown = tasksync(stack, &["bindings", "show", "b-home"]).await;
    assert!(
        shown.stdout.contains("paused since:         -"),
        "{}",
        shown.stdout
    );

    // Remove: refused without --confirm (usage), a dry run deletes nothing, then it goes.
    assert_eq!(
        tasksync(stack, &["bindings", "remove", "b-home"])
            .await
            .code,
        2
    );
    let before = everything(stack, Some(&list), None).await;
    let dry = tasksync(stack, &["bindings", "remove", "b-home", "--dry-run"]).await;
    assert_eq!(dry.code, 0);
    assert!(dry.stdout.contains("mapping item(s)"), "{}", dry.stdout);
    assert_eq!(everything(stack, Some(&list), None).await, before);
    let locals = local_titles(stack, "home").await;
    let remotes = todo_titles(stack, &list).await;
    let removed = tasksync(stack, &["bindings", "remove", "b-home", "--confirm"]).await;
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    assert!(stack.emulator_subscriptions().await.is_empty());
    let sync_items = table_items(stack, stack.aws.resources.sync_table()).await;
    assert!(
        sync_items.iter().all(|i| !i.contains("b-home")),
        "{sync_items:#?}"
    );
    assert_eq!(local_titles(stack, "home").await, locals);
    assert_eq!(todo_titles(stack, &list).await, remotes);
    let unknown = tasksync(stack, &["bindings", "show", "b-home"]).await;
    assert_eq!(unknown.code, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_planner_binding_over_a_plan_with_the_same_titles_ends_without_duplicates() {
    let stack = TestStack::start().await;
    let plan = stack.plan("Launch").await;
    local_task(&stack, "launch", "l-1", "Book the venue").await;
    local_task(&stack, "launch", "l-2", "Print flyers").await;
    for title in ["Book the venue", "Hire a band"] {
        stack
            .control
            .call(
                reqwest::Method::POST,
                &format!("/planner/plans/{plan}/tasks"),
                Some(&json!([{ "title": title }])),
            )
            .await
            .unwrap();
    }
    let add = [
        "bindings",
        "add",
        "p-launch",
        "--local-list",
        "launch",
        "--plan",
        &plan,
        "--conflict",
        "local-wins",
    ];
    let before = everything(&stack, None, Some(&plan)).await;
    let dry = tasksync(&stack, &[&add[..], &["--dry-run", "--json"]].concat()).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let planned: Value = serde_json::from_str(&dry.stdout).unwrap();
    let by_title: Vec<&Value> = planned["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["paired_by"] == "title")
        .collect();
    assert_eq!(by_title.len(), 1, "{planned:#}");
    assert_eq!(by_title[0]["local_id"], "l-1");
    assert_eq!(everything(&stack, None, Some(&plan)).await, before);

    let added = tasksync(&stack, &add).await;
    assert_eq!(added.code, 0, "{}", added.stderr);
    let mut remote: Vec<String> = stack
        .another_graph_client()
        .planner()
        .list_plan_tasks(&plan)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.title)
        .collect();
    remote.sort();
    assert_eq!(remote, ["Book the venue", "Hire a band", "Print flyers"]);
    assert_eq!(
        local_titles(&stack, "launch").await,
        ["Book the venue", "Hire a band", "Print flyers"]
    );

    // A plan that does not exist (a well-formed id, and not even that), and the same plan again.
    for missing in ["AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "no-such-plan"] {
        let refused = tasksync(
            &stack,
            &[
                "bindings",
                "add",
                "p-x",
                "--local-list",
                "x",
                "--plan",
                missing,
            ],
        )
        .await;
        assert_eq!(refused.code, 1);
        assert!(
            refused.stderr.contains("there is no plan"),
            "{}",
            refused.stderr
        );
    }
    let again = tasksync(
        &stack,
        &[
            "bindings",
            "add",
            "p-y",
            "--local-list",
            "y",
            "--plan",
            &plan,
        ],
    )
    .await;
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("bound already"), "{}", again.stderr);

    // A later task of an existing title is not merged: the first sync is over.
    local_task(&stack, "launch", "l-3", "Print flyers").await;
    let synced = tasksync(&stack, &["sync", "p-launch"]).await;
    assert_eq!(synced.code, 0, "{}", synced.stderr);
    let flyers = stack
        .another_graph_client()
        .planner()
        .list_plan_tasks(&plan)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.title == "Print flyers")
        .count();
    assert_eq!(flyers, 2);
}
