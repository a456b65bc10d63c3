//! The sync engine end to end with a Planner binding (moto + the Graph emulator + the real
//! worker handler on SQS): every operation on each side, notes and checklist in the task
//! details, a 412 race with a person's edit, a 409 on the task or the details PATCH (once, and
//! on every attempt), a crash between the remote create and the mapping write, and a create
//! whose answer was lost (its orphan adopted, never imported, a person's twin left alone). Planner sends no change notifications (graph-facts §1.10): the scheduler's
//! sweep sends `remote_planner_task` hints, which the tests send directly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use tasksync::graph::{GraphClient, GraphError, Outcome};
use tasksync::model::{Binding, ChecklistItem, LocalTask, Origin, Priority, TaskStatus};
use tasksync::queue_message::Hint;
use tasksync::sync::{FieldMap, MappingState, RemoteTask, RemoteTasks, SideRules};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_complete_reopen_and_delete_on_each_side() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-plan", "ops").await;

    let mut task = app_task("ops", "P-1", "Replace the router");
    task.notes = "Model X200".into();
    task.priority = Priority::Urgent;
    task.categories = vec!["category2".into(), "network".into()];
    task.checklist = vec![ChecklistItem {
        id: "c1".into(),
        title: "Order it".into(),
        checked: false,
    }];
    let cost = measured(
        &w,
        "local create → remote (task + details + marker)",
        async {
            w.app_writes(&task).await;
            assert_eq!(w.drain().await.failed, 0);
        },
    )
    .await;
    assert_eq!(
        cost,
        (4, 2),
        "create, read details, patch details, read task"
    );
    let remote_id = w.mapping("ops", "P-1").await.unwrap().remote_id.unwrap();
    let (t, d) = w.planner_task(&remote_id).await.expect("planner task");
    assert_eq!(t["title"], "Replace the router");
    assert_eq!(t["priority"], 1);
    assert_eq!(t["percentComplete"], 0);
    assert_eq!(t["appliedCategories"], json!({"category2": true}));
    assert_eq!(d["description"], "Model X200");
    assert_eq!(d["checklist"]["c1"]["title"], "Order it");
    let marker = serde_json::to_string(&d["references"]).unwrap();
    assert!(marker.contains("tasksync"), "{marker}");

    let cost = measured(&w, "sweep hint, nothing changed (echo)", async {
        w.send(planner_hint(&b.id, &remote_id)).await;
        w.drain().await;
    })
    .await;
    assert_eq!(cost, (2, 0));

    // A person edits the title and the priority, and ticks the checklist item in the details.
    w.person_edits_planner(
        &remote_id,
        json!({"title": "Replace the router today", "priority": 5}),
    )
    .await;
    w.person_edits_planner_details(
        &remote_id,
        json!({"description": "Model X300", "checklist": {"c1": {"@odata.type": "microsoft.graph.plannerChecklistItem", "isChecked": true}}}),
    )
    .await;
    let cost = measured(&w, "remote task + details edit → local", async {
        w.send(planner_hint(&b.id, &remote_id)).await;
        w.drain().await;
    })
    .await;
    assert_eq!(cost, (2, 0));
    let local = w.local("ops", "P-1").await.unwrap();
    assert_eq!(local.title, "Replace the router today");
    assert_eq!(local.priority, Priority::Medium);
    assert_eq!(local.notes, "Model X300");
    assert!(local.checklist[0].checked);
    assert_eq!(
        local.categories,
        vec!["category2".to_owned(), "network".to_owned()],
        "what Planner cannot hold stays"
    );

    // The application edits the notes and adds a checklist item: one details PATCH.
    let mut edited = local.clone();
    edited.notes = "Model X300, two units".into();
    edited.checklist.push(ChecklistItem {
        id: "c2".into(),
        title: "Configure it".into(),
        checked: false,
    });
    let cost = measured(&w, "local notes + checklist → details", async {
        w.app_writes(&edited).await;
        w.drain().await;
    })
    .await;
    assert_eq!(cost.1, 1);
    let (_, d) = w.planner_task(&remote_id).await.unwrap();
    assert_eq!(d["description"], "Model X300, two units");
    assert_eq!(d["checklist"]["c2"]["title"], "Configure it");
    assert_eq!(d["checklist"]["c1"]["isChecked"], true);

    // Complete locally, reopen in Planner.
    let mut done = w.local("ops", "P-1").await.unwrap();
    done.status = TaskStatus::Completed;
    let cost = measured(&w, "local complete → remote", async {
        w.app_writes(&done).await;
        w.drain().await;
    })
    .await;
    assert_eq!(cost.1, 1);
    assert_eq!(
        w.planner_task(&remote_id).await.unwrap().0["percentComplete"],
        100
    );
    w.person_edits_planner(&remote_id, json!({"percentComplete": 50}))
        .await;
    w.send(planner_hint(&b.id, &remote_id)).await;
    w.drain().await;
    let local = w.local("ops", "P-1").await.unwrap();
    assert_eq!(local.status, TaskStatus::InProgress);
    assert_eq!(local.percent_complete, Some(50));
    assert_eq!(local.completed_at, None);

    // Delete locally: the Planner task goes (If-Match with the recorded ETag).
    let mut gone = local.clone();
    gone.deleted = true;
    let cost = measured(&w, "local delete → remote", async {
        w.app_writes(&gone).await;
        w.drain().await;
    })
    .await;
    assert_eq!(cost.1, 1);
    assert!(w.planner_task(&remote_id).await.is_none());
    assert_eq!(
        w.mapping("ops", "P-1").await.unwrap().state,
        MappingState::Deleted
    );

    // A person creates a task in Planner; the sweep's hint brings it in; the person deletes it.
    let born = w
        .person_creates_planner(
            &b,
            json!({"title": "Label the cables", "percentComplete": 50}),
        )
        .await;
    let cost = measured(&w, "remote create → local", async {
        w.send(planner_hint(&b.id, &born)).await;
        w.drain().await;
    })
    .await;
    assert_eq!(cost, (2, 0));
    let local = w.local("ops", &born).await.unwrap();
    assert_eq!(local.title, "Label the cables");
    assert_eq!(local.status, TaskStatus::InProgress);
    w.person_deletes_planner(&born).await;
    let cost = measured(&w, "remote delete → local", async {
        w.send(planner_hint(&b.id, &born)).await;
        w.drain().await;
    })
    .await;
    assert_eq!(cost, (1, 0));
    assert!(w.local("ops", &born).await.unwrap().deleted);
    assert!(w.planner_tasks(&b).await.is_empty());
    w.emulator.shutdown();
}

