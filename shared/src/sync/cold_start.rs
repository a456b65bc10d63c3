//! Cold-start matching: a binding's first sync over a local list and a container that both hold
//! tasks already. After the mappings and the markers have paired what they can, the tasks left
//! unmapped on both sides are paired by their normalised title (and notes), so the first sync
//! links a task that exists on both sides instead of copying each into the other side.
//!
//! Only while the binding's `first_sync_pending` is set (`tasksync bindings add` sets it, the
//! first completed sync clears it): later, a task someone creates with the title of another is a
//! new task, never silently merged with it (docs/bindings.md, "Cold-start matching").
//!
//! Rules:
//! - a title is compared trimmed, with runs of white space made one space, case-folded; an empty
//!   title matches nothing;
//! - candidates: unmapped local tasks (not deleted, no marker on the remote side names them) and
//!   unmapped remote tasks without a marker that a person made (never one this application
//!   created: that is an orphan of a lost create, left for its adoption). Completed tasks are
//!   candidates too: linking writes no task, and pairing them keeps a completed copy from being
//!   created beside an open one;
//! - several tasks of one title: one to one, first those whose notes are equal too, then the
//!   rest in order (local by id, remote oldest first); what is left over on either side is
//!   created or imported as any unmapped task (so each side ends with as many tasks of that
//!   title as the fuller side had, never more);
//! - a matched pair takes, field by field, the values of the side its conflict policy names
//!   (`newer`: the later modified side; Planner has no modification time: remote), except that
//!   an empty value never erases a filled one (a person's task without notes keeps the agent's
//!   notes).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::failure::SyncFailure;
use super::field_merge::{MergeFlags, merge};
use super::fields::{Field, local_fields};
use super::local_state::LocalState;
use super::plan::Plan;
use super::reconcile::adoption_base_remote_copy;
use super::remote::RemoteTask;
use super::scope::Scope;
use crate::model::{ConflictPolicy, LocalTask};
use crate::ports::MappingStore;

/// Remote task id → local task id, for the tasks the first sync pairs by title. Empty once the
/// binding's first sync completed.
pub(crate) async fn matches<S: MappingStore, T>(
    scope: &Scope<'_, S, T>,
    remote: &[RemoteTask],
    locals: &BTreeMap<String, LocalState>,
) -> Result<BTreeMap<String, String>, SyncFailure> {
    if !scope.binding.first_sync_pending {
        return Ok(BTreeMap::new());
    }
    let marked: BTreeSet<&str> = remote.iter().filter_map(|t| t.marker.as_deref()).collect();
    let mut remotes = Vec::new();
    for task in remote {
        if task.marker.is_some() || task.created_by_this_app || locals.contains_key(&task.id) {
            continue;
        }
        let mapped = scope
            .sync
            .mapping_by_remote(scope.binding.remote, &task.id)
            .await?;
        if mapped.is_none() {
            remotes.push(task);
        }
    }
    let mut candidates = Vec::new();
    for (id, state) in locals {
        let LocalState::Present(task) = state else {
            continue;
        };
        if task.deleted || marked.contains(id.as_str()) {
            continue;
        }
        let mapped = scope
            .sync
            .mapping_by_local(&scope.binding.local_list_id, id)
            .await?;
        if mapped.is_none() {
            candidates.push(task);
        }
    }
    Ok(pair_by_title(&candidates, remotes))
}

/// The pairing itself, pure (see the module's rules).
pub fn pair_by_title(
    locals: &[&LocalTask],
    mut remotes: Vec<&RemoteTask>,
) -> BTreeMap<String, String> {
    remotes.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    let mut by_title: BTreeMap<String, (Vec<&LocalTask>, Vec<&RemoteTask>)> = BTreeMap::new();
    for task in locals {
        if let Some(title) = normalised(&task.title) {
            by_title.entry(title).or_default().0.push(task);
        }
    }
    for task in remotes {
        if let Some(title) = remote_text(task, Field::Title)
            .as_deref()
            .and_then(normalised)
        {
            by_title.entry(title).or_default().1.push(task);
        }
    }
    let mut pairs = BTreeMap::new();
    for (mut locals, mut remotes) in by_title.into_values() {
        locals.sort_by(|a, b| a.id.cmp(&b.id));
        // Equal notes first, then the rest in order.
        let mut rest = Vec::new();
        for local in locals {
            let notes = normalised(&local.notes);
            let same = remotes.iter().position(|r| {
                remote_text(r, Field::Notes).as_deref().and_then(normalised) == notes
            });
            match same {
                Some(i) => {
                    pairs.insert(remotes.remove(i).id.clone(), local.id.clone());
                }
                None => rest.push(local),
            }
        }
        for (local, remote) in rest.into_iter().zip(remotes) {
            pairs.insert(remote.id.clone(), local.id.clone());
        }
    }
    pairs
}

