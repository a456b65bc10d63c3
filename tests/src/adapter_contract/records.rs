//! The sync engine's records (issues, dead letters, breakers) and the operator's listings of them.

use super::*;

/// SyncRecords + BindingsOfList: the breaker is set and cleared without touching the binding's
/// other attributes; records are written.
pub async fn sync_records_contract(
    store: &(
         impl BindingLookup
         + BindingSave
         + tasksync::ports::SyncRecords
         + tasksync::ports::BindingsOfList
     ),
) {
    let binding = sample_binding("b9", RemoteKind::Todo);
    store.save_binding(&binding).await.unwrap();
    let breaker = tasksync::model::CircuitBreaker {
        failures: 2,
        reason: "403 Forbidden".to_owned(),
        last_failure_at: at(1_763_000_000, 0),
        open_until: None,
    };
    store
        .set_binding_breaker("b9", Some(&breaker))
        .await
        .unwrap();
    let read = store.find_binding("b9").await.unwrap().unwrap();
    assert_eq!(read.breaker, Some(breaker));
    assert_eq!(
        Binding {
            breaker: None,
            ..read
        },
        binding
    );
    store.set_binding_breaker("b9", None).await.unwrap();
    assert_eq!(
        store.find_binding("b9").await.unwrap(),
        Some(binding.clone())
    );
    // A binding that does not exist is not created by a breaker update.
    store.set_binding_breaker("gone", None).await.unwrap();
    assert_eq!(store.find_binding("gone").await.unwrap(), None);

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let of_list = store
            .bindings_of_list(&binding.local_list_id)
            .await
            .unwrap();
        if of_list == vec![binding.clone()] {
            break;
        }
        assert!(Instant::now() < deadline, "bindings_of_list: {of_list:?}");
    }
    assert!(
        store
            .bindings_of_list("no-such-list")
            .await
            .unwrap()
            .is_empty()
    );

    let issue = tasksync::sync::SyncIssue {
        list_id: "l".to_owned(),
        task_id: "t".to_owned(),
        binding_id: "b9".to_owned(),
        reason: "title is missing".to_owned(),
        at: at(1_763_000_000, 0),
    };
    store.record_sync_issue(&issue).await.unwrap();
    store.clear_sync_issue("l", "t").await.unwrap();
    store.clear_sync_issue("l", "never").await.unwrap();
    store
        .record_dead_letter(&tasksync::sync::DeadLetterReason {
            message_id: "m1".to_owned(),
            kind: "local_task".to_owned(),
            reason: "rejected".to_owned(),
            receive_count: 5,
            at: at(1_763_000_000, 0),
        })
        .await
        .unwrap();
}

/// The operator's listings (`tasksync sync-issues`, `tasksync dlq`): every readable record is
/// listed, and a damaged one (written by hand, or by an older version) is skipped rather than
/// hiding all the others.
pub async fn operator_records_contract(
    store: &(
         impl tasksync::ports::SyncRecords
         + tasksync::ops::sync_issues::SyncIssueList
         + tasksync::ops::dead_letters::DeadLetterReasons
     ),
    raw: &impl RawItemWrite,
) {
    let issue = tasksync::sync::SyncIssue {
        list_id: "ops-l".to_owned(),
        task_id: "ops-t".to_owned(),
        binding_id: "b9".to_owned(),
        reason: "status \"done\" is not one of not_started, in_progress, completed".to_owned(),
        at: at(1_763_000_000, 0),
    };
    store.record_sync_issue(&issue).await.unwrap();
    let reason = tasksync::sync::DeadLetterReason {
        message_id: "ops-m1".to_owned(),
        kind: "local_task".to_owned(),
        reason: "rejected".to_owned(),
        receive_count: 5,
        at: at(1_763_000_000, 0),
    };
    store.record_dead_letter(&reason).await.unwrap();
    // Damaged records of both kinds: in the index, but without the attributes they need.
    raw.put_raw_sync_item(HashMap::from([
        ("pk".to_owned(), text("issue#ops-l#damaged")),
        ("sk".to_owned(), text("issue")),
        ("gsi1pk".to_owned(), text("issue")),
        ("gsi1sk".to_owned(), text("ops-l#damaged")),
    ]))
    .await;
    raw.put_raw_sync_item(HashMap::from([
        ("pk".to_owned(), text("dlq#ops-damaged")),
        ("sk".to_owned(), text("dlq")),
        ("gsi1pk".to_owned(), text("dlq")),
        ("gsi1sk".to_owned(), text("ops-damaged")),
        ("receive_count".to_owned(), text("five")),
    ]))
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let issues = store.all_sync_issues().await.unwrap();
        let reasons = store.all_dead_letter_reasons().await.unwrap();
        let issue_listed = issues.contains(&issue);
        let reason_listed = reasons.contains(&reason);
        if issue_listed && reason_listed {
            assert!(issues.iter().all(|i| i.task_id != "damaged"), "{issues:?}");
            assert!(
                reasons.iter().all(|r| r.message_id != "ops-damaged"),
                "{reasons:?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "listed: {issues:?} {reasons:?}");
    }
}
