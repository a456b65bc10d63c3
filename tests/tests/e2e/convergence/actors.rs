//! The agent (on the tasks table, through the real SDK) and the person (in To Do or Planner,
//! through the emulator's control API, which faults never reach) acting on one binding, each
//! write recorded in the model as it is made.

use serde_json::{Value, json};
use tasksync::model::{Binding, LocalTask, Origin, RemoteKind, TaskStatus};
use tasksync::ports::MappingStore;
use tasksync::queue_message::Hint;
use testkit::sync_harness::SyncWorld;

use super::model::{Actor, CREATION_WRITES, Entity, Field, Observed, token_of};

/// The value a write gives a field: unique, so the checks can tell whose write survived.
fn value_of(field: Field, token: u32, actor: Actor, n: usize) -> String {
    match field {
        Field::Title => format!("k{token} {}{n}", actor.letter()),
        Field::Notes => format!("n{token} {}{n}", actor.letter()),
        Field::Completed => "true".to_owned(),
    }
}

pub async fn agent_creates(w: &SyncWorld, b: &Binding, e: &mut Entity) {
    let id = format!("L{}", e.token);
    let title = value_of(Field::Title, e.token, Actor::Agent, 0);
    let task = LocalTask::new(&b.local_list_id, &id, &title, Origin::App("agent".into()));
    w.app_writes(&task).await;
    e.local_id = Some(id);
    e.record(Actor::Agent, Field::Title, title);
    e.record(Actor::Agent, Field::Notes, "");
    e.record(Actor::Agent, Field::Completed, "false");
    debug_assert_eq!(e.writes.len(), CREATION_WRITES);
}

/// The local id, found through the mapping once the sync has imported a person's task.
pub async fn local_id(w: &SyncWorld, b: &Binding, e: &mut Entity) -> Option<String> {
    if e.local_id.is_none() {
        let remote = e.remote_id.as_deref()?;
        let mapping = w.sync.mapping_by_remote(b.remote, remote).await.ok()??;
        e.local_id = Some(mapping.local_id);
    }
    e.local_id.clone()
}

/// The remote id, found through the mapping once the sync has created the agent's task.
pub async fn remote_id(w: &SyncWorld, b: &Binding, e: &mut Entity) -> Option<String> {
    if e.remote_id.is_none() {
        let local = e.local_id.as_deref()?;
        let mapping = w
            .sync
            .mapping_by_local(&b.local_list_id, local)
            .await
            .ok()??;
        e.remote_id = mapping.remote_id;
    }
    e.remote_id.clone()
}

/// The agent edits one field of its copy (if it still has a live one); whether it wrote.
pub async fn agent_edits(w: &SyncWorld, b: &Binding, e: &mut Entity, field: Field) -> bool {
    let Some(id) = local_id(w, b, e).await else {
        return false;
    };
    let Some(mut task) = w.local(&b.local_list_id, &id).await.filter(|t| !t.deleted) else {
        return false;
    };
    let value = value_of(field, e.token, Actor::Agent, e.writes.len());
    match field {
        Field::Title => task.title = value.clone(),
        Field::Notes => task.notes = value.clone(),
        Field::Completed => {
            task.status = TaskStatus::Completed;
            task.completed_at = Some(chrono::Utc::now());
        }
    }
    w.app_writes(&task).await;
    e.record(Actor::Agent, field, value);
    true
}

/// The agent soft-deletes its copy (if it still has a live one).
pub async fn agent_deletes(w: &SyncWorld, b: &Binding, e: &mut Entity) -> bool {
    let Some(id) = local_id(w, b, e).await else {
        return false;
    };
    let Some(mut task) = w.local(&b.local_list_id, &id).await.filter(|t| !t.deleted) else {
        return false;
    };
    task.deleted = true;
    w.app_writes(&task).await;
    e.deleted_by.get_or_insert(Actor::Agent);
    true
}

/// A person creates a task in the binding's list or plan; the hint a notification or a sweep
/// would bring.
pub async fn person_creates(w: &SyncWorld, b: &Binding, e: &mut Entity) -> Hint {
    let title = value_of(Field::Title, e.token, Actor::Person, 0);
    let id = match b.remote {
        RemoteKind::Todo => w.person_creates_todo(b, json!({ "title": title })).await,
        RemoteKind::Planner => w.person_creates_planner(b, json!({ "title": title })).await,
    };
    e.record(Actor::Person, Field::Title, title);
    e.record(Actor::Person, Field::Notes, "");
    e.record(Actor::Person, Field::Completed, "false");
    let hint = Hint::remote_task(b.remote, &b.id, &id);
    e.remote_id = Some(id);
    hint
}

