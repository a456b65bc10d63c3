//! What `tasksync local demo` prints as it goes: the parts it started, what each round moved, the
//! task store's view of a task, what the echoes cost, and the Graph calls tasksync made.

use std::io::Write;

use tasksync::graph::GraphClient;
use tasksync::model::LocalTask;

use super::system::{Round, Settled};
use super::{LocalRunError, LocalSystem};

/// The parts the demo runs, and which are real.
pub(super) fn banner(system: &LocalSystem, out: &mut impl Write) -> Result<(), LocalRunError> {
    writeln!(
        out,
        "tasksync local demo: the walk-through, on in-memory stores (tasksync local runs the system)"
    )?;
    writeln!(out, "  Graph emulator  {}", system.emulator.graph_base_url)?;
    writeln!(
        out,
        "  webhook         {} (real handler over HTTP)",
        system.urls.notification_url
    )?;
    writeln!(
        out,
        "  worker          real handler, fed SQS events from the in-memory queue"
    )?;
    writeln!(
        out,
        "  pipe            every task-store write → the template's local_task hint"
    )?;
    writeln!(
        out,
        "  stores, queue   in memory (same adapter contract as DynamoDB and SQS)"
    )?;
    writeln!(out)?;
    Ok(())
}

/// What one round moved, when it moved anything: quiet rounds print nothing.
pub(super) fn report_round(round: &Round, out: &mut impl Write) -> Result<(), LocalRunError> {
    if round.forwarded > 0 {
        writeln!(
            out,
            "   pipe: {} task-store write(s) → local_task hint(s)",
            round.forwarded
        )?;
    }
    if round.pumped.received > 0 {
        writeln!(
            out,
            "   worker: {} message(s) from the queue, {} done, {} to retry",
            round.pumped.received, round.pumped.succeeded, round.pumped.failed
        )?;
    }
    Ok(())
}

/// The task as the task store holds it, with what the sync wrote (version, origin).
pub(super) fn show(task: &LocalTask, out: &mut impl Write) -> Result<(), LocalRunError> {
    writeln!(
        out,
        "   task store: {}/{} title={:?} status={} version={} origin={} deleted={}",
        task.list_id,
        task.id,
        task.title,
        task.status.as_str(),
        task.version,
        tasksync::store::item::origin_text(&task.origin),
        task.deleted
    )?;
    Ok(())
}

/// What the echoes of a change cost: the point of the demo is that they write nothing.
pub(super) fn show_echo(echo: &Settled, out: &mut impl Write) -> Result<(), LocalRunError> {
    writeln!(
        out,
        "   echoes: {} message(s) handled afterwards, {} Graph call(s), {} Graph write(s)",
        echo.messages, echo.graph_calls, echo.graph_writes
    )?;
    Ok(())
}

/// Every Graph call of the worker's client, by operation and outcome.
pub(super) fn graph_calls(graph: &GraphClient, out: &mut impl Write) -> Result<(), LocalRunError> {
    writeln!(out)?;
    writeln!(out, "Graph calls made by tasksync:")?;
    for ((operation, outcome), count) in graph.counters().snapshot() {
        writeln!(out, "  {operation:<28} {:<10} {count}", outcome.as_str())?;
    }
    Ok(())
}
