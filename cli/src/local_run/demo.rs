//! The walk-through `tasksync local demo` runs: a person's To Do changes reach the task store; an
//! agent's writes to the task store reach To Do and Planner; each echo of the sync's own writes
//! costs no Graph write. Each step returns what it observed, so a test runs the same steps and
//! asserts on them.

use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};
use tasksync::model::{Binding, LocalTask, Origin, Priority, TaskDate, TaskStatus};
use tasksync::ports::{BindingSave, HintSend, TaskWriteIfVersion};
use tasksync::queue_message::Hint;
use tasksync::subscription_setup::connect_todo_binding;

use super::narration::{banner, graph_calls, show, show_echo};
use super::system::Settled;
use super::{LocalRunError, LocalSystem};

/// The local list a person's To Do list is bound to.
pub const TODO_LIST: &str = "team";
/// The local list bound to a Planner plan.
pub const PLANNER_LIST: &str = "ops";
const TODO_BINDING: &str = "local-todo";
const PLANNER_BINDING: &str = "local-planner";
/// The id of the task the agent writes in each list.
pub const AGENT_TASK: &str = "T-1042";
pub const AGENT: &str = "planner-agent";

/// What the demo observed, step by step.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// The person's To Do task in the task store after each step: created, renamed, completed,
    /// deleted.
    pub person_steps: Vec<LocalTask>,
    /// Graph writes the person's four changes cost, their echoes included (they only read).
    pub person_graph_writes: u64,
    /// What the echoes of the last change cost.
    pub person_echo: Settled,
    /// The agent's task as written to the task store (list `team`).
    pub agent_task: LocalTask,
    /// That task as the emulator holds it in To Do (Graph's JSON).
    pub agent_todo_task: Value,
    /// Graph writes the agent's task cost until it was in To Do.
    pub agent_todo_writes: u64,
    /// What its echoes cost afterwards.
    pub agent_todo_echo: Settled,
    /// The agent's task in the Planner-bound list (`ops`), and the Planner task and details the
    /// emulator holds for it.
    pub agent_planner_local: LocalTask,
    pub agent_planner_task: Value,
    pub agent_planner_details: Value,
    pub agent_planner_writes: u64,
    pub agent_planner_echo: Settled,
}

/// Runs the demo's steps in order, printing each as it goes.
pub async fn run_demo(
    system: &LocalSystem,
    step_timeout: Duration,
    out: &mut impl Write,
) -> Result<DemoReport, LocalRunError> {
    banner(system, out)?;
    let list_id = connect_todo_list(system, out).await?;
    let person = person_edits(system, &list_id, step_timeout, out).await?;
    let todo = agent_writes_to_todo(system, &list_id, step_timeout, out).await?;
    let planner = agent_writes_to_planner(system, step_timeout, out).await?;
    graph_calls(&system.graph, out)?;
    Ok(DemoReport {
        person_steps: person.steps,
        person_graph_writes: person.graph_writes,
        person_echo: person.echo,
        agent_task: todo.local,
        agent_todo_task: todo.remote,
        agent_todo_writes: todo.graph_writes,
        agent_todo_echo: todo.echo,
        agent_planner_local: planner.local,
        agent_planner_task: planner.remote,
        agent_planner_details: planner.details,
        agent_planner_writes: planner.graph_writes,
        agent_planner_echo: planner.echo,
    })
}

/// Steps 3 to 6.
struct PersonEdits {
    steps: Vec<LocalTask>,
    graph_writes: u64,
    echo: Settled,
}

/// Step 7 or 9: the agent's task as written, as the remote side holds it, and its cost.
struct AgentWrite {
    local: LocalTask,
    remote: Value,
    /// Planner keeps the description apart from the task; `Null` for To Do.
    details: Value,
    graph_writes: u64,
    echo: Settled,
}

/// What the person does to the task in To Do after creating it.
enum Edit {
    Patch(Value),
    Delete,
}

/// A person's change in To Do, and how to tell that it reached the task store.
struct Arrival {
    said: &'static str,
    what: &'static str,
    done: fn(&LocalTask) -> bool,
}

/// Steps 1 and 2: a person's To Do list, bound to the local list `team` through a real
/// subscription. Returns the list's id.
async fn connect_todo_list(
    system: &LocalSystem,
    out: &mut impl Write,
) -> Result<String, LocalRunError> {
    let config = system.emulator.state.config.clone();
    let list_id = system
        .control
        .create_todo_list(&config.user_id, "Team tasks")
        .await?;
    writeln!(
        out,
        "1. A To Do list \"Team tasks\" exists for user {}",
        config.user_id
    )?;

    let binding = Binding::todo(TODO_BINDING, TODO_LIST, &config.user_id, &list_id);
    let expires = chrono::Utc::now() + chrono::Duration::minutes(4200);
    let subscription = connect_todo_binding(
        &system.graph,
        &system.store,
        &binding,
        &system.urls,
        &config.tenant_id,
        expires,
    )
    .await?;
    system
        .queue
        .send_hints(&[Hint::ResyncBinding {
            binding_id: binding.id.clone(),
            reason: "binding connected".to_owned(),
        }])
        .await?;
    writeln!(
        out,
        "2. Binding {:?}: local list {TODO_LIST:?} <-> that To Do list. Graph subscription {} \
         created after the emulator's validation handshake against the webhook; expires {}",
        binding.id, subscription.id, subscription.expires_at
    )?;
    Ok(list_id)
}