/// Graph as the worker sees it, except that just before the first task PATCH a person edits
/// another field of the same task in the Planner app: the worker's If-Match is stale.
struct PersonEditsFirst {
    graph: GraphClient,
    control: graph_emulator::ControlClient,
    edit: serde_json::Value,
    armed: std::sync::atomic::AtomicBool,
}

impl RemoteTasks for PersonEditsFirst {
    async fn get(
        &self,
        binding: &Binding,
        rules: &SideRules,
        remote_id: &str,
    ) -> Result<Option<RemoteTask>, GraphError> {
        self.graph.get(binding, rules, remote_id).await
    }

    async fn list(
        &self,
        binding: &Binding,
        rules: &SideRules,
    ) -> Result<Vec<RemoteTask>, GraphError> {
        self.graph.list(binding, rules).await
    }

    async fn find_by_marker(
        &self,
        binding: &Binding,
        rules: &SideRules,
        local_id: &str,
    ) -> Result<Option<RemoteTask>, GraphError> {
        self.graph.find_by_marker(binding, rules, local_id).await
    }

    async fn create(
        &self,
        binding: &Binding,
        rules: &SideRules,
        local_id: &str,
        fields: &FieldMap,
    ) -> Result<RemoteTask, GraphError> {
        self.graph.create(binding, rules, local_id, fields).await
    }

    async fn complete_create(
        &self,
        binding: &Binding,
        rules: &SideRules,
        local_id: &str,
        current: &RemoteTask,
        patch: &FieldMap,
    ) -> Result<RemoteTask, GraphError> {
        self.graph
            .complete_create(binding, rules, local_id, current, patch)
            .await
    }

