//! A Planner create whose answer was lost (docs/sync-engine.md, "Crash points and races").
//!
//! Planner created the task but the worker never learnt its id (the answer was lost, or the
//! process died before recording it): an unmarked task that no record names. The retry finds it
//! as an orphan (ours by `createdBy.application.id`, same title, created since the claim, not
//! mapped) in the listing its marker search makes, and adopts it instead of creating a second.

use super::*;

/// Planner creates the next task but its answer never arrives (a 504 from the gateway after
/// the handler ran); the client never repeats a create.
async fn lose_the_next_post_answer(w: &SyncWorld) {
    let rule = json!({"method": "POST", "path": "/planner/tasks", "status": 504,
                      "after_handler": true, "times": 1});
    w.add_fault(rule).await;
}

/// The application writes [`rich_task`] "X-1"; Planner creates it but the answer is lost. The
/// message fails; the plan holds one unmarked task, which the claim does not name. Its id.
async fn a_create_whose_answer_was_lost(w: &SyncWorld, b: &Binding) -> String {
    lose_the_next_post_answer(w).await;
    w.app_writes(&rich_task("X-1")).await;
    let first = w.drain().await;
    assert_eq!((first.received, first.failed), (1, 1), "{first:?}");
    let tasks = w.planner_tasks(b).await;
    assert_eq!(tasks.len(), 1, "Planner did create it: {tasks:?}");
    let orphan = tasks[0]["id"].as_str().unwrap().to_owned();
    let (t, d) = w.planner_task(&orphan).await.unwrap();
    assert_eq!(d["references"], json!({}), "not marked");
    assert_eq!(
        t["createdBy"]["application"]["id"],
        w.emulator.state.config.client_id.as_str(),
        "created by this application"
    );
    let claim = w.mapping("ops", "X-1").await.unwrap();
    assert_eq!(claim.state, MappingState::Creating);
    assert_eq!(claim.remote_id, None, "nothing records the new task");
    assert_eq!(
        emulator_statuses(w, TASK_POST).await,
        [("504".to_owned(), 1)].into(),
        "one POST, its answer replaced"
    );
    orphan
}

