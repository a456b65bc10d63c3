//! Planner operations against the emulator: paging, details expansion, writes with If-Match and
//! return=representation, 412 on a stale ETag, the marker reference, quota 403s.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::graph_support::Env;
use graph_emulator::EmulatorConfig;
use tasksync::graph::GraphError;
use tasksync::graph::models::{
    NewPlannerTask, PlannerChecklistItem, PlannerTaskDetailsPatch, PlannerTaskPatch,
};

#[tokio::test]
async fn task_and_details_lifecycle() {
    let env = Env::default().await;
    let client = env.client();
    let plan = env.new_plan().await;
    let planner = client.planner();

    let mut new = NewPlannerTask::new(&plan, "Ship it");
    new.due_date_time = Some("2026-05-10T04:00:00Z".parse().unwrap());
    let created = planner.create_task(&new).await.unwrap();
    assert_eq!(created.title, "Ship it");
    let etag = created.etag.clone().expect("task etag");

    let got = planner.get_task(&created.id).await.unwrap();
    assert_eq!(got.id, created.id);
    assert_eq!(got.due_date_time, new.due_date_time);

    // Update returns the new representation and ETag: no re-read.
    let patch = PlannerTaskPatch {
        percent_complete: Some(50),
        title: Some("Ship it now".into()),
        ..PlannerTaskPatch::default()
    };
    let updated = planner
        .update_task(&created.id, &etag, &patch)
        .await
        .unwrap();
    assert_eq!(updated.title, "Ship it now");
    assert_eq!(updated.percent_complete, Some(50));
    let new_etag = updated.etag.clone().expect("new etag");
    assert_ne!(new_etag, etag);
    assert_eq!(client.counters().total("planner.get_task"), 1);

    // The old ETag is stale now.
    let stale = planner.update_task(&created.id, &etag, &patch).await;
    assert!(
        matches!(stale, Err(GraphError::Conflict { status: 412 })),
        "{stale:?}"
    );

    // Details have their own ETag; the marker and a checklist item go in with it.
    let details = planner.get_task_details(&created.id).await.unwrap();
    let details_etag = details.etag.clone().expect("details etag");
    assert_eq!(details.marker(), None);
    let mut dpatch = PlannerTaskDetailsPatch::with_marker("local-7");
    dpatch.description = Some("notes".into());
    dpatch.checklist = Some(
        [(
            "c1".to_owned(),
            Some(PlannerChecklistItem {
                odata_type: "microsoft.graph.plannerChecklistItem".into(),
                title: "step".into(),
                is_checked: false,
                order_hint: None,
            }),
        )]
        .into(),
    );
    let written = planner
        .update_task_details(&created.id, &details_etag, &dpatch)
        .await
        .unwrap();
    assert_eq!(written.description.as_deref(), Some("notes"));
    assert_eq!(written.marker().as_deref(), Some("local-7"));
    assert!(written.checklist.contains_key("c1"));
    assert_ne!(written.etag.as_deref(), Some(details_etag.as_str()));
    let stale_details = planner
        .update_task_details(&created.id, &details_etag, &dpatch)
        .await;
    assert!(
        matches!(stale_details, Err(GraphError::Conflict { .. })),
        "{stale_details:?}"
    );

    // Delete needs the current ETag.
    let current = planner.get_task(&created.id).await.unwrap();
    assert!(matches!(
        planner.delete_task(&created.id, &etag).await,
        Err(GraphError::Conflict { .. })
    ));
    planner
        .delete_task(&created.id, current.etag.as_deref().unwrap())
        .await
        .unwrap();
    assert!(matches!(
        planner.get_task(&created.id).await,
        Err(GraphError::NotFound)
    ));
}

#[tokio::test]
async fn plan_listing_follows_every_page_with_and_without_details() {
    let env = Env::start(EmulatorConfig {
        planner_page_size: 3,
        ..EmulatorConfig::default()
    })
    .await;
    let client = env.client();
    let plan = env.new_plan().await;
    let seed: Vec<_> = (0..10)
        .map(|i| serde_json::json!({"title": format!("t{i}")}))
        .collect();
    env.control(
        reqwest::Method::POST,
        &format!("/planner/plans/{plan}/tasks"),
        Some(serde_json::Value::Array(seed)),
    )
    .await;
    let tasks = client.planner().list_plan_tasks(&plan).await.unwrap();
    assert_eq!(tasks.len(), 10);
    assert!(tasks.iter().all(|t| t.details.is_none()));
    assert_eq!(client.counters().total("planner.list_plan_tasks"), 4);

    let with_details = client
        .planner()
        .list_plan_tasks_with_details(&plan)
        .await
        .unwrap();
    assert_eq!(with_details.len(), 10);
    assert!(
        with_details
            .iter()
            .all(|t| t.details.as_ref().is_some_and(|d| d.etag.is_some()))
    );
}

#[tokio::test]
async fn quota_refusals_are_distinguished() {
    let env = Env::start(EmulatorConfig {
        max_active_tasks_per_plan: 2,
        ..EmulatorConfig::default()
    })
    .await;
    let client = env.client();
    let plan = env.new_plan().await;
    for i in 0..2 {
        client
            .planner()
            .create_task(&NewPlannerTask::new(&plan, format!("t{i}")))
            .await
            .unwrap();
    }
    let err = client
        .planner()
        .create_task(&NewPlannerTask::new(&plan, "one too many"))
        .await
        .unwrap_err();
    assert!(err.is_quota(), "{err:?}");
    assert!(
        matches!(&err, GraphError::Forbidden { code, .. } if code == "MaximumActiveTasksInProject")
    );
}

#[tokio::test]
async fn a_missing_permission_names_the_permission() {
    let env = Env::default().await;
    let client = env.client();
    env.add_fault(serde_json::json!({
        "method": "POST", "path": "/planner/tasks", "status": 403
    }))
    .await;
    let err = client
        .planner()
        .create_task(&NewPlannerTask::new("p", "t"))
        .await
        .unwrap_err();
    assert!(!err.is_quota());
    assert!(
        matches!(&err, GraphError::Forbidden { message, .. } if message.contains("Tasks.ReadWrite.All")),
        "{err:?}"
    );
}

#[tokio::test]
async fn create_with_marker_writes_the_reference_in_three_requests() {
    let env = Env::default().await;
    let client = env.client();
    let plan = env.new_plan().await;
    let (task, details) = client
        .planner()
        .create_task_with_marker(&NewPlannerTask::new(&plan, "marked"), "local/1")
        .await
        .unwrap();
    assert_eq!(details.marker().as_deref(), Some("local/1"));
    let reread = client.planner().get_task_details(&task.id).await.unwrap();
    assert_eq!(reread.marker().as_deref(), Some("local/1"));
    let c = client.counters();
    assert_eq!(
        c.total("planner.create_task")
            + c.total("planner.update_task_details")
            + c.total("planner.get_task_details"),
        4,
        "3 for the create plus the re-read above"
    );
}