/// Steps 3 to 6: a person creates, renames, completes and deletes a task in To Do.
async fn person_edits(
    system: &LocalSystem,
    list_id: &str,
    timeout: Duration,
    out: &mut impl Write,
) -> Result<PersonEdits, LocalRunError> {
    let control = &system.control;
    let mut steps = Vec::new();
    let writes_before = system.graph.counters().task_writes();
    let created = control
        .create_todo_task(
            list_id,
            &json!({ "title": "Call the supplier", "body": { "content": "Ask about the delivery date", "contentType": "text" } }),
        )
        .await?;
    let task_id = graph_emulator::control_client::id_of(&created, "created task")?;
    let created = Arrival {
        said: "3. A person creates \"Call the supplier\" in To Do",
        what: "the new task",
        done: |t| t.title == "Call the supplier",
    };
    steps.push(arrives(system, &task_id, created, timeout, out).await?);

    let edits = [
        (
            Edit::Patch(json!({ "title": "Call the supplier today" })),
            Arrival {
                said: "4. The person renames it to \"Call the supplier today\"",
                what: "the rename",
                done: |t| t.title == "Call the supplier today",
            },
        ),
        (
            Edit::Patch(json!({ "status": "completed" })),
            Arrival {
                said: "5. The person completes it",
                what: "the completion",
                done: |t| t.status == TaskStatus::Completed,
            },
        ),
        (
            Edit::Delete,
            Arrival {
                said: "6. The person deletes it",
                what: "the deletion",
                done: |t| t.deleted,
            },
        ),
    ];
    for (edit, arrival) in edits {
        match edit {
            Edit::Patch(patch) => {
                control.update_todo_task(list_id, &task_id, &patch).await?;
            }
            Edit::Delete => control.delete_todo_task(list_id, &task_id).await?,
        }
        steps.push(arrives(system, &task_id, arrival, timeout, out).await?);
    }
    let echo = echoes(system, timeout, out).await?;
    Ok(PersonEdits {
        steps,
        graph_writes: system.graph.counters().task_writes() - writes_before,
        echo,
    })
}

/// Says what the person did, runs rounds until the person's task in list `team` shows it, and
/// shows the task as the task store holds it.
async fn arrives(
    system: &LocalSystem,
    task_id: &str,
    change: Arrival,
    timeout: Duration,
    out: &mut impl Write,
) -> Result<LocalTask, LocalRunError> {
    writeln!(out, "{}", change.said)?;
    let task = system
        .drive_until(change.what, timeout, out, || async {
            Ok(system.local(TODO_LIST, task_id).await?.filter(change.done))
        })
        .await?;
    show(&task, out)?;
    Ok(task)
}

/// Step 7: an application's agent writes the task store; the stream and the pipe carry the
/// change to To Do.
async fn agent_writes_to_todo(
    system: &LocalSystem,
    list_id: &str,
    timeout: Duration,
    out: &mut impl Write,
) -> Result<AgentWrite, LocalRunError> {
    let written = AgentChange {
        task: agent_task(
            TODO_LIST,
            "Order the spare parts",
            "Two pumps for site B",
            Priority::Important,
            "2026-12-03",
        ),
        said: format!(
            "7. The agent app:{AGENT} writes {TODO_LIST}/{AGENT_TASK} \"Order the spare parts\" \
             (important, due 2026-12-03) to the task store"
        ),
        what: "the agent's task in To Do",
    };
    let pair = paired(system, written, timeout, out).await?;
    let (remote_id, graph_writes) = (&pair.remote_id, pair.graph_writes);
    let remote = system
        .control
        .call(
            reqwest::Method::GET,
            &format!("/todo/lists/{list_id}/tasks/{remote_id}"),
            None,
        )
        .await?;
    writeln!(
        out,
        "   To Do: {remote_id} title={} importance={} due={} ({graph_writes} Graph write(s))",
        remote["title"], remote["importance"], remote["dueDateTime"]["dateTime"]
    )?;
    settled(system, pair, remote, Value::Null, timeout, out).await
}

