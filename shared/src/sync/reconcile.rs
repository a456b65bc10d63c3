//! The decision: a pure function from the two sides, the mapping and the binding's policies to a
//! [`Plan`]. Nothing here reads or writes anything, so a dry run can print the plan and the
//! tests can enumerate the cases (docs/sync-engine.md, "The decision table").

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::fields::{ALL_FIELDS, Field, FieldMap, SideRules, local_fields, progress_parts};
use super::mapping::{Conflict, Mapping, MappingState, Side};
use crate::model::{Binding, ConflictPolicy, Direction, LocalTask, Origin, TaskStatus};

/// A remote task as the engine sees it: normalised fields (only those its kind represents),
/// ETags, and the marker of the local task it was created for, if tasksync created it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteTask {
    pub id: String,
    pub fields: FieldMap,
    pub task_etag: Option<String>,
    pub details_etag: Option<String>,
    /// To Do's `lastModifiedDateTime`; Planner has none.
    pub last_modified: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The local id in the creation marker.
    pub marker: Option<String>,
    /// When the remote side says it was created (Planner's `createdDateTime`, §2.1).
    pub created_at: Option<DateTime<Utc>>,
    /// Created by this application (Planner's `createdBy.application.id` is our client id).
    /// Unmarked, such a task can only be a create of ours whose answer or record was lost
    /// (docs/sync-engine.md, "Crash points and races"): it is left for that create to adopt.
    pub created_by_this_app: bool,
}

/// Why an unmapped, unmarked task this application created is not imported.
pub const LEFT_FOR_ITS_CREATE: &str = "an unmarked task this application created: the orphan of a create whose answer was lost, left for that create's retry to adopt";

impl RemoteTask {
    fn is_completed(&self) -> bool {
        self.fields
            .get(&Field::Progress)
            .is_some_and(|p| progress_parts(p).0 == TaskStatus::Completed)
    }
}

/// The local side of a pair.
#[derive(Debug, Clone, Copy)]
pub enum LocalSide<'a> {
    /// No item with that key.
    Missing,
    /// The item breaks the public contract; the reason names the attribute.
    Invalid(&'a str),
    /// The item (possibly soft-deleted).
    Present(&'a LocalTask),
}

impl<'a> LocalSide<'a> {
    fn alive(&self) -> Option<&'a LocalTask> {
        match self {
            LocalSide::Present(t) if !t.deleted => Some(t),
            _ => None,
        }
    }
}

/// What must happen for the two sides to agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "plan", rename_all = "snake_case")]
pub enum Plan {
    /// Both sides agree (or the change is an echo of the sync's own write).
    Nothing { why: &'static str },
    /// Deliberately not synced (completed before the first import, the binding's direction).
    Skip { why: String },
    /// The local item breaks the contract: record why, sync nothing.
    RecordInvalid { reason: String },
    /// Create the remote task (claim first, marker, then record). `fields` are the local ones.
    CreateRemote { fields: FieldMap },
    /// Create the local item for a remote-born task; `fields` are local values.
    CreateLocal { fields: FieldMap },
    /// Bring both sides to the merged values.
    Merge(Merge),
    /// The remote task is gone and the local one was not changed since: soft-delete it.
    DeleteLocal,
    /// The local task is gone and the remote one was not changed since: delete it.
    DeleteRemote,
    /// Both sides are gone: mark the mapping deleted.
    Forget,
}

/// The writes of a merge. Empty parts are not written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Merge {
    /// No active mapping yet: this merge records a new one (adoption of an existing pair).
    pub link: bool,
    /// The remote task is the one this pair's create made (its id is in the claim) but it has
    /// no marker yet: the create stopped between Planner's POST and its details write. The
    /// patch goes with the marker, which finishes the create (docs/sync-engine.md, "Crash
    /// points").
    pub mark: bool,
    /// The full merged local fields, when the local item must be written.
    pub local: Option<FieldMap>,
    /// The local item was deleted but the remote changed since: bring it back.
    pub undelete_local: bool,
    /// Side-canonical values to send to the remote task.
    pub remote_patch: FieldMap,
    /// The new base.
    pub base: FieldMap,
    pub conflicts: Vec<Conflict>,
}

