//! The reconcile engine's decision table, one case a test.

use super::*;

#[test]
fn an_unmapped_local_task_is_created_remotely() {
    let b = binding(RemoteKind::Todo);
    let t = task("New");
    let plan = reconcile(
        &b,
        &rules(b.remote),
        &LocalState::Present(t.clone()),
        None,
        None,
    );
    assert!(matches!(plan, Plan::CreateRemote { .. }), "{plan:?}");
}

#[test]
fn an_unmapped_remote_task_is_created_locally() {
    let b = binding(RemoteKind::Planner);
    let r = rules(b.remote);
    let remote = remote_of(&r, &local_fields(&task("From Planner")), "e1");
    let plan = reconcile(&b, &r, &LocalState::Missing, Some(&remote), None);
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
        reconcile(&b, &r, &LocalState::Present(t.clone()), None, None),
        Plan::Skip { .. }
    ));
    let remote = remote_of(&r, &local_fields(&t), "e");
    assert!(matches!(
        reconcile(&b, &r, &LocalState::Missing, Some(&remote), None),
        Plan::Skip { .. }
    ));
    b.import_completed = true;
    assert!(matches!(
        reconcile(&b, &r, &LocalState::Present(t.clone()), None, None),
        Plan::CreateRemote { .. }
    ));
}

#[test]
fn an_invalid_item_is_recorded_and_nothing_else() {
    let b = binding(RemoteKind::Todo);
    let plan = reconcile(
        &b,
        &rules(b.remote),
        &LocalState::Invalid(String::from("task item: attribute title is missing")),
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
        reconcile(&b, &r, &LocalState::Present(t.clone()), None, Some(&m)),
        Plan::DeleteLocal
    );
    // Remote gone, local edited since: the edit wins, the remote task is created again.
    let mut edited = t.clone();
    edited.title = "Edited".into();
    edited.version += 1;
    assert!(matches!(
        reconcile(&b, &r, &LocalState::Present(edited.clone()), None, Some(&m)),
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
            &LocalState::Present(deleted.clone()),
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
        &LocalState::Present(deleted.clone()),
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
        reconcile(&b, &r, &LocalState::Missing, None, Some(&m)),
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
        reconcile(
            &b,
            &r,
            &LocalState::Present(t.clone()),
            Some(&remote),
            Some(&m)
        ),
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
    let Plan::Merge(merge) = reconcile(
        &b,
        &r,
        &LocalState::Present(local.clone()),
        Some(&person),
        Some(&m),
    ) else {
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
        let Plan::Merge(merge) = reconcile(
            &b,
            &r,
            &LocalState::Present(local.clone()),
            Some(&person),
            Some(&m),
        ) else {
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
    let Plan::Merge(merge) = reconcile(
        &b,
        &r,
        &LocalState::Present(t.clone()),
        Some(&person),
        Some(&m),
    ) else {
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
        match reconcile(
            &b,
            &r,
            &LocalState::Present(t.clone()),
            Some(&remote),
            mapping,
        ) {
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
    let Plan::Merge(merge) = reconcile(
        &b,
        &r,
        &LocalState::Present(local.clone()),
        Some(&person),
        Some(&m),
    ) else {
        panic!()
    };
    assert!(merge.remote_patch.is_empty(), "to_local never writes Graph");
    assert_eq!(
        merge.local.unwrap().get(&Field::Title),
        Some(&json!("remote edit"))
    );

    b.direction = Direction::ToRemote;
    let Plan::Merge(merge) = reconcile(
        &b,
        &r,
        &LocalState::Present(local.clone()),
        Some(&person),
        Some(&m),
    ) else {
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
    let Plan::Merge(merge) = reconcile(
        &b,
        &r,
        &LocalState::Present(t.clone()),
        Some(&person),
        Some(&m),
    ) else {
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
