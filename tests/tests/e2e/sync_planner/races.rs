//! Races with a person and with a crash: a 412 after a person's edit, a crash between the remote
//! create and the mapping write.

use super::*;

/// Graph as the worker sees it, except that just before the first task PATCH a person edits
/// another field of the same task in the Planner app: the worker's If-Match is stale.
struct PersonEditsFirst {
    graph: GraphClient,
    control: graph_emulator::ControlClient,
    edit: serde_json::Value,
    armed: std::sync::atomic::AtomicBool,
}

impl OpenRemote for PersonEditsFirst {
    fn open<'a>(&'a self, binding: &Binding, rules: &SideRules) -> Box<dyn RemoteSide + 'a> {
        Box::new(EditsBeforePatch {
            inner: self.graph.open(binding, rules),
            person: self,
        })
    }
}

/// The plan's own side, with the person's edit slipped in before the first patch.
struct EditsBeforePatch<'a> {
    inner: Box<dyn RemoteSide + 'a>,
    person: &'a PersonEditsFirst,
}

impl RemoteSide for EditsBeforePatch<'_> {
    fn get<'a>(&'a self, remote_id: &'a str) -> RemoteCall<'a, Option<RemoteTask>> {
        self.inner.get(remote_id)
    }

    fn list(&self) -> RemoteCall<'_, Vec<RemoteTask>> {
        self.inner.list()
    }

    fn find_earlier_create<'a>(&'a self, local_id: &'a str) -> RemoteCall<'a, EarlierCreate> {
        self.inner.find_earlier_create(local_id)
    }

    fn create<'a>(&'a self, local_id: &'a str, fields: &'a FieldMap) -> RemoteCall<'a, RemoteTask> {
        self.inner.create(local_id, fields)
    }

    fn complete_create<'a>(
        &'a self,
        local_id: &'a str,
        current: &'a RemoteTask,
        patch: &'a FieldMap,
    ) -> RemoteCall<'a, RemoteTask> {
        self.inner.complete_create(local_id, current, patch)
    }

    fn patch<'a>(
        &'a self,
        current: &'a RemoteTask,
        patch: &'a FieldMap,
    ) -> RemoteCall<'a, RemoteTask> {
        Box::pin(async move {
            if self
                .person
                .armed
                .swap(false, std::sync::atomic::Ordering::SeqCst)
            {
                self.person
                    .control
                    .call(
                        reqwest::Method::PATCH,
                        &format!("/planner/tasks/{}", current.id),
                        Some(&self.person.edit),
                    )
                    .await
                    .expect("person's edit");
            }
            self.inner.patch(current, patch).await
        })
    }

    fn delete<'a>(&'a self, current: &'a RemoteTask) -> RemoteCall<'a, ()> {
        self.inner.delete(current)
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
    w.stack.emulator.shutdown();
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
    w.stack.emulator.shutdown();
}
