//! The decision table of the reconcile engine, case by case, and property tests of the merge:
//! applying a plan and reconciling again gives "nothing"; an echo is nothing; a one-sided change
//! is never lost; a field both sides changed is settled by the policy and recorded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};
use tasksync::graph::models::CalendarZone;
use tasksync::model::{
    Binding, ChecklistItem, ConflictPolicy, Direction, LocalTask, Origin, Priority, RemoteKind,
    TaskDate, TaskStatus,
};
use tasksync::sync::fields::{apply_to_local, local_fields};
use tasksync::sync::{
    ALL_FIELDS, Field, FieldMap, LocalSide, Mapping, MappingState, Plan, RemoteTask, Side,
    SideRules, reconcile,
};

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).unwrap()
}

fn binding(kind: RemoteKind) -> Binding {
    match kind {
        RemoteKind::Todo => Binding::todo("b", "list", "user", "todo-list"),
        RemoteKind::Planner => Binding::planner("b", "list", "plan"),
    }
}

fn rules(kind: RemoteKind) -> SideRules {
    SideRules::new(kind, CalendarZone::utc())
}

fn task(title: &str) -> LocalTask {
    LocalTask {
        updated_at: at(1_000),
        ..LocalTask::new("list", "t1", title, Origin::App("agent".into()))
    }
}

/// The remote task as the side would show the given local fields.
fn remote_of(rules: &SideRules, fields: &FieldMap, etag: &str) -> RemoteTask {
    RemoteTask {
        id: "r1".into(),
        fields: fields
            .iter()
            .filter_map(|(f, v)| rules.canon(*f, v).map(|c| (*f, c)))
            .collect(),
        task_etag: Some(etag.into()),
        details_etag: None,
        last_modified: Some(at(500)),
        completed_at: None,
        marker: None,
        created_at: None,
        created_by_this_app: false,
    }
}

fn mapping_for(local: &LocalTask, remote: &RemoteTask) -> Mapping {
    Mapping {
        remote_id: Some(remote.id.clone()),
        task_etag: remote.task_etag.clone(),
        details_etag: remote.details_etag.clone(),
        local_version: local.version,
        base: local_fields(local),
        revision: 1,
        state: MappingState::Active,
        ..Mapping::claim("b", "list", &local.id, RemoteKind::Todo, at(0))
    }
}

// ---- the decision table ----

#[test]
fn an_unmapped_local_task_is_created_remotely() {
    let b = binding(RemoteKind::Todo);
    let t = task("New");
    let plan = reconcile(&b, &rules(b.remote), LocalSide::Present(&t), None, None);
    assert!(matches!(plan, Plan::CreateRemote { .. }), "{plan:?}");
}