/// The person's request for one field, as the app would send it.
fn person_request(b: &Binding, id: &str, field: Field, value: &str) -> (String, Value) {
    let task_path = match b.remote {
        RemoteKind::Todo => format!("/todo/lists/{}/tasks/{id}", b.remote_container_id),
        RemoteKind::Planner => format!("/planner/tasks/{id}"),
    };
    match (b.remote, field) {
        (_, Field::Title) => (task_path, json!({ "title": value })),
        (RemoteKind::Todo, Field::Notes) => (
            task_path,
            json!({"body": {"content": value, "contentType": "text"}}),
        ),
        (RemoteKind::Todo, Field::Completed) => (task_path, json!({"status": "completed"})),
        (RemoteKind::Planner, Field::Notes) => (
            format!("{task_path}/details"),
            json!({ "description": value }),
        ),
        (RemoteKind::Planner, Field::Completed) => (task_path, json!({"percentComplete": 100})),
    }
}

/// The person edits one field of the remote copy (if it still exists); the hint to deliver.
pub async fn person_edits(
    w: &SyncWorld,
    b: &Binding,
    e: &mut Entity,
    field: Field,
) -> Option<Hint> {
    let id = remote_id(w, b, e).await?;
    let value = value_of(field, e.token, Actor::Person, e.writes.len());
    let (path, body) = person_request(b, &id, field, &value);
    // A 404 means the sync (or the person) deleted it already: nothing was written.
    w.control
        .call(reqwest::Method::PATCH, &path, Some(&body))
        .await
        .ok()?;
    e.record(Actor::Person, field, value);
    Some(Hint::remote_task(b.remote, &b.id, &id))
}

/// The person deletes the remote copy (if it still exists); the hint to deliver.
pub async fn person_deletes(w: &SyncWorld, b: &Binding, e: &mut Entity) -> Option<Hint> {
    let id = remote_id(w, b, e).await?;
    let path = match b.remote {
        RemoteKind::Todo => format!("/todo/lists/{}/tasks/{id}", b.remote_container_id),
        RemoteKind::Planner => format!("/planner/tasks/{id}"),
    };
    w.control
        .call(reqwest::Method::DELETE, &path, None)
        .await
        .ok()?;
    e.deleted_by.get_or_insert(Actor::Person);
    Some(Hint::remote_task(b.remote, &b.id, &id))
}

/// Every live copy on each side of the binding, by token.
pub async fn observe(
    w: &SyncWorld,
    b: &Binding,
) -> std::collections::BTreeMap<u32, super::model::Copies> {
    use tasksync::ports::TaskList;
    let mut world: std::collections::BTreeMap<u32, super::model::Copies> = Default::default();
    for item in w
        .tasks
        .list_tasks(&b.local_list_id)
        .await
        .expect("the local list")
    {
        let task = item.expect("every local item is valid");
        if task.deleted {
            continue;
        }
        let seen = Observed {
            title: task.title.clone(),
            notes: task.notes.clone(),
            completed: task.status == TaskStatus::Completed,
        };
        let token = token_of(&task.title).expect("every local task carries a token");
        world.entry(token).or_default().local.push(seen);
    }
    for seen in remote_copies(w, b).await {
        let token = token_of(&seen.title).expect("every remote task carries a token");
        world.entry(token).or_default().remote.push(seen);
    }
    world
}

async fn remote_copies(w: &SyncWorld, b: &Binding) -> Vec<Observed> {
    match b.remote {
        RemoteKind::Todo => w
            .todo_tasks(b)
            .await
            .iter()
            .map(|t| Observed {
                title: t["title"].as_str().unwrap_or_default().to_owned(),
                notes: t["body"]["content"].as_str().unwrap_or_default().to_owned(),
                completed: t["status"] == "completed",
            })
            .collect(),
        RemoteKind::Planner => {
            let mut copies = Vec::new();
            for t in w.planner_tasks(b).await {
                let id = t["id"].as_str().expect("a Planner task id");
                let (task, details) = w.planner_task(id).await.expect("the listed task");
                copies.push(Observed {
                    title: task["title"].as_str().unwrap_or_default().to_owned(),
                    notes: details["description"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    completed: task["percentComplete"] == 100,
                });
            }
            copies
        }
    }
}