/// Steps 8 and 9: a Planner plan bound to a second list. Planner has no change notifications
/// (the scheduler's sweeps find a person's edits there), but the agent's writes reach it the
/// same way.
async fn agent_writes_to_planner(
    system: &LocalSystem,
    timeout: Duration,
    out: &mut impl Write,
) -> Result<AgentWrite, LocalRunError> {
    let plan = system
        .control
        .call(
            reqwest::Method::POST,
            "/planner/plans",
            Some(&json!({ "title": "Operations" })),
        )
        .await?;
    let plan_id = plan["id"]
        .as_str()
        .ok_or(LocalRunError::Shape("a plan id"))?;
    let planner = Binding::planner(PLANNER_BINDING, PLANNER_LIST, plan_id);
    system.store.save_binding(&planner).await?;
    writeln!(
        out,
        "8. Binding {PLANNER_BINDING:?}: local list {PLANNER_LIST:?} <-> Planner plan \"Operations\""
    )?;
    let written = AgentChange {
        task: agent_task(
            PLANNER_LIST,
            "Service the pumps",
            "Check the pressure valves",
            Priority::Urgent,
            "2026-12-05",
        ),
        said: format!(
            "9. The agent writes {PLANNER_LIST}/{AGENT_TASK} \"Service the pumps\" (urgent, due \
             2026-12-05) to the task store"
        ),
        what: "the agent's task in Planner",
    };
    let pair = paired(system, written, timeout, out).await?;
    let (planner_id, graph_writes) = (&pair.remote_id, pair.graph_writes);
    let planner_api = system.observer.planner();
    let remote = serde_json::to_value(planner_api.get_task(planner_id).await?)
        .map_err(|_| LocalRunError::Shape("a Planner task"))?;
    let details = serde_json::to_value(planner_api.get_task_details(planner_id).await?)
        .map_err(|_| LocalRunError::Shape("Planner task details"))?;
    writeln!(
        out,
        "   Planner: {planner_id} title={} priority={} due={} description={} ({graph_writes} Graph write(s))",
        remote["title"], remote["priority"], remote["dueDateTime"], details["description"]
    )?;
    settled(system, pair, remote, details, timeout, out).await
}

/// A task the agent writes, what the demo says about it, and what the wait for its remote
/// copy is called.
struct AgentChange {
    task: LocalTask,
    said: String,
    what: &'static str,
}

/// The agent's task `AGENT_TASK` in `list`, due on `due` (`YYYY-MM-DD`).
fn agent_task(list: &str, title: &str, notes: &str, priority: Priority, due: &str) -> LocalTask {
    LocalTask {
        notes: notes.to_owned(),
        priority,
        due: TaskDate::parse(due),
        ..LocalTask::new(list, AGENT_TASK, title, Origin::App(AGENT.to_owned()))
    }
}

/// The agent's task once its pair is active.
struct Paired {
    /// As the agent wrote it.
    local: LocalTask,
    remote_id: String,
    /// What it cost until then.
    graph_writes: u64,
}

/// Writes the agent's task, says so, and runs rounds until its pair is active.
async fn paired(
    system: &LocalSystem,
    change: AgentChange,
    timeout: Duration,
    out: &mut impl Write,
) -> Result<Paired, LocalRunError> {
    let writes_before = system.graph.counters().task_writes();
    let local = agent_writes(system, change.task).await?;
    writeln!(out, "{}", change.said)?;
    let remote_id = system
        .drive_until(change.what, timeout, out, || async {
            system.remote_id(&local.list_id, AGENT_TASK).await
        })
        .await?;
    let graph_writes = system.graph.counters().task_writes() - writes_before;
    Ok(Paired {
        local,
        remote_id,
        graph_writes,
    })
}

/// Runs rounds until the echoes of the agent's write are done, and reports the step.
async fn settled(
    system: &LocalSystem,
    pair: Paired,
    remote: Value,
    details: Value,
    timeout: Duration,
    out: &mut impl Write,
) -> Result<AgentWrite, LocalRunError> {
    let echo = echoes(system, timeout, out).await?;
    Ok(AgentWrite {
        local: pair.local,
        remote,
        details,
        graph_writes: pair.graph_writes,
        echo,
    })
}

/// Runs rounds until the system is quiet again and shows what the echoes cost.
async fn echoes(
    system: &LocalSystem,
    timeout: Duration,
    out: &mut impl Write,
) -> Result<Settled, LocalRunError> {
    let echo = system.settle(timeout, out).await?;
    show_echo(&echo, out)?;
    Ok(echo)
}

/// An application writes a task as the README's contract says: read, change, version + 1,
/// origin `app:…`, conditional on the version read.
async fn agent_writes(system: &LocalSystem, task: LocalTask) -> Result<LocalTask, LocalRunError> {
    let current = system.local(&task.list_id, &task.id).await?;
    let written = LocalTask {
        version: current.as_ref().map_or(1, |c| c.version + 1),
        updated_at: chrono::Utc::now(),
        origin: Origin::App(AGENT.to_owned()),
        ..task
    };
    system
        .store
        .put_task_if_version(&written, current.map(|c| c.version))
        .await?;
    Ok(written)
}
