//! Properties of the merge over generated tasks, edits and policies.

use super::*;

fn date_strategy() -> impl Strategy<Value = Option<TaskDate>> {
    prop_oneof![
        Just(None),
        (1u32..28).prop_map(|d| Some(TaskDate::Day(NaiveDate::from_ymd_opt(2026, 3, d).unwrap()))),
        (0i64..3).prop_map(|h| Some(TaskDate::Instant(at(1_772_000_000 + h * 3_600)))),
    ]
}

fn task_strategy() -> impl Strategy<Value = LocalTask> {
    (
        prop::sample::select(vec!["A", "B", "C"]),
        prop::sample::select(vec!["", "n1", "n2"]),
        prop::sample::select(vec![
            TaskStatus::NotStarted,
            TaskStatus::InProgress,
            TaskStatus::Completed,
        ]),
        prop::option::of(0u8..=100),
        prop::sample::select(vec![
            Priority::Urgent,
            Priority::Important,
            Priority::Medium,
            Priority::Low,
        ]),
        date_strategy(),
        date_strategy(),
        prop::sample::subsequence(vec!["u1", "u2"], 0..=2),
        prop::sample::subsequence(vec!["category1", "category2", "label"], 0..=3),
        prop::collection::vec(any::<bool>(), 0..3),
        prop::option::of(prop::sample::select(vec!["b1", "b2"])),
    )
        .prop_map(
            |(
                title,
                notes,
                status,
                percent,
                priority,
                due,
                start,
                assignees,
                cats,
                checks,
                bucket,
            )| {
                LocalTask {
                    notes: notes.into(),
                    status,
                    percent_complete: percent,
                    priority,
                    due,
                    start,
                    assignees: assignees.into_iter().map(str::to_owned).collect(),
                    categories: cats.into_iter().map(str::to_owned).collect(),
                    checklist: checks
                        .iter()
                        .enumerate()
                        .map(|(i, c)| ChecklistItem {
                            id: format!("c{i}"),
                            title: format!("item {i}"),
                            checked: *c,
                        })
                        .collect(),
                    bucket: bucket.map(str::to_owned),
                    ..task(title)
                }
            },
        )
}

fn kind_strategy() -> impl Strategy<Value = RemoteKind> {
    prop_oneof![Just(RemoteKind::Todo), Just(RemoteKind::Planner)]
}

fn policy_strategy() -> impl Strategy<Value = ConflictPolicy> {
    prop_oneof![
        Just(ConflictPolicy::RemoteWins),
        Just(ConflictPolicy::LocalWins),
        Just(ConflictPolicy::Newer)
    ]
}

/// Takes the fields selected by `mask` from `edit`, the rest from `base`.
fn mix(base: &FieldMap, edit: &FieldMap, mask: &[bool]) -> FieldMap {
    ALL_FIELDS
        .iter()
        .zip(mask)
        .map(|(f, take)| {
            let source = if *take { edit } else { base };
            (*f, source.get(f).cloned().unwrap_or(Value::Null))
        })
        .collect()
}

fn local_with(base: &LocalTask, fields: &FieldMap, version: u64) -> LocalTask {
    let mut t = base.clone();
    apply_to_local(&mut t, fields, None);
    // `apply_to_local` makes the percentage explicit; keep the one the edit had.
    t.version = version;
    t
}

#[derive(Debug)]
struct Case {
    binding: Binding,
    rules: SideRules,
    local: LocalTask,
    remote: RemoteTask,
    mapping: Mapping,
}

fn case(
    kind: RemoteKind,
    policy: ConflictPolicy,
    original: LocalTask,
    local_edit: LocalTask,
    remote_edit: LocalTask,
    local_mask: Vec<bool>,
    remote_mask: Vec<bool>,
) -> Case {
    let mut binding = binding(kind);
    binding.conflict_policy = policy;
    let rules = rules(kind);
    let base_task = local_with(&original, &local_fields(&original), 1);
    let base = local_fields(&base_task);
    let remote_base = remote_of(&rules, &base, "e1");
    let mapping = mapping_for(&base_task, &remote_base);
    let local_fields_now = mix(&base, &local_fields(&local_edit), &local_mask);
    let local = LocalTask {
        updated_at: at(2_000),
        ..local_with(
            &base_task,
            &local_fields_now,
            if local_mask.iter().any(|m| *m) { 2 } else { 1 },
        )
    };
    let remote_fields_now = mix(&base, &local_fields(&remote_edit), &remote_mask);
    let mut remote = remote_of(&rules, &remote_fields_now, "e2");
    if !remote_mask.iter().any(|m| *m) {
        remote.task_etag = Some("e1".into());
    }
    Case {
        binding,
        rules,
        local,
        remote,
        mapping,
    }
}

/// Applies a plan the way the executor does, on in-memory copies.
fn apply(c: &Case, plan: &Plan) -> (LocalTask, RemoteTask, Mapping) {
    let Plan::Merge(merge) = plan else {
        return (c.local.clone(), c.remote.clone(), c.mapping.clone());
    };
    let mut local = c.local.clone();
    if let Some(fields) = &merge.local {
        apply_to_local(&mut local, fields, None);
        local.version += 1;
        local.origin = Origin::Sync;
    }
    let mut remote = c.remote.clone();
    if !merge.remote_patch.is_empty() {
        for (f, v) in &merge.remote_patch {
            remote.fields.insert(*f, v.clone());
        }
        remote.task_etag = Some("e3".into());
    }
    let mut mapping = c.mapping.clone();
    mapping.base = merge.base.clone();
    mapping.local_version = local.version;
    mapping.task_etag = remote.task_etag.clone();
    mapping.revision += 1;
    (local, remote, mapping)
}

