//! To Do's checklist: a sub-resource with one request per item and no ids of ours, so items are
//! paired by content (`sync::fields`, "To Do checklists") and only those that differ are written.

use serde_json::Value;

use crate::graph::models::{TodoChecklistItem, TodoChecklistItemWrite};
use crate::graph::{GraphClient, GraphError};
use crate::sync::fields::{checklist_entries, pair_checklists, todo_checklist_value};

/// To Do's checklist items in the side's form (`sync::fields`, "To Do checklists").
pub fn todo_checklist_of(items: &[TodoChecklistItem]) -> Value {
    let items: Vec<(String, bool)> = items
        .iter()
        .map(|i| (i.display_name.clone(), i.is_checked))
        .collect();
    todo_checklist_value(&items)
}

/// One checklist request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TodoChecklistOp {
    Create(TodoChecklistItemWrite),
    Update {
        id: String,
        patch: TodoChecklistItemWrite,
    },
    Delete {
        id: String,
    },
}

/// The requests that turn To Do's `current` items into `target` (a checklist value in any
/// form): one per item that differs, none for the others ([`pair_checklists`]).
pub fn todo_checklist_ops(current: &[TodoChecklistItem], target: &Value) -> Vec<TodoChecklistOp> {
    let have: Vec<(String, bool)> = current
        .iter()
        .map(|i| (i.display_name.clone(), i.is_checked))
        .collect();
    let want: Vec<(String, bool)> = checklist_entries(target)
        .into_iter()
        .map(|(_, title, checked)| (title, checked))
        .collect();
    let pairing = pair_checklists(&have, &want);
    let mut ops = Vec::new();
    for (ci, ti) in &pairing.pairs {
        if let (Some(item), Some((title, checked))) = (current.get(*ci), want.get(*ti)) {
            let patch = TodoChecklistItemWrite {
                display_name: (item.display_name != *title).then(|| title.clone()),
                is_checked: (item.is_checked != *checked).then_some(*checked),
            };
            if patch != TodoChecklistItemWrite::default() {
                ops.push(TodoChecklistOp::Update {
                    id: item.id.clone(),
                    patch,
                });
            }
        }
    }
    for ci in &pairing.removed {
        if let Some(item) = current.get(*ci) {
            ops.push(TodoChecklistOp::Delete {
                id: item.id.clone(),
            });
        }
    }
    for ti in &pairing.added {
        if let Some((title, checked)) = want.get(*ti) {
            ops.push(TodoChecklistOp::Create(TodoChecklistItemWrite {
                display_name: Some(title.clone()),
                is_checked: Some(*checked),
            }));
        }
    }
    ops
}

/// Applies `ops` to the task's checklist, returning the items as they are afterwards. An item
/// that vanished meanwhile (404 on its PATCH) means a person edited the checklist at the same
/// time: `Conflict`, so the caller reads both sides again and merges (a DELETE answered 404 is
/// done already).
pub(super) async fn apply_todo_checklist(
    graph: &GraphClient,
    (user, list): (&str, &str),
    task_id: &str,
    mut items: Vec<TodoChecklistItem>,
    ops: Vec<TodoChecklistOp>,
) -> Result<Vec<TodoChecklistItem>, GraphError> {
    let todo = graph.todo();
    for op in ops {
        match op {
            TodoChecklistOp::Create(write) => {
                items.push(
                    todo.create_checklist_item(user, list, task_id, &write)
                        .await?,
                );
            }
            TodoChecklistOp::Update { id, patch } => {
                let updated = match todo
                    .update_checklist_item(user, list, task_id, &id, &patch)
                    .await
                {
                    Err(GraphError::NotFound) => return Err(GraphError::Conflict { status: 404 }),
                    other => other?,
                };
                if let Some(slot) = items.iter_mut().find(|i| i.id == id) {
                    *slot = updated;
                }
            }
            TodoChecklistOp::Delete { id } => {
                match todo.delete_checklist_item(user, list, task_id, &id).await {
                    Ok(()) | Err(GraphError::NotFound) => {}
                    Err(e) => return Err(e),
                }
                items.retain(|i| i.id != id);
            }
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn todo_items(list: &[(String, bool)]) -> Vec<TodoChecklistItem> {
        list.iter()
            .enumerate()
            .map(|(i, (title, checked))| TodoChecklistItem {
                id: format!("x{i}"),
                display_name: title.clone(),
                is_checked: *checked,
                checked_date_time: None,
                created_date_time: None,
            })
            .collect()
    }

    /// What To Do holds after `ops` (the emulator's effect, without HTTP).
    fn applied(current: &[TodoChecklistItem], ops: &[TodoChecklistOp]) -> Vec<(String, bool)> {
        let mut items: Vec<TodoChecklistItem> = current.to_vec();
        for op in ops {
            match op {
                TodoChecklistOp::Create(w) => items.push(TodoChecklistItem {
                    id: "new".into(),
                    display_name: w.display_name.clone().unwrap_or_default(),
                    is_checked: w.is_checked.unwrap_or(false),
                    checked_date_time: None,
                    created_date_time: None,
                }),
                TodoChecklistOp::Update { id, patch } => {
                    let item = items.iter_mut().find(|i| &i.id == id).unwrap();
                    if let Some(t) = &patch.display_name {
                        item.display_name = t.clone();
                    }
                    if let Some(c) = patch.is_checked {
                        item.is_checked = c;
                    }
                }
                TodoChecklistOp::Delete { id } => items.retain(|i| &i.id != id),
            }
        }
        items
            .into_iter()
            .map(|i| (i.display_name, i.is_checked))
            .collect()
    }

    /// Items of `a` not matched by an equal item of `b` (multiset difference).
    fn minus(a: &[(String, bool)], b: &[(String, bool)]) -> usize {
        let mut rest = b.to_vec();
        a.iter()
            .filter(|x| match rest.iter().position(|y| y == *x) {
                Some(i) => {
                    rest.remove(i);
                    false
                }
                None => true,
            })
            .count()
    }

    #[test]
    fn a_check_off_is_one_patch_of_that_item_only() {
        let current = todo_items(&[("milk".into(), false), ("eggs".into(), false)]);
        let target = json!([
            {"id": "a", "title": "milk", "checked": true},
            {"id": "b", "title": "eggs", "checked": false}
        ]);
        assert_eq!(
            todo_checklist_ops(&current, &target),
            vec![TodoChecklistOp::Update {
                id: "x0".into(),
                patch: TodoChecklistItemWrite {
                    display_name: None,
                    is_checked: Some(true)
                }
            }]
        );
        assert!(todo_checklist_ops(&current, &todo_checklist_of(&current)).is_empty());
    }

    proptest! {
        #[test]
        fn checklist_ops_reach_the_target_with_one_request_per_differing_item(
            current in prop::collection::vec(("[a-c]{0,2}", any::<bool>()), 0..7),
            target in prop::collection::vec(("[a-c]{0,2}", any::<bool>()), 0..7),
        ) {
            let items = todo_items(&current);
            let target_value = todo_checklist_value(&target);
            let ops = todo_checklist_ops(&items, &target_value);
            prop_assert_eq!(todo_checklist_value(&applied(&items, &ops)), target_value);
            // Each request fixes at most one stale and one missing item: this is the least.
            prop_assert_eq!(ops.len(), minus(&current, &target).max(minus(&target, &current)));
        }
    }
}
