//! The per-field three-way merge: local and remote against the base, field by field, with the
//! binding's conflict policy and the fields a person protected (docs/sync-engine.md, "The
//! decision table").

use std::collections::BTreeSet;

use serde_json::Value;

use super::fields::{ALL_FIELDS, Field, FieldMap, SideRules, local_fields};
use super::mapping::{Conflict, Side};
use super::plan::Merge;
use super::remote::RemoteTask;
use crate::model::{Binding, ConflictPolicy, Direction, LocalTask};

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct MergeFlags {
    pub local_echo: bool,
    pub remote_echo: bool,
}

/// The per-field three-way merge (docs/architecture.md principle 2).
pub(super) fn merge(
    binding: &Binding,
    rules: &SideRules,
    task: &LocalTask,
    remote: &RemoteTask,
    base: &FieldMap,
    link: bool,
    flags: MergeFlags,
) -> Merge {
    let local = local_fields(task);
    let protected: BTreeSet<Field> = task
        .protected_fields
        .iter()
        .filter_map(|n| Field::from_item_name(n))
        .collect();
    let mut merged = local.clone();
    let mut new_base = FieldMap::new();
    let mut remote_patch = FieldMap::new();
    let mut conflicts = Vec::new();
    for field in ALL_FIELDS {
        let l = local.get(&field).cloned().unwrap_or(Value::Null);
        let b = base.get(&field);
        let Some(r) = remote.fields.get(&field) else {
            // This side cannot hold the field: the local value stands and nothing is sent.
            new_base.insert(field, l);
            continue;
        };
        let canon_l = rules.canon(field, &l);
        let local_changed = !flags.local_echo && b != Some(&l);
        let remote_changed =
            !flags.remote_echo && b.and_then(|b| rules.canon(field, b)).as_ref() != Some(r);
        let agree = canon_l.as_ref() == Some(r);
        let pinned = protected.contains(&field);
        // Both sides edited different items of a checklist: both edits survive.
        if !agree
            && !pinned
            && local_changed
            && remote_changed
            && binding.direction == Direction::Both
            && let Some(both) = b.and_then(|b| rules.merge_items(field, b, &l, r))
        {
            if let Some(c) = rules.canon(field, &both).filter(|c| c != r) {
                remote_patch.insert(field, c);
            }
            merged.insert(field, both.clone());
            new_base.insert(field, both);
            continue;
        }
        // Who wins when the values differ: None means "leave both as they are".
        let winner: Option<(Side, &str)> = if agree {
            None
        } else if pinned {
            Some((Side::Local, "protected"))
        } else {
            match (local_changed, remote_changed, binding.direction) {
                (false, false, _) => None,
                (true, false, Direction::ToLocal) => None,
                (false, true, Direction::ToRemote) => None,
                (true, false, _) => Some((Side::Local, "changed")),
                (false, true, _) => Some((Side::Remote, "changed")),
                (true, true, Direction::ToRemote) => Some((Side::Local, "direction")),
                (true, true, Direction::ToLocal) => Some((Side::Remote, "direction")),
                (true, true, Direction::Both) => Some(policy_winner(binding, task, remote)),
            }
        };
        match winner {
            None => {
                // Agreement, or a one-sided change the direction does not carry: keep the old
                // base for the latter so it still shows as a change later.
                if agree || (!local_changed && !remote_changed) {
                    new_base.insert(field, l);
                } else {
                    new_base.insert(field, b.cloned().unwrap_or(l));
                }
            }
            Some((Side::Local, rule)) => {
                if let Some(c) = canon_l
                    && binding.direction.writes_remote()
                {
                    remote_patch.insert(field, c);
                }
                if local_changed && remote_changed {
                    conflicts.push(Conflict {
                        field,
                        local: l.clone(),
                        remote: r.clone(),
                        winner: Side::Local,
                        rule: rule.to_owned(),
                    });
                }
                new_base.insert(field, l);
            }
            Some((Side::Remote, rule)) => {
                let absorbed = rules.absorb(field, &l, r);
                if local_changed && remote_changed {
                    conflicts.push(Conflict {
                        field,
                        local: l.clone(),
                        remote: r.clone(),
                        winner: Side::Remote,
                        rule: rule.to_owned(),
                    });
                }
                merged.insert(field, absorbed.clone());
                new_base.insert(field, absorbed);
            }
        }
    }
    Merge {
        link,
        mark: false,
        local: (merged != local).then_some(merged),
        undelete_local: false,
        remote_patch,
        base: new_base,
        conflicts,
    }
}

fn policy_winner(binding: &Binding, task: &LocalTask, remote: &RemoteTask) -> (Side, &'static str) {
    match binding.conflict_policy {
        ConflictPolicy::RemoteWins => (Side::Remote, "remote_wins"),
        ConflictPolicy::LocalWins => (Side::Local, "local_wins"),
        ConflictPolicy::Newer => match remote.last_modified {
            Some(at) if at > task.updated_at => (Side::Remote, "newer"),
            Some(_) => (Side::Local, "newer"),
            // Planner keeps no modification time: fall back to the remote side.
            None => (Side::Remote, "newer_fallback_remote"),
        },
    }
}
