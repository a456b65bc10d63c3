//! The decision: a pure function from the two sides, the mapping and the binding's policies to a
//! [`Plan`]. Nothing here reads or writes anything, so a dry run can print the plan and the
//! tests can enumerate the cases (docs/sync-engine.md, "The decision table").

use serde_json::Value;

use super::echo::{local_is_echo, remote_is_echo};
use super::field_merge::{MergeFlags, merge};
use super::fields::{ALL_FIELDS, FieldMap, SideRules, local_fields};
use super::local_state::LocalState;
use super::mapping::{Mapping, MappingState};
use super::plan::{Merge, Plan, SkipReason};
use super::remote::RemoteTask;
use crate::model::{Binding, LocalTask, Origin, TaskStatus};

/// Decides what to do with one pair.
pub fn reconcile(
    binding: &Binding,
    rules: &SideRules,
    local: &LocalState,
    remote: Option<&RemoteTask>,
    mapping: Option<&Mapping>,
) -> Plan {
    if let LocalState::Invalid(reason) = local {
        return Plan::RecordInvalid {
            reason: reason.clone(),
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
    local: &LocalState,
    remote: Option<&RemoteTask>,
) -> Plan {
    let direction = binding.direction;
    match (local, remote) {
        (LocalState::Present(task), Some(remote)) if !task.deleted => {
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
        (LocalState::Present(task), None) if !task.deleted => {
            if task.status == TaskStatus::Completed && !binding.import_completed {
                Plan::Skip {
                    why: SkipReason::CompletedBeforeFirstSync,
                }
            } else if !direction.writes_remote() {
                Plan::Skip {
                    why: SkipReason::DirectionToLocalOnly,
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
            } else if matches!(local, LocalState::Present(_)) {
                Plan::Nothing {
                    why: "the local task of this id was deleted before it was ever mapped",
                }
            } else if remote.created_by_this_app {
                // Importing it would give the local task a second remote copy; the retry of
                // its create adopts it instead.
                Plan::Skip {
                    why: SkipReason::LeftForItsCreate,
                }
            } else if remote.is_completed() && !binding.import_completed {
                Plan::Skip {
                    why: SkipReason::CompletedBeforeFirstSync,
                }
            } else if !direction.writes_local() {
                Plan::Skip {
                    why: SkipReason::DirectionToRemoteOnly,
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
    local: &LocalState,
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
                    LocalState::Present(t) => local_fields(t),
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

/// The base of a pair whose remote task was created from the local one: the remote values as
/// the local side would hold them, so that local edits made since show as changes.
pub(super) fn adoption_base_remote_copy(
    rules: &SideRules,
    task: &LocalTask,
    remote: &RemoteTask,
) -> FieldMap {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::models::CalendarZone;
    use crate::model::RemoteKind;
    use crate::sync::fields::Field;
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
            reconcile(&binding, &rules, &LocalState::Missing, Some(&ours), None),
            Plan::Skip {
                why: SkipReason::LeftForItsCreate
            }
        );
        let persons = unmarked(false);
        assert!(matches!(
            reconcile(&binding, &rules, &LocalState::Missing, Some(&persons), None),
            Plan::CreateLocal { .. }
        ));
    }
}