/// Decides what to do with one pair.
pub fn reconcile(
    binding: &Binding,
    rules: &SideRules,
    local: LocalSide<'_>,
    remote: Option<&RemoteTask>,
    mapping: Option<&Mapping>,
) -> Plan {
    if let LocalSide::Invalid(reason) = local {
        return Plan::RecordInvalid {
            reason: reason.to_owned(),
        };
    }
    let direction = binding.direction;
    match mapping.map(|m| m.state) {
        None => unmapped(binding, rules, local, remote),
        Some(MappingState::Creating) => match (local.alive(), remote) {
            (Some(task), Some(remote)) => {
                let base = adoption_base_remote_copy(rules, task, remote);
                let mut merged = merge(
                    binding,
                    rules,
                    task,
                    remote,
                    &base,
                    true,
                    MergeFlags::default(),
                );
                merged.mark = remote.marker.is_none();
                Plan::Merge(merged)
            }
            (Some(task), None) => Plan::CreateRemote {
                fields: local_fields(task),
            },
            (None, Some(_)) => Plan::DeleteRemote,
            (None, None) => Plan::Forget,
        },
        Some(MappingState::Deleted) => {
            let Some(m) = mapping else {
                return Plan::Nothing { why: "no mapping" };
            };
            match (local.alive(), remote) {
                (Some(task), _) if task.version > m.local_version && direction.writes_remote() => {
                    Plan::CreateRemote {
                        fields: local_fields(task),
                    }
                }
                (None, Some(_)) if direction.writes_remote() => Plan::DeleteRemote,
                _ => Plan::Nothing {
                    why: "the pair was deleted",
                },
            }
        }
        Some(MappingState::Active) => {
            let Some(m) = mapping else {
                return Plan::Nothing { why: "no mapping" };
            };
            active(binding, rules, local, remote, m)
        }
    }
}

fn unmapped(
    binding: &Binding,
    rules: &SideRules,
    local: LocalSide<'_>,
    remote: Option<&RemoteTask>,
) -> Plan {
    let direction = binding.direction;
    match (local, remote) {
        (LocalSide::Present(task), Some(remote)) if !task.deleted => {
            // A pair without a mapping: a crash between a create and its record. The copy is
            // the side that was created from the other, so it counts as unchanged.
            let created_from_local = remote.marker.as_deref() == Some(task.id.as_str());
            let base = if created_from_local {
                adoption_base_remote_copy(rules, task, remote)
            } else {
                local_fields(task)
            };
            Plan::Merge(merge(
                binding,
                rules,
                task,
                remote,
                &base,
                true,
                MergeFlags::default(),
            ))
        }
        (LocalSide::Present(task), None) if !task.deleted => {
            if task.status == TaskStatus::Completed && !binding.import_completed {
                Plan::Skip {
                    why: "completed before it was ever synced (the binding does not import completed tasks)".to_owned(),
                }
            } else if !direction.writes_remote() {
                Plan::Skip {
                    why: "binding syncs to_local only".to_owned(),
                }
            } else {
                Plan::CreateRemote {
                    fields: local_fields(task),
                }
            }
        }
        (_, Some(remote)) => {
            if remote.marker.is_some() {
                // Created by tasksync for a local task that is gone now.
                if direction.writes_remote() {
                    Plan::DeleteRemote
                } else {
                    Plan::Nothing {
                        why: "created for a local task that is gone; direction keeps it",
                    }
                }
            } else if matches!(local, LocalSide::Present(_)) {
                Plan::Nothing {
                    why: "the local task of this id was deleted before it was ever mapped",
                }
            } else if remote.created_by_this_app {
                // Importing it would give the local task a second remote copy; the retry of
                // its create adopts it instead.
                Plan::Skip {
                    why: LEFT_FOR_ITS_CREATE.to_owned(),
                }
            } else if remote.is_completed() && !binding.import_completed {
                Plan::Skip {
                    why: "completed before it was ever synced (the binding does not import completed tasks)".to_owned(),
                }
            } else if !direction.writes_local() {
                Plan::Skip {
                    why: "binding syncs to_remote only".to_owned(),
                }
            } else {
                Plan::CreateLocal {
                    fields: local_from_remote(rules, remote),
                }
            }
        }
        _ => Plan::Nothing {
            why: "neither side has the task",
        },
    }
}

