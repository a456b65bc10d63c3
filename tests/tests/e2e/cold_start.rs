//! Cold-start matching through the worker: a binding whose first sync did not complete (it
//! failed, or is still running in `tasksync bindings add`) is resynced whole on any hint, so a
//! task that exists on both sides is linked, never copied, and the first sync is then recorded.

use serde_json::json;
use tasksync::model::{Binding, LocalTask, Origin};
use tasksync::ports::{BindingLookup, BindingSave, TaskList, TaskWrite};
use tasksync::queue_message::Hint;
use testkit::sync_harness::SyncWorld;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hint_on_a_binding_whose_first_sync_is_pending_links_same_title_tasks_without_duplicates()
{
    let w = SyncWorld::start().await;
    let list = w.todo_list("Errands").await;
    let mut binding = Binding::todo("b-pending", "errands", &w.user_id, &list);
    binding.first_sync_pending = true;
    w.sync.save_binding(&binding).await.unwrap();
    let local = LocalTask::new(
        "errands",
        "e-1",
        "Post the letter",
        Origin::App("agent".into()),
    );
    w.tasks.put_task(&local).await.unwrap();
    let remote_id = w
        .person_creates_todo_task(&list, &json!({"title": "post the letter"}))
        .await;

    w.send(Hint::remote_task(binding.remote, &binding.id, &remote_id))
        .await;
    let drained = w.drain().await;
    assert_eq!(drained.failed, 0, "{drained:?}");

    let remote = w.todo_tasks(&binding).await;
    assert_eq!(remote.len(), 1, "{remote:#?}");
    let locals: Vec<LocalTask> = w
        .tasks
        .list_tasks("errands")
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.unwrap())
        .collect();
    assert_eq!(locals.len(), 1, "{locals:#?}");
    assert_eq!(
        w.mapping("errands", "e-1")
            .await
            .unwrap()
            .remote_id
            .as_deref(),
        Some(remote_id.as_str())
    );
    let after = w.sync.find_binding("b-pending").await.unwrap().unwrap();
    assert!(!after.first_sync_pending && after.first_sync_completed_at.is_some());

    // Over: a later same-title task is a task of its own.
    w.person_creates_todo_task(&list, &json!({"title": "Post the letter"}))
        .await;
    w.send(Hint::ResyncBinding {
        binding_id: binding.id.clone(),
        reason: "test".into(),
    })
    .await;
    w.drain().await;
    assert_eq!(w.tasks.list_tasks("errands").await.unwrap().len(), 2);
}