/// The next delivery of the local change, once the claim's patience is over.
async fn retry_the_create(w: &SyncWorld, scenario: &str) -> (u64, u64) {
    let mut retry = w.worker();
    retry.settings.engine.claim_patience = std::time::Duration::ZERO;
    w.send(w.pipe_hint("ops", "X-1")).await;
    measured(w, scenario, async {
        assert_eq!(w.drain_with(&retry).await.failed, 0);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planner_create_whose_answer_was_lost_is_adopted_not_created_again() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-lost-answer", "ops").await;
    let orphan = a_create_whose_answer_was_lost(&w, &b).await;

    let cost = retry_the_create(
        &w,
        "retry after a lost POST answer: plan listing (marker and orphan search), details write with the marker, task read",
    )
    .await;
    assert_eq!(cost, (3, 1), "adopted: no second POST");
    assert_eq!(w.graph.counters().total("planner.create_task"), 1);
    assert_eq!(assert_one_complete_task(&w, &b).await, orphan);
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orphan_is_adopted_even_when_the_local_task_was_renamed_before_the_retry() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-lost-answer-rename", "ops").await;
    let orphan = a_create_whose_answer_was_lost(&w, &b).await;
    // The agent renames the task before the retry: the orphan still carries the old title.
    let mut renamed = rich_task("X-1");
    renamed.title = "Move the servers to rack C".into();
    w.app_writes(&renamed).await;

    retry_the_create(
        &w,
        "retry after a lost POST answer, the local task renamed meanwhile",
    )
    .await;
    assert_eq!(
        w.graph.counters().total("planner.create_task"),
        1,
        "adopted, not created again"
    );
    let tasks = w.planner_tasks(&b).await;
    assert_eq!(tasks.len(), 1, "exactly one Planner task: {tasks:?}");
    assert_eq!(tasks[0]["id"], orphan.as_str());
    assert_eq!(tasks[0]["title"], "Move the servers to rack C");
    let (_, d) = w.planner_task(&orphan).await.unwrap();
    assert_eq!(
        d["references"].as_object().map(|r| r.len()),
        Some(1),
        "marked: {d}"
    );
    let m = w.mapping("ops", "X-1").await.unwrap();
    assert_eq!(m.state, MappingState::Active);
    assert_eq!(m.remote_id.as_deref(), Some(orphan.as_str()));
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_s_task_with_the_same_title_is_never_adopted_nor_deleted() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-lost-answer-person", "ops").await;
    let orphan = a_create_whose_answer_was_lost(&w, &b).await;
    // In the same window a person creates a task with the same title in the Planner app.
    let persons = w
        .person_creates_planner(&b, json!({"title": "Move the servers"}))
        .await;

    let cost = retry_the_create(
        &w,
        "retry after a lost POST answer, a person's twin beside it",
    )
    .await;
    assert_eq!(cost, (3, 1), "ours adopted, the person's left alone");
    let m = w.mapping("ops", "X-1").await.unwrap();
    assert_eq!(m.state, MappingState::Active);
    assert_eq!(m.remote_id.as_deref(), Some(orphan.as_str()));
    let tasks = w.planner_tasks(&b).await;
    assert_eq!(
        tasks.len(),
        2,
        "the orphan and the person's task: {tasks:?}"
    );
    let (t, d) = w
        .planner_task(&persons)
        .await
        .expect("the person's task stays");
    assert_eq!(t["title"], "Move the servers");
    assert_eq!(d["references"], json!({}), "not marked");
    assert_eq!(d["description"], "", "not written to");
    assert_eq!(
        w.graph.counters().total("planner.delete_task"),
        0,
        "nothing deleted"
    );

    // With our orphan gone (a person deleted it), the person's twin is still not ours: the
    // next retry creates a new task.
    let w2 = SyncWorld::start().await;
    let b2 = w2.planner_binding("b-lost-answer-person-2", "ops").await;
    let orphan2 = a_create_whose_answer_was_lost(&w2, &b2).await;
    w2.person_deletes_planner(&orphan2).await;
    let persons2 = w2
        .person_creates_planner(&b2, json!({"title": "Move the servers"}))
        .await;
    retry_the_create(&w2, "retry after a lost POST answer, only a person's twin").await;
    assert_eq!(w2.graph.counters().total("planner.create_task"), 2);
    let m = w2.mapping("ops", "X-1").await.unwrap();
    assert_eq!(m.state, MappingState::Active);
    assert_ne!(m.remote_id.as_deref(), Some(persons2.as_str()));
    assert_eq!(
        w2.planner_tasks(&b2).await.len(),
        2,
        "ours and the person's"
    );
    let (_, d) = w2.planner_task(&persons2).await.unwrap();
    assert_eq!(
        d["references"],
        json!({}),
        "the person's task is not marked"
    );
    w.stack.emulator.shutdown();
    w2.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_hint_for_the_orphan_imports_nothing_and_the_retry_adopts_it() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-lost-answer-sweep", "ops").await;
    let orphan = a_create_whose_answer_was_lost(&w, &b).await;

    // The scheduler's sweep meets the unmarked task first.
    let cost = clean_hint_cost(
        &w,
        "sweep hint for an orphan of our create (not imported)",
        planner_hint(&b.id, &orphan),
    )
    .await;
    assert_eq!(cost, (2, 0), "task and details read, nothing written");
    assert!(w.local("ops", &orphan).await.is_none(), "no local task");
    assert!(
        tasksync::ports::MappingStore::mapping_by_remote(
            &w.sync,
            tasksync::model::RemoteKind::Planner,
            &orphan
        )
        .await
        .unwrap()
        .is_none(),
        "no mapping names it"
    );
    assert_eq!(
        w.planner_tasks(&b).await.len(),
        1,
        "nothing written to Planner"
    );

    retry_the_create(&w, "retry after a lost POST answer and a sweep of it").await;
    assert_eq!(assert_one_complete_task(&w, &b).await, orphan);
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_orphans_of_one_create_the_oldest_is_adopted_and_the_others_deleted() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-lost-answer-twice", "ops").await;
    let oldest = a_create_whose_answer_was_lost(&w, &b).await;
    // A second create of the same task whose answer was lost too (as an earlier version of
    // the worker would have made it): same app, same title, unmarked.
    let second = w
        .observer
        .planner()
        .create_task(&tasksync::graph::models::NewPlannerTask::new(
            &b.remote_container_id,
            "Move the servers",
        ))
        .await
        .expect("second orphan");
    assert_eq!(w.planner_tasks(&b).await.len(), 2);

    let cost = retry_the_create(
        &w,
        "retry with two orphans: listing, delete of the newer, details write with the marker, task read",
    )
    .await;
    assert_eq!(cost, (4, 2));
    assert!(
        w.planner_task(&second.id).await.is_none(),
        "the newer one deleted"
    );
    let counters = w.graph.counters();
    assert_eq!(counters.get("planner.delete_task", Outcome::Success), 1);
    let tasks = w.planner_tasks(&b).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["id"].as_str(), Some(oldest.as_str()));
    let m = w.mapping("ops", "X-1").await.unwrap();
    assert_eq!(m.state, MappingState::Active);
    assert_eq!(m.remote_id.as_deref(), Some(oldest.as_str()));
    let (_, d) = w.planner_task(&oldest).await.unwrap();
    assert_eq!(d["description"], "Rack B, after 18:00");
    assert_eq!(d["references"].as_object().map(|r| r.len()), Some(1));
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_leaves_a_fresh_create_alone_and_adopts_the_orphan_of_a_stale_one() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-lost-answer-resync", "ops").await;
    let orphan = a_create_whose_answer_was_lost(&w, &b).await;
    let resync = resync_hint(&b);

    // Within the claim's patience the create may still be running elsewhere: the resync
    // neither creates for it nor imports its orphan.
    let cost = clean_hint_cost(
        &w,
        "resync during a create's patience (orphan left)",
        resync.clone(),
    )
    .await;
    assert_eq!(cost, (1, 0), "one listing, nothing written");
    assert_eq!(w.planner_tasks(&b).await.len(), 1);
    assert!(w.local("ops", &orphan).await.is_none(), "not imported");
    assert_eq!(
        w.mapping("ops", "X-1").await.unwrap().state,
        MappingState::Creating
    );

    // Past it, the resync adopts the orphan from its own listing.
    let mut late = w.worker();
    late.settings.engine.claim_patience = std::time::Duration::ZERO;
    let cost = measured(
        &w,
        "resync after a lost POST answer (adopts from its listing)",
        async {
            w.send(resync.clone()).await;
            assert_eq!(w.drain_with(&late).await.failed, 0);
        },
    )
    .await;
    assert_eq!(
        cost,
        (3, 1),
        "listing, details write with the marker, task read"
    );
    assert!(w.local("ops", &orphan).await.is_none(), "not imported");
    assert_eq!(assert_one_complete_task(&w, &b).await, orphan);
    w.stack.emulator.shutdown();
}