fn active(
    binding: &Binding,
    rules: &SideRules,
    local: LocalSide<'_>,
    remote: Option<&RemoteTask>,
    m: &Mapping,
) -> Plan {
    let direction = binding.direction;
    let flags = MergeFlags {
        local_echo: local_is_echo(local, m),
        remote_echo: remote.is_some_and(|r| remote_is_echo(r, m)),
    };
    match (local.alive(), remote) {
        (Some(task), Some(remote)) => {
            let merge = merge(binding, rules, task, remote, &m.base, false, flags);
            if merge.local.is_none()
                && merge.remote_patch.is_empty()
                && merge.base == m.base
                && m.last_error.is_none()
            {
                Plan::Nothing {
                    why: if flags.local_echo || flags.remote_echo {
                        "echo of the sync's own write"
                    } else {
                        "both sides agree"
                    },
                }
            } else {
                Plan::Merge(merge)
            }
        }
        (Some(task), None) => {
            let changed = !flags.local_echo && local_fields(task) != m.base;
            if !direction.writes_local() || (changed && direction.writes_remote()) {
                // Modify beats delete; or the local side is the source.
                Plan::CreateRemote {
                    fields: local_fields(task),
                }
            } else {
                Plan::DeleteLocal
            }
        }
        (None, Some(remote)) => {
            let changed = !flags.remote_echo
                && ALL_FIELDS.iter().any(|f| {
                    remote.fields.get(f).is_some_and(|r| {
                        m.base.get(f).and_then(|b| rules.canon(*f, b)).as_ref() != Some(r)
                    })
                });
            if !direction.writes_remote() || (changed && direction.writes_local()) {
                let previous = match local {
                    LocalSide::Present(t) => local_fields(t),
                    _ => m.base.clone(),
                };
                let mut fields = previous.clone();
                for (f, r) in &remote.fields {
                    let l = previous.get(f).cloned().unwrap_or(Value::Null);
                    fields.insert(*f, rules.absorb(*f, &l, r));
                }
                Plan::Merge(Merge {
                    link: false,
                    mark: false,
                    local: Some(fields.clone()),
                    undelete_local: true,
                    remote_patch: FieldMap::new(),
                    base: fields,
                    conflicts: Vec::new(),
                })
            } else {
                Plan::DeleteRemote
            }
        }
        (None, None) => Plan::Forget,
    }
}

/// The sync wrote this local item and nobody wrote it since (DESIGN.md principle 4).
pub fn local_is_echo(local: LocalSide<'_>, m: &Mapping) -> bool {
    match local {
        LocalSide::Present(t) => t.origin == Origin::Sync && t.version == m.local_version,
        _ => false,
    }
}

/// The remote task is exactly as the sync last wrote or read it.
pub fn remote_is_echo(remote: &RemoteTask, m: &Mapping) -> bool {
    remote.task_etag.is_some()
        && remote.task_etag == m.task_etag
        && (remote.details_etag.is_none() || remote.details_etag == m.details_etag)
}

#[derive(Debug, Clone, Copy, Default)]
struct MergeFlags {
    local_echo: bool,
    remote_echo: bool,
}

/// The base of a pair whose remote task was created from the local one: the remote values as
/// the local side would hold them, so that local edits made since show as changes.
fn adoption_base_remote_copy(rules: &SideRules, task: &LocalTask, remote: &RemoteTask) -> FieldMap {
    let mut base = local_fields(task);
    for (f, r) in &remote.fields {
        if let Some(l) = base.get(f).cloned() {
            base.insert(*f, rules.absorb(*f, &l, r));
        }
    }
    base
}

/// Local field values for a remote-born task.
pub fn local_from_remote(rules: &SideRules, remote: &RemoteTask) -> FieldMap {
    let mut fields = local_fields(&LocalTask::new("", "", "", Origin::Sync));
    for (f, r) in &remote.fields {
        let l = fields.get(f).cloned().unwrap_or(Value::Null);
        fields.insert(*f, rules.absorb(*f, &l, r));
    }
    fields
}

/// The per-field three-way merge (DESIGN.md principle 2).
fn merge(
    binding: &Binding,
    rules: &SideRules,
    task: &LocalTask,
    remote: &RemoteTask,
    base: &crate::sync::fields::FieldMap,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::models::CalendarZone;
    use crate::model::RemoteKind;
    use serde_json::json;

    fn unmarked(created_by_this_app: bool) -> RemoteTask {
        RemoteTask {
            id: "r1".into(),
            fields: FieldMap::from([(Field::Title, json!("Move the servers"))]),
            task_etag: Some("e".into()),
            details_etag: Some("d".into()),
            last_modified: None,
            completed_at: None,
            marker: None,
            created_at: None,
            created_by_this_app,
        }
    }

    #[test]
    fn an_unmarked_task_of_this_app_is_never_imported_a_person_s_is() {
        let binding = Binding::planner("b", "list", "plan");
        let rules = SideRules::new(RemoteKind::Planner, CalendarZone::utc());
        let ours = unmarked(true);
        assert_eq!(
            reconcile(&binding, &rules, LocalSide::Missing, Some(&ours), None),
            Plan::Skip {
                why: LEFT_FOR_ITS_CREATE.to_owned()
            }
        );
        let persons = unmarked(false);
        assert!(matches!(
            reconcile(&binding, &rules, LocalSide::Missing, Some(&persons), None),
            Plan::CreateLocal { .. }
        ));
    }
}