#[test]
fn an_unmapped_remote_task_is_created_locally() {
    let b = binding(RemoteKind::Planner);
    let r = rules(b.remote);
    let remote = remote_of(&r, &local_fields(&task("From Planner")), "e1");
    let plan = reconcile(&b, &r, LocalSide::Missing, Some(&remote), None);
    match plan {
        Plan::CreateLocal { fields } => {
            assert_eq!(fields.get(&Field::Title), Some(&json!("From Planner")))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn completed_tasks_are_skipped_on_first_import_unless_asked() {
    let mut b = binding(RemoteKind::Todo);
    let mut t = task("Done already");
    t.status = TaskStatus::Completed;
    let r = rules(b.remote);
    assert!(matches!(
        reconcile(&b, &r, LocalSide::Present(&t), None, None),
        Plan::Skip { .. }
    ));
    let remote = remote_of(&r, &local_fields(&t), "e");
    assert!(matches!(
        reconcile(&b, &r, LocalSide::Missing, Some(&remote), None),
        Plan::Skip { .. }
    ));
    b.import_completed = true;
    assert!(matches!(
        reconcile(&b, &r, LocalSide::Present(&t), None, None),
        Plan::CreateRemote { .. }
    ));
}

#[test]
fn an_invalid_item_is_recorded_and_nothing_else() {
    let b = binding(RemoteKind::Todo);
    let plan = reconcile(
        &b,
        &rules(b.remote),
        LocalSide::Invalid("task item: attribute title is missing"),
        None,
        None,
    );
    assert_eq!(
        plan,
        Plan::RecordInvalid {
            reason: "task item: attribute title is missing".into()
        }
    );
}

#[test]
fn deletes_follow_the_mapping_and_modify_beats_delete() {
    let b = binding(RemoteKind::Todo);
    let r = rules(b.remote);
    let t = task("Pair");
    let remote = remote_of(&r, &local_fields(&t), "e1");
    let m = mapping_for(&t, &remote);

    // Remote gone, local unchanged since: delete locally.
    assert_eq!(
        reconcile(&b, &r, LocalSide::Present(&t), None, Some(&m)),
        Plan::DeleteLocal
    );
    // Remote gone, local edited since: the edit wins, the remote task is created again.
    let mut edited = t.clone();
    edited.title = "Edited".into();
    edited.version += 1;
    assert!(matches!(
        reconcile(&b, &r, LocalSide::Present(&edited), None, Some(&m)),
        Plan::CreateRemote { .. }
    ));
    // Local deleted, remote unchanged: delete remotely.
    let mut deleted = t.clone();
    deleted.deleted = true;
    deleted.version += 1;
    assert_eq!(
        reconcile(
            &b,
            &r,
            LocalSide::Present(&deleted),
            Some(&remote),
            Some(&m)
        ),
        Plan::DeleteRemote
    );
    // Local deleted, remote edited since: the remote edit wins, the local task comes back.
    let mut remote_edit = remote.clone();
    remote_edit
        .fields
        .insert(Field::Title, json!("Renamed in To Do"));
    remote_edit.task_etag = Some("e2".into());
    match reconcile(
        &b,
        &r,
        LocalSide::Present(&deleted),
        Some(&remote_edit),
        Some(&m),
    ) {
        Plan::Merge(merge) => {
            assert!(merge.undelete_local);
            assert_eq!(
                merge.local.unwrap().get(&Field::Title),
                Some(&json!("Renamed in To Do"))
            );
        }
        other => panic!("{other:?}"),
    }
    // Both gone: forget.
    assert_eq!(
        reconcile(&b, &r, LocalSide::Missing, None, Some(&m)),
        Plan::Forget
    );
}

#[test]
fn echoes_are_nothing() {
    let b = binding(RemoteKind::Planner);
    let r = rules(b.remote);
    let mut t = task("Echo");
    t.origin = Origin::Sync;
    t.version = 4;
    let remote = remote_of(&r, &local_fields(&t), "e9");
    let m = mapping_for(&t, &remote);
    assert!(matches!(
        reconcile(&b, &r, LocalSide::Present(&t), Some(&remote), Some(&m)),
        Plan::Nothing { .. }
    ));
}

#[test]
fn different_fields_edited_on_both_sides_both_survive() {
    let b = binding(RemoteKind::Todo);
    let r = rules(b.remote);
    let t = task("Original");
    let remote = remote_of(&r, &local_fields(&t), "e1");
    let m = mapping_for(&t, &remote);
    let mut local = t.clone();
    local.notes = "agent's notes".into();
    local.version += 1;
    let mut person = remote.clone();
    person.fields.insert(Field::Title, json!("Person's title"));
    person.task_etag = Some("e2".into());
    let Plan::Merge(merge) = reconcile(&b, &r, LocalSide::Present(&local), Some(&person), Some(&m))
    else {
        panic!("expected a merge")
    };
    assert!(merge.conflicts.is_empty());
    assert_eq!(
        merge.remote_patch.get(&Field::Notes),
        Some(&json!("agent's notes"))
    );
    assert!(!merge.remote_patch.contains_key(&Field::Title));
    let merged = merge.local.unwrap();
    assert_eq!(merged.get(&Field::Title), Some(&json!("Person's title")));
    assert_eq!(merged.get(&Field::Notes), Some(&json!("agent's notes")));
}

#[test]
fn the_same_field_follows_the_policy_and_is_recorded() {
    let mut b = binding(RemoteKind::Todo);
    let r = rules(b.remote);
    let t = task("Original");
    let remote = remote_of(&r, &local_fields(&t), "e1");
    let m = mapping_for(&t, &remote);
    let mut local = t.clone();
    local.title = "Agent".into();
    local.version += 1;
    local.updated_at = at(2_000);
    let mut person = remote.clone();
    person.fields.insert(Field::Title, json!("Person"));
    person.task_etag = Some("e2".into());
    person.last_modified = Some(at(1_500));

    let cases = [
        (ConflictPolicy::RemoteWins, Side::Remote),
        (ConflictPolicy::LocalWins, Side::Local),
        (ConflictPolicy::Newer, Side::Local),
    ];
    for (policy, winner) in cases {
        b.conflict_policy = policy;
        let Plan::Merge(merge) =
            reconcile(&b, &r, LocalSide::Present(&local), Some(&person), Some(&m))
        else {
            panic!("expected a merge")
        };
        assert_eq!(merge.conflicts.len(), 1, "{policy:?}");
        let c = &merge.conflicts[0];
        assert_eq!((c.field, c.winner), (Field::Title, winner), "{policy:?}");
        assert_eq!(c.local, json!("Agent"));
        assert_eq!(c.remote, json!("Person"));
        let expected = if winner == Side::Local {
            "Agent"
        } else {
            "Person"
        };
        assert_eq!(merge.base.get(&Field::Title), Some(&json!(expected)));
    }
}

#[test]
fn a_protected_field_keeps_the_local_value() {
    let b = binding(RemoteKind::Planner);
    let r = rules(b.remote);
    let mut t = task("Pinned title");
    t.protected_fields = vec!["title".into()];
    let remote = remote_of(&r, &local_fields(&t), "e1");
    let m = mapping_for(&t, &remote);
    let mut person = remote.clone();
    person.fields.insert(Field::Title, json!("Person's title"));
    person.task_etag = Some("e2".into());
    let Plan::Merge(merge) = reconcile(&b, &r, LocalSide::Present(&t), Some(&person), Some(&m))
    else {
        panic!("expected a merge")
    };
    assert_eq!(
        merge.remote_patch.get(&Field::Title),
        Some(&json!("Pinned title"))
    );
    assert!(merge.local.is_none());
}

#[test]
fn a_crash_between_create_and_record_is_adopted() {
    let b = binding(RemoteKind::Todo);
    let r = rules(b.remote);
    let t = task("Created before the crash");
    let mut remote = remote_of(&r, &local_fields(&t), "e1");
    remote.marker = Some(t.id.clone());
    let claim = Mapping::claim("b", "list", &t.id, RemoteKind::Todo, at(0));
    for mapping in [None, Some(&claim)] {
        match reconcile(&b, &r, LocalSide::Present(&t), Some(&remote), mapping) {
            Plan::Merge(merge) => {
                assert!(merge.link);
                assert!(merge.local.is_none() && merge.remote_patch.is_empty());
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn directions_limit_what_is_written() {
    let mut b = binding(RemoteKind::Todo);
    let r = rules(b.remote);
    let t = task("Both");
    let remote = remote_of(&r, &local_fields(&t), "e1");
    let m = mapping_for(&t, &remote);
    let mut local = t.clone();
    local.notes = "local edit".into();
    local.version += 1;
    let mut person = remote.clone();
    person.fields.insert(Field::Title, json!("remote edit"));
    person.task_etag = Some("e2".into());

    b.direction = Direction::ToLocal;
    let Plan::Merge(merge) = reconcile(&b, &r, LocalSide::Present(&local), Some(&person), Some(&m))
    else {
        panic!()
    };
    assert!(merge.remote_patch.is_empty(), "to_local never writes Graph");
    assert_eq!(
        merge.local.unwrap().get(&Field::Title),
        Some(&json!("remote edit"))
    );

    b.direction = Direction::ToRemote;
    let Plan::Merge(merge) = reconcile(&b, &r, LocalSide::Present(&local), Some(&person), Some(&m))
    else {
        panic!()
    };
    assert!(
        merge.local.is_none(),
        "to_remote never writes the local store"
    );
    assert_eq!(
        merge.remote_patch.get(&Field::Notes),
        Some(&json!("local edit"))
    );
}

#[test]
fn what_todo_cannot_hold_is_left_alone() {
    let b = binding(RemoteKind::Todo);
    let r = rules(b.remote);
    let mut t = task("Rich");
    t.assignees = vec!["u1".into()];
    t.checklist = vec![ChecklistItem {
        id: "c1".into(),
        title: "step".into(),
        checked: false,
    }];
    t.bucket = Some("bucket".into());
    t.start = Some(TaskDate::Day(NaiveDate::from_ymd_opt(2026, 1, 2).unwrap()));
    t.priority = Priority::Urgent;
    let remote = remote_of(&r, &local_fields(&t), "e1");
    assert!(!remote.fields.contains_key(&Field::Assignees));
    let m = mapping_for(&t, &remote);
    // The person changes the title: the local-only fields are untouched, urgent stays urgent
    // although To Do shows it as "high" (read back as important).
    let mut person = remote.clone();
    person.fields.insert(Field::Title, json!("Renamed"));
    person.task_etag = Some("e2".into());
    let Plan::Merge(merge) = reconcile(&b, &r, LocalSide::Present(&t), Some(&person), Some(&m))
    else {
        panic!()
    };
    let mut applied = t.clone();
    apply_to_local(&mut applied, &merge.local.unwrap(), None);
    assert_eq!(applied.assignees, t.assignees);
    assert_eq!(applied.checklist, t.checklist);
    assert_eq!(applied.bucket, t.bucket);
    assert_eq!(applied.start, t.start);
    assert_eq!(applied.priority, Priority::Urgent);
    assert_eq!(applied.title, "Renamed");
}

// ---- properties ----

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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn applying_the_plan_then_reconciling_again_is_nothing(
        kind in kind_strategy(),
        policy in policy_strategy(),
        original in task_strategy(),
        local_edit in task_strategy(),
        remote_edit in task_strategy(),
        local_mask in prop::collection::vec(any::<bool>(), 10),
        remote_mask in prop::collection::vec(any::<bool>(), 10),
    ) {
        let c = case(kind, policy, original, local_edit, remote_edit, local_mask, remote_mask);
        let plan = reconcile(&c.binding, &c.rules, LocalSide::Present(&c.local), Some(&c.remote), Some(&c.mapping));
        let (local, remote, mapping) = apply(&c, &plan);
        let again = reconcile(&c.binding, &c.rules, LocalSide::Present(&local), Some(&remote), Some(&mapping));
        prop_assert!(matches!(again, Plan::Nothing { .. }), "first {plan:?}\nthen {again:?}");
        // And the two sides agree on every field the remote side can hold.
        let fields = local_fields(&local);
        for (f, r) in &remote.fields {
            prop_assert_eq!(c.rules.canon(*f, &fields[f]), Some(r.clone()), "field {:?}", f);
        }
    }

    #[test]
    fn a_one_sided_change_is_never_lost(
        kind in kind_strategy(),
        policy in policy_strategy(),
        original in task_strategy(),
        local_edit in task_strategy(),
        remote_edit in task_strategy(),
        local_mask in prop::collection::vec(any::<bool>(), 10),
        remote_mask in prop::collection::vec(any::<bool>(), 10),
    ) {
        let c = case(kind, policy, original, local_edit, remote_edit, local_mask, remote_mask);
        let plan = reconcile(&c.binding, &c.rules, LocalSide::Present(&c.local), Some(&c.remote), Some(&c.mapping));
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
        let plan = reconcile(&b, &r, LocalSide::Present(&t), Some(&remote), Some(&m));
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
        let plan = reconcile(&c.binding, &c.rules, LocalSide::Present(&deleted), Some(&c.remote), Some(&c.mapping));
        if remote_changed {
            prop_assert!(matches!(&plan, Plan::Merge(m) if m.undelete_local), "{plan:?}");
        } else {
            prop_assert_eq!(plan, Plan::DeleteRemote);
        }

        // Deleted remotely while the local side changed: the local edit wins, the task returns.
        let plan = reconcile(&c.binding, &c.rules, LocalSide::Present(&c.local), None, Some(&c.mapping));
        if local_changed {
            prop_assert!(matches!(plan, Plan::CreateRemote { .. }), "{plan:?}");
        } else {
            prop_assert_eq!(plan, Plan::DeleteLocal);
        }
    }
}
