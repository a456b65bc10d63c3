//! `tasksync sync` and the paused binding through the real binary and the real worker: a paused
//! binding's hints are acknowledged and noted without syncing, resume catches up, and
//! `sync --dry-run` prints the field changes per task and writes nothing on either side before
//! `sync` applies them.

// Test helpers: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use tasksync::model::RemoteKind;
use tasksync::ports::{BindingLookup, MappingStore, TaskRead, TaskWrite};
use tasksync::queue_message::Hint;
use testkit::sync_harness::SyncWorld;

use crate::bindings::{emulator_writes, everything, local_task, local_titles, tasksync};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_paused_binding_notes_its_hints_resume_catches_up_and_sync_dry_run_shows_the_plan() {
    let w = SyncWorld::start().await;
    let list = w.todo_list("Chores").await;
    local_task(&w, "chores", "c-1", "Water plants").await;
    let user = w.user_id.clone();
    let added = tasksync(
        &w,
        &[
            "bindings",
            "add",
            "b-chores",
            "--local-list",
            "chores",
            "--todo-list",
            &list,
            "--user",
            &user,
        ],
    )
    .await;
    assert_eq!(added.code, 0, "{}", added.stderr);
    w.forward_stream().await;
    w.drain().await;

    // Paused: a person's new task arrives as a hint, which is acknowledged and noted only.
    assert_eq!(
        tasksync(&w, &["bindings", "pause", "b-chores"]).await.code,
        0
    );
    let new_id = w
        .person_creates_todo_task(&list, &json!({"title": "Take out the bins"}))
        .await;
    w.send(Hint::remote_task(RemoteKind::Todo, "b-chores", &new_id))
        .await;
    let drained = w.drain().await;
    assert_eq!((drained.succeeded, drained.failed), (1, 0));
    assert_eq!(local_titles(&w, "chores").await, ["Water plants"]);
    let binding = w.sync.find_binding("b-chores").await.unwrap().unwrap();
    assert!(binding.hint_while_paused_at.is_some(), "{binding:?}");

    let resumed = tasksync(&w, &["bindings", "resume", "b-chores"]).await;
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert!(
        resumed.stdout.contains("hints arrived meanwhile"),
        "{}",
        resumed.stdout
    );
    assert_eq!(
        local_titles(&w, "chores").await,
        ["Take out the bins", "Water plants"]
    );
    let binding = w.sync.find_binding("b-chores").await.unwrap().unwrap();
    assert_eq!(
        (binding.paused_at, binding.hint_while_paused_at),
        (None, None)
    );

    // Both sides change one pair; the dry run shows it and writes nothing.
    let remote_id = w
        .sync
        .mapping_by_local("chores", "c-1")
        .await
        .unwrap()
        .unwrap()
        .remote_id
        .unwrap();
    w.control
        .update_todo_task(&list, &remote_id, &json!({"title": "Water the plants"}))
        .await
        .unwrap();
    let mut local = w.tasks.get_task("chores", "c-1").await.unwrap().unwrap();
    local.notes = "the ferns too".into();
    local.version += 1;
    local.origin = tasksync::model::Origin::App("an-agent".into());
    w.tasks.put_task(&local).await.unwrap();

    let before = everything(&w, Some(&list), None).await;
    let writes = emulator_writes(&w).await;
    let dry = tasksync(&w, &["sync", "b-chores", "--dry-run"]).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let line = dry
        .stdout
        .lines()
        .find(|l| l.starts_with("c-1 "))
        .unwrap_or_else(|| panic!("{}", dry.stdout));
    assert!(
        line.contains("update") && line.contains("local: title") && line.contains("remote: notes"),
        "{line}"
    );
    assert_eq!(emulator_writes(&w).await, writes);
    assert_eq!(everything(&w, Some(&list), None).await, before);

    let synced = tasksync(&w, &["sync", "b-chores"]).await;
    assert_eq!(synced.code, 0, "{}", synced.stderr);
    let local = w.tasks.get_task("chores", "c-1").await.unwrap().unwrap();
    assert_eq!(
        (local.title.as_str(), local.notes.as_str()),
        ("Water the plants", "the ferns too")
    );
    let unknown = tasksync(&w, &["sync", "no-such-binding"]).await;
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("there is no binding"),
        "{}",
        unknown.stderr
    );
}