/// The plan of a pair matched by title: a merge that links it, with a base chosen field by
/// field so the side the conflict policy names wins every field the two sides hold differently,
/// except that an empty value (no notes, no due day, no categories) never erases a filled one.
pub(crate) fn plan<S, T>(scope: &Scope<'_, S, T>, task: &LocalTask, remote: &RemoteTask) -> Plan {
    let local_wins = match scope.binding.conflict_policy {
        ConflictPolicy::LocalWins => true,
        ConflictPolicy::RemoteWins => false,
        ConflictPolicy::Newer => remote.last_modified.is_some_and(|at| task.updated_at > at),
    };
    // A field the local side wins has the remote value as its base (only local changed), and
    // the other way round.
    let local = local_fields(task);
    let remote_copy = adoption_base_remote_copy(&scope.rules, task, remote);
    let base = local
        .iter()
        .map(|(field, local_value)| {
            let remote_value = remote_copy.get(field).unwrap_or(local_value);
            let local_wins = match (is_empty(local_value), is_empty(remote_value)) {
                (true, false) => false,
                (false, true) => true,
                _ => local_wins,
            };
            let value = if local_wins {
                remote_value
            } else {
                local_value
            };
            (*field, value.clone())
        })
        .collect();
    Plan::Merge(merge(
        scope.binding,
        &scope.rules,
        task,
        remote,
        &base,
        true,
        MergeFlags::default(),
    ))
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn remote_text(task: &RemoteTask, field: Field) -> Option<String> {
    match task.fields.get(&field) {
        Some(Value::String(text)) => Some(text.clone()),
        _ => None,
    }
}

/// Trimmed, white space collapsed, case-folded; `None` when nothing is left.
fn normalised(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    (!words.is_empty()).then(|| words.join(" ").to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Origin;
    use crate::sync::fields::FieldMap;
    use serde_json::json;

    fn remote(id: &str, title: &str, notes: &str, secs: i64) -> RemoteTask {
        RemoteTask {
            id: id.into(),
            fields: FieldMap::from([(Field::Title, json!(title)), (Field::Notes, json!(notes))]),
            task_etag: None,
            details_etag: None,
            last_modified: None,
            completed_at: None,
            marker: None,
            created_at: chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0),
            created_by_this_app: false,
        }
    }

    fn local(id: &str, title: &str, notes: &str) -> LocalTask {
        let mut task = LocalTask::new("list", id, title, Origin::App("t".into()));
        task.notes = notes.into();
        task
    }

    #[test]
    fn titles_match_normalised_one_to_one_equal_notes_first_and_leftovers_stay_unpaired() {
        let locals = [
            local("a", "  Buy   MILK ", ""),
            local("b", "Buy milk", "oat"),
            local("c", "Buy milk", ""),
            local("d", "Call Bob", ""),
            local("e", "", ""),
        ];
        let remotes = [
            remote("r1", "buy milk", "", 1),
            remote("r2", "Buy milk", "OAT", 2),
            remote("r3", "Write report", "", 0),
            remote("r4", " ", "", 0),
        ];
        let pairs = pair_by_title(&locals.iter().collect::<Vec<_>>(), remotes.iter().collect());
        assert_eq!(
            pairs,
            BTreeMap::from([
                ("r1".to_owned(), "a".to_owned()),
                ("r2".to_owned(), "b".to_owned()),
            ])
        );
    }
}
