//! Runs the steps of `tasksync local` and checks what they claim: a person's To Do changes reach
//! the task store, an agent's task-store writes reach To Do and Planner through the stream and
//! the pipe's hint, with the right fields and the marker, and no echo costs a Graph write.

use std::time::Duration;

use tasksync::graph::models::planner::PlannerTaskDetails;
use tasksync::model::{Origin, TaskStatus};
use tasksync::ports::TaskRead;
use tasksync_cli::local_run::{AGENT_TASK, LocalSystem, PLANNER_LIST, TODO_LIST, run_demo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_run_syncs_both_ways_and_echoes_cost_no_graph_write() {
    let system = LocalSystem::start().await.unwrap();
    let mut out = Vec::new();
    let report = run_demo(&system, Duration::from_secs(20), &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();

    // A person's To Do changes, in the task store, written by the sync.
    let steps: Vec<(&str, TaskStatus, bool)> = report
        .person_steps
        .iter()
        .map(|t| (t.title.as_str(), t.status, t.deleted))
        .collect();
    assert_eq!(
        steps,
        [
            ("Call the supplier", TaskStatus::NotStarted, false),
            ("Call the supplier today", TaskStatus::NotStarted, false),
            ("Call the supplier today", TaskStatus::Completed, false),
            ("Call the supplier today", TaskStatus::Completed, true),
        ]
    );
    assert!(report.person_steps.iter().all(|t| t.origin == Origin::Sync));
    // Each local write came back through the stream as an echo; none cost a Graph write.
    assert_eq!(report.person_graph_writes, 0);
    assert_eq!(report.person_echo.graph_writes, 0);

    // The agent's task reached To Do with its fields and the marker, in one write.
    let todo = &report.agent_todo_task;
    assert_eq!(todo["title"], "Order the spare parts");
    assert_eq!(todo["body"]["content"], "Two pumps for site B");
    assert_eq!(todo["importance"], "high");
    assert_eq!(todo["status"], "notStarted");
    assert!(
        todo["dueDateTime"]["dateTime"]
            .as_str()
            .unwrap()
            .starts_with("2026-12-03T00:00:00"),
        "{todo}"
    );
    let markers: Vec<&str> = todo["linkedResources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["externalId"].as_str())
        .collect();
    assert_eq!(markers, [AGENT_TASK]);
    assert_eq!(report.agent_todo_writes, 1);
    // Its echo (the notification of the sync's own create) was handled and cost no write.
    assert!(report.agent_todo_echo.messages >= 1, "{text}");
    assert_eq!(report.agent_todo_echo.graph_writes, 0);

    // The agent's task in the Planner-bound list reached the plan: task, then details.
    let planner = &report.agent_planner_task;
    assert_eq!(planner["title"], "Service the pumps");
    assert_eq!(planner["priority"], 1);
    assert_eq!(planner["percentComplete"], 0);
    assert!(
        planner["dueDateTime"]
            .as_str()
            .unwrap()
            .starts_with("2026-12-05T00:00:00"),
        "{planner}"
    );
    let details: PlannerTaskDetails =
        serde_json::from_value(report.agent_planner_details.clone()).unwrap();
    assert_eq!(
        details.description.as_deref(),
        Some("Check the pressure valves")
    );
    assert_eq!(details.marker().as_deref(), Some(AGENT_TASK));
    assert_eq!(report.agent_planner_writes, 2);
    assert_eq!(report.agent_planner_echo.graph_writes, 0);

    // The sync never rewrote the agent's items: what the agent wrote is what is stored.
    for (list, written) in [
        (TODO_LIST, &report.agent_task),
        (PLANNER_LIST, &report.agent_planner_local),
    ] {
        let stored = system
            .store
            .get_task(list, AGENT_TASK)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&stored, written);
    }
    // Nothing is left to do: no message, no notification in flight.
    assert!(system.queue.is_empty());
    assert_eq!(system.emulator.state.delivery.stats().pending, 0);

    for step in ["1. ", "3. ", "6. ", "7. The agent", "9. The agent"] {
        assert!(text.contains(step), "missing {step:?} in:\n{text}");
    }
    system.shutdown();
}