    async fn patch(
        &self,
        binding: &Binding,
        rules: &SideRules,
        current: &RemoteTask,
        patch: &FieldMap,
    ) -> Result<RemoteTask, GraphError> {
        if self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            self.control
                .call(
                    reqwest::Method::PATCH,
                    &format!("/planner/tasks/{}", current.id),
                    Some(&self.edit),
                )
                .await
                .expect("person's edit");
        }
        self.graph.patch(binding, rules, current, patch).await
    }

    async fn delete(&self, binding: &Binding, current: &RemoteTask) -> Result<(), GraphError> {
        self.graph.delete(binding, current).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_412_race_with_a_person_keeps_both_edits() {
    let w = SyncWorld::start().await;
    w.planner_binding("b-race", "ops").await;
    let task = w
        .app_writes(&app_task("ops", "R-1", "Original title"))
        .await;
    w.drain().await;
    let remote_id = w.mapping("ops", "R-1").await.unwrap().remote_id.unwrap();

    let racing = WorkerDeps::new(
        w.sync.clone(),
        w.tasks.clone(),
        PersonEditsFirst {
            graph: w.graph.clone(),
            control: w.control.clone(),
            edit: json!({"title": "Title by the person"}),
            armed: std::sync::atomic::AtomicBool::new(true),
        },
        w.queue.clone(),
    );
    let mut agent = task.clone();
    agent.priority = Priority::Urgent;
    w.app_writes(&agent).await;
    let (c, wr) = (w.graph_calls(), w.graph_writes());
    let pumped = w.drain_with(&racing).await;
    report(
        "412 race: re-read, re-merge, write",
        w.graph_calls() - c,
        w.graph_writes() - wr,
    );
    assert_eq!(pumped.failed, 0, "the race is settled within the message");
    assert_eq!(
        w.graph
            .counters()
            .get("planner.update_task", Outcome::Conflict),
        1,
        "the stale If-Match was refused once"
    );
    let (t, _) = w.planner_task(&remote_id).await.unwrap();
    assert_eq!(t["title"], "Title by the person");
    assert_eq!(t["priority"], 1);
    let local = w.local("ops", "R-1").await.unwrap();
    assert_eq!(local.title, "Title by the person");
    assert_eq!(local.priority, Priority::Urgent);
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_remote_create_and_mapping_write_leaves_one_remote_task() {
    let w = SyncWorld::start().await;
    let planner = w.planner_binding("b-crash-p", "ops").await;
    let todo = w.todo_binding("b-crash-t", "inbox").await;
    for (binding, list) in [(&planner, "ops"), (&todo, "inbox")] {
        let crashing = WorkerDeps::new(
            CrashAfterCreate::new(w.sync.clone()),
            w.tasks.clone(),
            w.graph.clone(),
            w.queue.clone(),
        );
        w.app_writes(&app_task(list, "C-1", "Created before the crash"))
            .await;
        let first = w.drain_with(&crashing).await;
        assert_eq!(first.failed, 1, "the worker 'died' after creating");
        let claim = w.mapping(list, "C-1").await.unwrap();
        assert_eq!(claim.state, MappingState::Creating);
        // The message comes back (here: the next hint for the task); the marker is found.
        w.send(w.pipe_hint(list, "C-1")).await;
        let (c, wr) = (w.graph_calls(), w.graph_writes());
        assert_eq!(w.drain().await.failed, 0);
        report(
            &format!(
                "{:?}: retry after a crash between create and record",
                binding.remote
            ),
            w.graph_calls() - c,
            w.graph_writes() - wr,
        );
        assert_eq!(w.graph_writes() - wr, 0, "adopted, not created again");
        let m = w.mapping(list, "C-1").await.unwrap();
        assert_eq!(m.state, MappingState::Active);
        let remote = match binding.remote {
            tasksync::model::RemoteKind::Planner => w.planner_tasks(binding).await,
            tasksync::model::RemoteKind::Todo => w.todo_tasks(binding).await,
        };
        assert_eq!(remote.len(), 1, "exactly one remote task: {remote:?}");
        assert_eq!(remote[0]["id"].as_str(), m.remote_id.as_deref());
    }
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_plan_opens_the_binding_s_circuit_breaker() {
    use tasksync::local::work_pump::{ReceivedWork, sqs_event};
    use tasksync::ports::BindingLookup;
    use tasksync::worker::handle_batch;

    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-gone", "ops").await;
    // The plan is deleted in Planner (Graph DELETE with the plan's ETag, as an owner would).
    let http = reqwest::Client::new();
    let config = &w.emulator.state.config;
    let token: serde_json::Value = http
        .post(&w.emulator.token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", config.client_id.as_str()),
            ("client_secret", config.client_secret.as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"].as_str().unwrap().to_owned();
    let plan_url = format!(
        "{}/planner/plans/{}",
        w.emulator.graph_base_url, b.remote_container_id
    );
    let plan: serde_json::Value = http
        .get(&plan_url)
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let deleted = http
        .delete(&plan_url)
        .bearer_auth(&bearer)
        .header("If-Match", plan["@odata.etag"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);

    let worker = w.worker();
    let body = tasksync::queue_message::encode(&Hint::ResyncBinding {
        binding_id: b.id.clone(),
        reason: "sweep".into(),
    });
    let mut failed = Vec::new();
    for i in 0..worker.settings.breaker_threshold {
        let message = ReceivedWork {
            body: body.clone(),
            receipt_handle: format!("rh-{i}"),
            message_id: format!("m-{i}"),
            receive_count: 1,
        };
        let event = sqs_event(&[message], "arn:aws:sqs:us-east-1:000000000000:q").unwrap();
        failed.push(handle_batch(event, &worker).await.batch_item_failures.len());
    }
    assert_eq!(
        failed,
        [1, 1, 0],
        "retried below the threshold, acknowledged once the breaker opens"
    );
    let breaker = w
        .sync
        .find_binding(&b.id)
        .await
        .unwrap()
        .unwrap()
        .breaker
        .expect("breaker on the binding");
    assert!(breaker.open_until.is_some());
    assert!(
        breaker.reason.contains("no longer exists"),
        "{}",
        breaker.reason
    );
    let calls = w.graph_calls();
    let outcome = tasksync::worker::handle_message(&body, &worker)
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            tasksync::worker::MessageOutcome::BreakerOpen { .. }
        ),
        "{outcome:?}"
    );
    assert_eq!(w.graph_calls(), calls, "no Graph call while open");
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_of_a_plan_pairs_both_sides_once() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-sweep", "ops").await;
    w.person_creates_planner(&b, json!({"title": "From Planner 1"}))
        .await;
    let with_details = w
        .person_creates_planner(&b, json!({"title": "From Planner 2"}))
        .await;
    w.person_edits_planner_details(&with_details, json!({"description": "details travel too"}))
        .await;
    w.person_creates_planner(
        &b,
        json!({"title": "Done in Planner", "percentComplete": 100}),
    )
    .await;
    w.app_writes(&app_task("ops", "L-1", "From the app")).await;
    // The application's write reaches the worker first (its own hint), then the resync.
    w.drain().await;
    let resync = Hint::ResyncBinding {
        binding_id: b.id.clone(),
        reason: "sweep".into(),
    };
    let cost = measured(
        &w,
        "first resync: 3 Planner + 1 local task (1 completed)",
        async {
            w.send(resync.clone()).await;
            assert_eq!(w.drain().await.failed, 0);
        },
    )
    .await;
    assert_eq!(
        cost.1, 0,
        "the local task was already created by its own hint"
    );
    let titles: Vec<String> = w
        .planner_tasks(&b)
        .await
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(titles.len(), 4, "{titles:?}");
    let local = w.local("ops", &with_details).await.expect("imported");
    assert_eq!(local.notes, "details travel too");
    let cost = measured(&w, "resync with nothing changed", async {
        w.send(resync.clone()).await;
        w.drain().await;
    })
    .await;
    assert_eq!(cost, (1, 0), "one listing with details, no write");
    w.emulator.shutdown();
}

// ---- 409 on a Planner write (graph-facts §2.6: "on 409 or 412, re-read and resolve") ----

/// Makes the emulator answer `status` to the next `times` requests (all, when `None`) of
/// `method` on the route `path` (a template, as in its counters), with Planner's own body.
async fn inject(w: &SyncWorld, method: &str, path: &str, status: u16, times: Option<u64>) {
    let mut rule = json!({"method": method, "path": path, "status": status});
    if let Some(n) = times {
        rule["times"] = json!(n);
    }
    w.control
        .call(reqwest::Method::POST, "/faults", Some(&rule))
        .await
        .expect("fault rule");
}

/// How the emulator answered a route, by status, as its own counters saw it (every client).
async fn emulator_statuses(w: &SyncWorld, route: &str) -> std::collections::BTreeMap<String, u64> {
    let counters = w.control.counters().await.expect("emulator counters");
    serde_json::from_value(counters["routes"][route]["by_status"].clone()).unwrap_or_default()
}

/// Messages received from the work queue and not deleted (SQS's own count).
async fn messages_in_flight(w: &SyncWorld) -> u64 {
    use aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible as NotVisible;
    let attrs = w
        .aws
        .sqs
        .get_queue_attributes()
        .queue_url(w.aws.resources.work_queue_url())
        .attribute_names(NotVisible)
        .send()
        .await
        .expect("queue attributes");
    attrs
        .attributes()
        .and_then(|a| a.get(&NotVisible))
        .and_then(|n| n.parse().ok())
        .expect("a count")
}

const TASK_PATCH: &str = "PATCH /planner/tasks/{task_id}";
const DETAILS_PATCH: &str = "PATCH /planner/tasks/{task_id}/details";

/// A synced Planner task "X-1" in local list "ops"; its Planner id.
async fn synced_planner_task(w: &SyncWorld, binding_id: &str, title: &str) -> (LocalTask, String) {
    w.planner_binding(binding_id, "ops").await;
    let task = w.app_writes(&app_task("ops", "X-1", title)).await;
    assert_eq!(w.drain().await.failed, 0);
    let remote_id = w.mapping("ops", "X-1").await.unwrap().remote_id.unwrap();
    (task, remote_id)
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_409_on_the_task_patch_re_reads_and_the_edit_lands() {
    let w = SyncWorld::start().await;
    let (task, remote_id) = synced_planner_task(&w, "b-409-task", "Order toner").await;
    inject(&w, "PATCH", "/planner/tasks/{task_id}", 409, Some(1)).await;

    let mut edited = task.clone();
    edited.priority = Priority::Urgent;
    let written = w.app_writes(&edited).await;
    let cost = measured(
        &w,
        "409 on the task PATCH: read, 409, read again, write",
        async {
            assert_eq!(w.drain().await.failed, 0, "settled within the message");
        },
    )
    .await;
    // Round 1: task + details read, PATCH refused; round 2: the same read, PATCH accepted.
    assert_eq!(cost, (6, 2));
    let counters = w.graph.counters();
    assert_eq!(counters.get("planner.update_task", Outcome::Conflict), 1);
    assert_eq!(counters.get("planner.update_task", Outcome::Success), 1);
    assert_eq!(
        counters.total("planner.get_task"),
        1 + 2,
        "the create's read-back, then one read per round"
    );
    let statuses = emulator_statuses(&w, TASK_PATCH).await;
    assert_eq!(statuses.get("409"), Some(&1), "{statuses:?}");
    assert_eq!(statuses.values().sum::<u64>(), 2, "{statuses:?}");

    let (t, _) = w.planner_task(&remote_id).await.unwrap();
    assert_eq!(t["priority"], 1);
    assert_eq!(t["title"], "Order toner");
    let local = w.local("ops", "X-1").await.unwrap();
    assert_eq!(local.priority, Priority::Urgent);
    assert_eq!(local.version, written.version, "no local write was needed");
    assert_settled(&w, "b-409-task", &remote_id).await;
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_409_on_the_details_patch_re_reads_and_both_edits_land_once() {
    let w = SyncWorld::start().await;
    let (task, remote_id) = synced_planner_task(&w, "b-409-details", "Book the room").await;
    inject(
        &w,
        "PATCH",
        "/planner/tasks/{task_id}/details",
        409,
        Some(1),
    )
    .await;

    // A title (task) and the notes (details): the task PATCH passes, the details PATCH is
    // refused, and the second round must not send the title again.
    let mut edited = task.clone();
    edited.title = "Book the big room".into();
    edited.notes = "For twelve people".into();
    let written = w.app_writes(&edited).await;
    let cost = measured(
        &w,
        "409 on the details PATCH: read, task write, 409, read again, details write, task read",
        async {
            assert_eq!(w.drain().await.failed, 0, "settled within the message");
        },
    )
    .await;
    assert_eq!(cost, (8, 3));
    let counters = w.graph.counters();
    assert_eq!(
        counters.total("planner.update_task"),
        1,
        "the title went once: the re-read saw it already there"
    );
    assert_eq!(
        counters.get("planner.update_task_details", Outcome::Conflict),
        1
    );
    // The create's marker write, then the accepted retry.
    assert_eq!(
        counters.get("planner.update_task_details", Outcome::Success),
        2
    );
    let statuses = emulator_statuses(&w, DETAILS_PATCH).await;
    assert_eq!(statuses.get("409"), Some(&1), "{statuses:?}");

    let (t, d) = w.planner_task(&remote_id).await.unwrap();
    assert_eq!(t["title"], "Book the big room");
    assert_eq!(d["description"], "For twelve people");
    let marker = serde_json::to_string(&d["references"]).unwrap();
    assert!(marker.contains("tasksync"), "the marker survives: {marker}");
    let local = w.local("ops", "X-1").await.unwrap();
    assert_eq!(local.title, "Book the big room");
    assert_eq!(local.notes, "For twelve people");
    assert_eq!(local.version, written.version, "no local write was needed");
    assert_settled(&w, "b-409-details", &remote_id).await;
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_409_on_every_attempt_is_bounded_and_the_message_is_retried_not_lost() {
    use tasksync::local::work_pump::{ReceivedWork, sqs_event};
    use tasksync::worker::{WorkerError, handle_batch, handle_message};

    let w = SyncWorld::start().await;
    let (task, remote_id) = synced_planner_task(&w, "b-409-always", "Renew the lease").await;
    let before = w.mapping("ops", "X-1").await.unwrap();
    inject(&w, "PATCH", "/planner/tasks/{task_id}", 409, None).await;
    let worker = w.worker();
    let rounds = u64::from(worker.settings.max_merge_rounds);
    assert_eq!(rounds, 3, "the documented bound (docs/sync-engine.md)");

    let mut edited = task.clone();
    edited.priority = Priority::Important;
    w.app_writes(&edited).await;
    // Through the real queue: the worker gives up after its rounds and reports the message
    // failed, so SQS delivers it again after the visibility timeout.
    let cost = measured(&w, "409 on every attempt: one receive", async {
        let pumped = w.drain().await;
        assert_eq!(pumped.received, 1);
        assert_eq!(pumped.failed, 1, "reported failed for a retry");
    })
    .await;
    assert_eq!(
        cost,
        (3 * rounds, rounds),
        "a read (task + details) and a PATCH per round"
    );
    assert_eq!(
        w.graph
            .counters()
            .get("planner.update_task", Outcome::Conflict),
        rounds
    );
    assert_eq!(
        messages_in_flight(&w).await,
        1,
        "the message is still on the queue, invisible until its retry"
    );
    assert_eq!(
        emulator_statuses(&w, TASK_PATCH).await.get("409"),
        Some(&rounds)
    );

    // The reason says what happened; it is a retry, not a rejection.
    let body = tasksync::queue_message::encode(&w.pipe_hint("ops", "X-1"));
    let error = handle_message(&body, &worker).await.unwrap_err();
    let WorkerError::Retry { reason, after } = &error else {
        panic!("a lost race is worth a retry: {error:?}");
    };
    assert!(
        reason.contains("3 rounds") && reason.contains("409"),
        "{reason}"
    );
    assert_eq!(
        *after, None,
        "no Retry-After: the queue's visibility timeout applies"
    );

    // The receive that reaches maxReceiveCount records the reason beside the message, which
    // SQS then moves to the DLQ intact.
    let last = ReceivedWork {
        body: body.clone(),
        receipt_handle: "rh-last".into(),
        message_id: "m-409".into(),
        receive_count: worker.settings.max_receive_count,
    };
    let event = sqs_event(&[last], "arn:aws:sqs:us-east-1:000000000000:q").unwrap();
    let failures = handle_batch(event, &worker).await.batch_item_failures;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].item_identifier, "m-409");
    let dead = w.sync.list_dead_letter_reasons().await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].message_id, "m-409");
    assert_eq!(dead[0].kind, "local_task");
    assert!(dead[0].reason.contains("409"), "{}", dead[0].reason);

    // Nothing was half-applied: Planner and the mapping are as before, the local edit waits.
    let (t, _) = w.planner_task(&remote_id).await.unwrap();
    assert_eq!(t["priority"], 5);
    let m = w.mapping("ops", "X-1").await.unwrap();
    assert_eq!(
        (&m.base, &m.task_etag, &m.details_etag, m.local_version),
        (
            &before.base,
            &before.task_etag,
            &before.details_etag,
            before.local_version
        ),
        "nothing synced was recorded"
    );
    // The reason is on the mapping too (the CLI shows it), not only beside the dead letter.
    let last_error = m.last_error.as_deref().expect("the reason on the mapping");
    assert!(
        last_error.contains("3 rounds") && last_error.contains("409"),
        "{last_error}"
    );
    assert_eq!(
        m.revision,
        before.revision + 1,
        "one write: the reason, recorded once for the same failure"
    );
    assert_eq!(
        w.local("ops", "X-1").await.unwrap().priority,
        Priority::Important
    );

    // Planner accepts again; the same message, delivered again, lands the edit.
    w.control
        .call(reqwest::Method::DELETE, "/faults", None)
        .await
        .expect("faults cleared");
    let outcome = handle_message(&body, &worker).await.expect("synced");
    assert!(
        matches!(outcome, tasksync::worker::MessageOutcome::Synced(_)),
        "{outcome:?}"
    );
    assert_eq!(w.planner_task(&remote_id).await.unwrap().0["priority"], 3);
    assert_eq!(
        w.mapping("ops", "X-1").await.unwrap().last_error,
        None,
        "settled: the reason is cleared"
    );
    assert_settled(&w, "b-409-always", &remote_id).await;
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_409_on_the_delete_re_reads_and_the_task_still_goes() {
    let w = SyncWorld::start().await;
    let (task, remote_id) = synced_planner_task(&w, "b-409-delete", "Cancel the order").await;
    inject(&w, "DELETE", "/planner/tasks/{task_id}", 409, Some(1)).await;

    let mut gone = task.clone();
    gone.deleted = true;
    w.app_writes(&gone).await;
    let cost = measured(
        &w,
        "409 on the DELETE: read, 409, read again, delete",
        async {
            assert_eq!(w.drain().await.failed, 0, "settled within the message");
        },
    )
    .await;
    assert_eq!(cost, (6, 2));
    let counters = w.graph.counters();
    assert_eq!(counters.get("planner.delete_task", Outcome::Conflict), 1);
    assert_eq!(counters.get("planner.delete_task", Outcome::Success), 1);
    assert!(w.planner_task(&remote_id).await.is_none());
    assert_eq!(
        w.mapping("ops", "X-1").await.unwrap().state,
        MappingState::Deleted
    );
    w.emulator.shutdown();
}

// ---- a create that stops between Planner's POST and its details write ----
//
// Planner takes the marker only in the task details (graph-facts §2.4), so a create is a POST,
// then the details write with the marker. Whatever stops it in between (a 409, a 503 past the
// retries, the process dying), the id recorded on the claim lets the retry finish that task.

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

/// The Planner task in the plan has no marker yet (what the stopped create left behind).
async fn assert_one_unmarked_task(w: &SyncWorld, b: &Binding) -> String {
    let tasks = w.planner_tasks(b).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let remote_id = tasks[0]["id"].as_str().unwrap().to_owned();
    let (_, d) = w.planner_task(&remote_id).await.unwrap();
    assert_eq!(d["references"], json!({}), "not marked yet");
    let claim = w.mapping("ops", "X-1").await.unwrap();
    assert_eq!(claim.state, MappingState::Creating);
    assert_eq!(
        claim.remote_id.as_deref(),
        Some(remote_id.as_str()),
        "the claim holds the new task's id"
    );
    remote_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_409_on_the_details_write_of_a_create_finishes_the_same_task() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-create-409", "ops").await;
    inject(
        &w,
        "PATCH",
        "/planner/tasks/{task_id}/details",
        409,
        Some(1),
    )
    .await;

    w.app_writes(&rich_task("X-1")).await;
    let cost = measured(
        &w,
        "409 on the create's details write: POST, read details, 409, read task + details, details write, task read",
        async {
            assert_eq!(w.drain().await.failed, 0, "settled within the message");
        },
    )
    .await;
    assert_eq!(
        cost,
        (7, 3),
        "the round after the 409 resumes, it does not create"
    );
    let counters = w.graph.counters();
    assert_eq!(counters.total("planner.create_task"), 1);
    assert_eq!(
        counters.get("planner.update_task_details", Outcome::Conflict),
        1
    );
    assert_eq!(
        counters.get("planner.update_task_details", Outcome::Success),
        1
    );
    assert_one_complete_task(&w, &b).await;
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_on_every_details_write_of_a_create_is_retried_and_the_next_delivery_finishes_it() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-create-503", "ops").await;
    inject(&w, "PATCH", "/planner/tasks/{task_id}/details", 503, None).await;

    w.app_writes(&rich_task("X-1")).await;
    let first = w.drain().await;
    assert_eq!(first.received, 1);
    assert_eq!(first.failed, 1, "reported failed for a retry");
    let attempts = emulator_statuses(&w, DETAILS_PATCH).await;
    assert!(
        attempts.get("503").is_some_and(|n| *n > 1),
        "the client retried the 503: {attempts:?}"
    );
    assert_eq!(attempts.len(), 1, "only 503s: {attempts:?}");
    let remote_id = assert_one_unmarked_task(&w, &b).await;

    // Planner answers again; the message comes back (here: the same hint, sent again).
    w.control
        .call(reqwest::Method::DELETE, "/faults", None)
        .await
        .expect("faults cleared");
    w.send(w.pipe_hint("ops", "X-1")).await;
    let cost = measured(
        &w,
        "next delivery after a create stopped by 503s: read task + details, details write with the marker, task read",
        async {
            assert_eq!(w.drain().await.failed, 0);
        },
    )
    .await;
    assert_eq!(cost, (4, 1));
    assert_eq!(w.graph.counters().total("planner.create_task"), 1);
    assert_eq!(assert_one_complete_task(&w, &b).await, remote_id);
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_the_planner_post_and_its_details_write_leaves_one_task() {
    use tasksync::worker::handle_message;

    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-create-crash", "ops").await;
    // Planner holds the details read of the create long enough for the worker to be killed
    // there: after the POST and the record of its id, before the marker.
    let rule = json!({"method": "GET", "path": "/planner/tasks/{task_id}/details",
                      "latency_ms": 25_000, "times": 1});
    w.control
        .call(reqwest::Method::POST, "/faults", Some(&rule))
        .await
        .expect("latency rule");

    let task = rich_task("X-1");
    w.app_writes(&task).await;
    let worker = w.worker();
    let body = tasksync::queue_message::encode(&w.pipe_hint("ops", "X-1"));
    let running = tokio::spawn(async move { handle_message(&body, &worker).await });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let claim = w.mapping("ops", "X-1").await;
        if claim.is_some_and(|m| m.remote_id.is_some()) {
            break;
        }
        assert!(
            !running.is_finished(),
            "the worker finished before the crash point"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the create never reached Planner"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The process dies: its future is dropped mid-request, nothing after this point runs.
    running.abort();
    assert!(running.await.unwrap_err().is_cancelled());
    let remote_id = assert_one_unmarked_task(&w, &b).await;

    // The message is delivered again (the stream's record of the application's write).
    let cost = measured(
        &w,
        "retry after a crash between the POST and the details write (resume by the recorded id)",
        async {
            assert_eq!(w.drain().await.failed, 0);
        },
    )
    .await;
    assert_eq!(
        cost,
        (4, 1),
        "read task + details, details write, task read"
    );
    assert_eq!(w.graph.counters().total("planner.create_task"), 1);
    assert_eq!(assert_one_complete_task(&w, &b).await, remote_id);
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planner_task_whose_id_cannot_be_recorded_is_taken_back() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-create-unrecorded", "ops").await;
    let failing = WorkerDeps::new(
        CrashAfterCreate::refusing_the_id_record(w.sync.clone()),
        w.tasks.clone(),
        w.graph.clone(),
        w.queue.clone(),
    );
    w.app_writes(&rich_task("X-1")).await;
    assert_eq!(w.drain_with(&failing).await.failed, 1);
    // Nothing names the new task, so it was deleted rather than left for a second create.
    assert!(w.planner_tasks(&b).await.is_empty(), "no unrecorded task");
    let counters = w.graph.counters();
    assert_eq!(counters.total("planner.create_task"), 1);
    assert_eq!(counters.get("planner.delete_task", Outcome::Success), 1);
    let claim = w.mapping("ops", "X-1").await.unwrap();
    assert_eq!(claim.state, MappingState::Creating);
    assert_eq!(claim.remote_id, None);

    // The next delivery, once the claim's patience is over, creates the task.
    let mut retry = w.worker();
    retry.settings.claim_patience = std::time::Duration::ZERO;
    w.send(w.pipe_hint("ops", "X-1")).await;
    assert_eq!(w.drain_with(&retry).await.failed, 0);
    let tasks = w.planner_tasks(&b).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let m = w.mapping("ops", "X-1").await.unwrap();
    assert_eq!(m.state, MappingState::Active);
    assert_eq!(m.remote_id.as_deref(), tasks[0]["id"].as_str());
    let (_, d) = w
        .planner_task(tasks[0]["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(d["references"].as_object().map(|r| r.len()), Some(1));
    assert_eq!(d["description"], "Rack B, after 18:00");
    w.emulator.shutdown();
}

// ---- A Planner create whose answer was lost (docs/sync-engine.md, "Crash points and races") ----
//
// Planner created the task but the worker never learnt its id (the answer was lost, or the
// process died before recording it): an unmarked task that no record names. The retry finds it
// as an orphan (ours by `createdBy.application.id`, same title, created since the claim, not
// mapped) in the listing its marker search makes, and adopts it instead of creating a second.

/// Planner creates the next task but its answer never arrives (a 504 from the gateway after
/// the handler ran); the client never repeats a create.
async fn lose_the_next_post_answer(w: &SyncWorld) {
    let rule = json!({"method": "POST", "path": "/planner/tasks", "status": 504,
                      "after_handler": true, "times": 1});
    w.control
        .call(reqwest::Method::POST, "/faults", Some(&rule))
        .await
        .expect("lost-answer rule");
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
    retry.settings.claim_patience = std::time::Duration::ZERO;
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
    w.emulator.shutdown();
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
    w.emulator.shutdown();
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
    w.emulator.shutdown();
    w2.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_hint_for_the_orphan_imports_nothing_and_the_retry_adopts_it() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-lost-answer-sweep", "ops").await;
    let orphan = a_create_whose_answer_was_lost(&w, &b).await;

    // The scheduler's sweep meets the unmarked task first.
    let cost = measured(
        &w,
        "sweep hint for an orphan of our create (not imported)",
        async {
            w.send(planner_hint(&b.id, &orphan)).await;
            assert_eq!(w.drain().await.failed, 0);
        },
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
    w.emulator.shutdown();
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
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_leaves_a_fresh_create_alone_and_adopts_the_orphan_of_a_stale_one() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-lost-answer-resync", "ops").await;
    let orphan = a_create_whose_answer_was_lost(&w, &b).await;
    let resync = Hint::ResyncBinding {
        binding_id: b.id.clone(),
        reason: "sweep".into(),
    };

    // Within the claim's patience the create may still be running elsewhere: the resync
    // neither creates for it nor imports its orphan.
    let cost = measured(
        &w,
        "resync during a create's patience (orphan left)",
        async {
            w.send(resync.clone()).await;
            assert_eq!(w.drain().await.failed, 0);
        },
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
    late.settings.claim_patience = std::time::Duration::ZERO;
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
    w.emulator.shutdown();
}