prop_compose! {
    /// A binding of any kind and policy, and a task edited on either side or both.
    fn any_case()(
        kind in kind_strategy(),
        policy in policy_strategy(),
        original in task_strategy(),
        local_edit in task_strategy(),
        remote_edit in task_strategy(),
        local_mask in prop::collection::vec(any::<bool>(), 10),
        remote_mask in prop::collection::vec(any::<bool>(), 10),
    ) -> Case {
        case(kind, policy, original, local_edit, remote_edit, local_mask, remote_mask)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn applying_the_plan_then_reconciling_again_is_nothing(
        c in any_case(),
    ) {
        let plan = reconcile(&c.binding, &c.rules, &LocalState::Present(c.local.clone()), Some(&c.remote), Some(&c.mapping));
        let (local, remote, mapping) = apply(&c, &plan);
        let again = reconcile(&c.binding, &c.rules, &LocalState::Present(local.clone()), Some(&remote), Some(&mapping));
        prop_assert!(matches!(again, Plan::Nothing { .. }), "first {plan:?}\nthen {again:?}");
        // And the two sides agree on every field the remote side can hold.
        let fields = local_fields(&local);
        for (f, r) in &remote.fields {
            prop_assert_eq!(c.rules.canon(*f, &fields[f]), Some(r.clone()), "field {:?}", f);
        }
    }

    #[test]
    fn a_one_sided_change_is_never_lost(
        c in any_case(),
    ) {
        let plan = reconcile(&c.binding, &c.rules, &LocalState::Present(c.local.clone()), Some(&c.remote), Some(&c.mapping));
        let (local, remote, _) = apply(&c, &plan);
        let before = local_fields(&c.local);
        let after = local_fields(&local);
        for f in ALL_FIELDS {
            let base = &c.mapping.base[&f];
            let local_changed = &before[&f] != base;
            let remote_changed = c.remote.fields.get(&f).is_some_and(|r| c.rules.canon(f, base).as_ref() != Some(r));
            if local_changed && !remote_changed {
                prop_assert_eq!(&after[&f], &before[&f], "local change of {:?} kept", f);
                if let Some(r) = remote.fields.get(&f) {
                    prop_assert_eq!(c.rules.canon(f, &before[&f]), Some(r.clone()), "local change of {:?} sent", f);
                }
            }
            if remote_changed && !local_changed {
                let r = &c.remote.fields[&f];
                prop_assert_eq!(c.rules.canon(f, &after[&f]), Some(r.clone()), "remote change of {:?} taken", f);
                prop_assert_eq!(remote.fields.get(&f), Some(r), "remote change of {:?} kept", f);
            }
        }
    }

    #[test]
    fn the_sync_s_own_writes_are_echoes(
        kind in kind_strategy(),
        original in task_strategy(),
    ) {
        let b = binding(kind);
        let r = rules(kind);
        let mut t = local_with(&original, &local_fields(&original), 7);
        t.origin = Origin::Sync;
        let remote = remote_of(&r, &local_fields(&t), "e5");
        let m = mapping_for(&t, &remote);
        let plan = reconcile(&b, &r, &LocalState::Present(t.clone()), Some(&remote), Some(&m));
        prop_assert!(matches!(plan, Plan::Nothing { .. }), "{plan:?}");
    }

    #[test]
    fn absorbing_a_side_value_reads_back_as_that_value(
        kind in kind_strategy(),
        local in task_strategy(),
        other in task_strategy(),
    ) {
        let r = rules(kind);
        let l = local_fields(&local);
        let o = local_fields(&other);
        for f in ALL_FIELDS {
            if let Some(remote_value) = r.canon(f, &o[&f]) {
                let absorbed = r.absorb(f, &l[&f], &remote_value);
                prop_assert_eq!(r.canon(f, &absorbed), Some(remote_value.clone()), "{:?}", f);
                prop_assert_eq!(r.canon(f, &remote_value), Some(remote_value), "canon is idempotent for {:?}", f);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_modification_beats_a_concurrent_deletion(
        kind in kind_strategy(),
        original in task_strategy(),
        local_edit in task_strategy(),
        remote_edit in task_strategy(),
        local_mask in prop::collection::vec(any::<bool>(), 10),
        remote_mask in prop::collection::vec(any::<bool>(), 10),
    ) {
        let c = case(kind, ConflictPolicy::RemoteWins, original, local_edit, remote_edit, local_mask, remote_mask);
        let base = &c.mapping.base;
        let remote_changed = ALL_FIELDS.iter().any(|f| {
            c.remote.fields.get(f).is_some_and(|r| c.rules.canon(*f, &base[f]).as_ref() != Some(r))
        });
        let local_changed = local_fields(&c.local) != *base;

        // Deleted locally while the remote side changed: the remote edit wins, the task returns.
        let mut deleted = c.local.clone();
        deleted.deleted = true;
        deleted.version += 1;
        let plan = reconcile(&c.binding, &c.rules, &LocalState::Present(deleted.clone()), Some(&c.remote), Some(&c.mapping));
        if remote_changed {
            prop_assert!(matches!(&plan, Plan::Merge(m) if m.undelete_local), "{plan:?}");
        } else {
            prop_assert_eq!(plan, Plan::DeleteRemote);
        }

        // Deleted remotely while the local side changed: the local edit wins, the task returns.
        let plan = reconcile(&c.binding, &c.rules, &LocalState::Present(c.local.clone()), None, Some(&c.mapping));
        if local_changed {
            prop_assert!(matches!(plan, Plan::CreateRemote { .. }), "{plan:?}");
        } else {
            prop_assert_eq!(plan, Plan::DeleteLocal);
        }
    }
}
