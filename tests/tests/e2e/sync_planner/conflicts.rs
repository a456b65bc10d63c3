//! A 409 on a Planner write: re-read and resolve (docs/graph-behaviour.md §2.6: "on 409 or 412,
//! re-read and resolve"), once and on every attempt.

use super::*;

/// Messages received from the work queue and not deleted (SQS's own count).
async fn messages_in_flight(w: &SyncWorld) -> u64 {
    use aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible as NotVisible;
    let attrs = w
        .aws
        .sqs
        .get_queue_attributes()
        .queue_url(w.aws.resources.work_queue_url())
        .attribute_names(NotVisible)
        .send()
        .await
        .expect("queue attributes");
    attrs
        .attributes()
        .and_then(|a| a.get(&NotVisible))
        .and_then(|n| n.parse().ok())
        .expect("a count")
}

const TASK_PATCH: &str = "PATCH /planner/tasks/{task_id}";

/// A synced Planner task "X-1" in local list "ops"; its Planner id.
async fn synced_planner_task(w: &SyncWorld, binding_id: &str, title: &str) -> (LocalTask, String) {
    w.planner_binding(binding_id, "ops").await;
    let task = w.app_writes(&app_task("ops", "X-1", title)).await;
    assert_eq!(w.drain().await.failed, 0);
    let remote_id = w.mapping("ops", "X-1").await.unwrap().remote_id.unwrap();
    (task, remote_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_409_on_the_task_patch_re_reads_and_the_edit_lands() {
    let w = SyncWorld::start().await;
    let (task, remote_id) = synced_planner_task(&w, "b-409-task", "Order toner").await;
    inject(&w, "PATCH", "/planner/tasks/{task_id}", 409, Some(1)).await;

    let mut edited = task.clone();
    edited.priority = Priority::Urgent;
    let written = w.app_writes(&edited).await;
    let cost = settled_cost(&w, "409 on the task PATCH: read, 409, read again, write").await;
    // Round 1: task + details read, PATCH refused; round 2: the same read, PATCH accepted.
    assert_eq!(cost, (6, 2));
    let counters = w.graph.counters();
    assert_eq!(counters.get("planner.update_task", Outcome::Conflict), 1);
    assert_eq!(counters.get("planner.update_task", Outcome::Success), 1);
    assert_eq!(
        counters.total("planner.get_task"),
        1 + 2,
        "the create's read-back, then one read per round"
    );
    let statuses = emulator_statuses(&w, TASK_PATCH).await;
    assert_eq!(statuses.get("409"), Some(&1), "{statuses:?}");
    assert_eq!(statuses.values().sum::<u64>(), 2, "{statuses:?}");

    let (t, _) = w.planner_task(&remote_id).await.unwrap();
    assert_eq!(t["priority"], 1);
    assert_eq!(t["title"], "Order toner");
    let local = w.local("ops", "X-1").await.unwrap();
    assert_eq!(local.priority, Priority::Urgent);
    assert_eq!(local.version, written.version, "no local write was needed");
    assert_settled(&w, "b-409-task", &remote_id).await;
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_409_on_the_details_patch_re_reads_and_both_edits_land_once() {
    let w = SyncWorld::start().await;
    let (task, remote_id) = synced_planner_task(&w, "b-409-details", "Book the room").await;
    inject(
        &w,
        "PATCH",
        "/planner/tasks/{task_id}/details",
        409,
        Some(1),
    )
    .await;

    // A title (task) and the notes (details): the task PATCH passes, the details PATCH is
    // refused, and the second round must not send the title again.
    let mut edited = task.clone();
    edited.title = "Book the big room".into();
    edited.notes = "For twelve people".into();
    let written = w.app_writes(&edited).await;
    let cost = settled_cost(
        &w,
        "409 on the details PATCH: read, task write, 409, read again, details write, task read",
    )
    .await;
    assert_eq!(cost, (8, 3));
    let counters = w.graph.counters();
    assert_eq!(
        counters.total("planner.update_task"),
        1,
        "the title went once: the re-read saw it already there"
    );
    assert_eq!(
        counters.get("planner.update_task_details", Outcome::Conflict),
        1
    );
    // The create's marker write, then the accepted retry.
    assert_eq!(
        counters.get("planner.update_task_details", Outcome::Success),
        2
    );
    let statuses = emulator_statuses(&w, DETAILS_PATCH).await;
    assert_eq!(statuses.get("409"), Some(&1), "{statuses:?}");

    let (t, d) = w.planner_task(&remote_id).await.unwrap();
    assert_eq!(t["title"], "Book the big room");
    assert_eq!(d["description"], "For twelve people");
    let marker = serde_json::to_string(&d["references"]).unwrap();
    assert!(marker.contains("tasksync"), "the marker survives: {marker}");
    let local = w.local("ops", "X-1").await.unwrap();
    assert_eq!(local.title, "Book the big room");
    assert_eq!(local.notes, "For twelve people");
    assert_eq!(local.version, written.version, "no local write was needed");
    assert_settled(&w, "b-409-details", &remote_id).await;
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_409_on_every_attempt_is_bounded_and_the_message_is_retried_not_lost() {
    use tasksync::standalone::work_pump::{ReceivedWork, sqs_event};
    use tasksync::worker::{WorkerError, handle_batch, handle_message};

    let w = SyncWorld::start().await;
    let (task, remote_id) = synced_planner_task(&w, "b-409-always", "Renew the lease").await;
    let before = w.mapping("ops", "X-1").await.unwrap();
    inject(&w, "PATCH", "/planner/tasks/{task_id}", 409, None).await;
    let worker = w.worker();
    let rounds = u64::from(worker.settings.engine.max_merge_rounds);
    assert_eq!(rounds, 3, "the documented bound (docs/sync-engine.md)");

    let mut edited = task.clone();
    edited.priority = Priority::Important;
    w.app_writes(&edited).await;
    // Through the real queue: the worker gives up after its rounds and reports the message
    // failed, so SQS delivers it again after the visibility timeout.
    let cost = measured(&w, "409 on every attempt: one receive", async {
        let pumped = w.drain().await;
        assert_eq!(pumped.received, 1);
        assert_eq!(pumped.failed, 1, "reported failed for a retry");
    })
    .await;
    assert_eq!(
        cost,
        (3 * rounds, rounds),
        "a read (task + details) and a PATCH per round"
    );
    assert_eq!(
        w.graph
            .counters()
            .get("planner.update_task", Outcome::Conflict),
        rounds
    );
    assert_eq!(
        messages_in_flight(&w).await,
        1,
        "the message is still on the queue, invisible until its retry"
    );
    assert_eq!(
        emulator_statuses(&w, TASK_PATCH).await.get("409"),
        Some(&rounds)
    );

    // The reason says what happened; it is a retry, not a rejection.
    let body = tasksync::queue_message::encode(&w.pipe_hint("ops", "X-1"));
    let error = handle_message(&body, &worker).await.unwrap_err();
    let WorkerError::Retry { reason, after } = &error else {
        panic!("a lost race is worth a retry: {error:?}");
    };
    assert!(
        reason.contains("3 rounds") && reason.contains("409"),
        "{reason}"
    );
    assert_eq!(
        *after, None,
        "no Retry-After: the queue's visibility timeout applies"
    );

    // The receive that reaches maxReceiveCount records the reason beside the message, which
    // SQS then moves to the DLQ intact.
    let last = ReceivedWork {
        body: body.clone(),
        receipt_handle: "rh-last".into(),
        message_id: "m-409".into(),
        receive_count: worker.settings.max_receive_count,
    };
    let event = sqs_event(&[last], "arn:aws:sqs:us-east-1:000000000000:q").unwrap();
    let failures = handle_batch(event, &worker).await.batch_item_failures;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].item_identifier, "m-409");
    let dead = w.sync.list_dead_letter_reasons().await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].message_id, "m-409");
    assert_eq!(dead[0].kind, "local_task");
    assert!(dead[0].reason.contains("409"), "{}", dead[0].reason);

    // Nothing was half-applied: Planner and the mapping are as before, the local edit waits.
    let (t, _) = w.planner_task(&remote_id).await.unwrap();
    assert_eq!(t["priority"], 5);
    let m = w.mapping("ops", "X-1").await.unwrap();
    assert_eq!(
        (&m.base, &m.task_etag, &m.details_etag, m.local_version),
        (
            &before.base,
            &before.task_etag,
            &before.details_etag,
            before.local_version
        ),
        "nothing synced was recorded"
    );
    // The reason is on the mapping too (the CLI shows it), not only beside the dead letter.
    let last_error = m.last_error.as_deref().expect("the reason on the mapping");
    assert!(
        last_error.contains("3 rounds") && last_error.contains("409"),
        "{last_error}"
    );
    assert_eq!(
        m.revision,
        before.revision + 1,
        "one write: the reason, recorded once for the same failure"
    );
    assert_eq!(
        w.local("ops", "X-1").await.unwrap().priority,
        Priority::Important
    );

    // Planner accepts again; the same message, delivered again, lands the edit.
    w.clear_faults().await;
    let outcome = handle_message(&body, &worker).await.expect("synced");
    assert!(
        matches!(outcome, tasksync::worker::MessageOutcome::Synced(_)),
        "{outcome:?}"
    );
    assert_eq!(w.planner_task(&remote_id).await.unwrap().0["priority"], 3);
    assert_eq!(
        w.mapping("ops", "X-1").await.unwrap().last_error,
        None,
        "settled: the reason is cleared"
    );
    assert_settled(&w, "b-409-always", &remote_id).await;
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_409_on_the_delete_re_reads_and_the_task_still_goes() {
    let w = SyncWorld::start().await;
    let (task, remote_id) = synced_planner_task(&w, "b-409-delete", "Cancel the order").await;
    inject(&w, "DELETE", "/planner/tasks/{task_id}", 409, Some(1)).await;

    let mut gone = task.clone();
    gone.deleted = true;
    w.app_writes(&gone).await;
    let cost = settled_cost(&w, "409 on the DELETE: read, 409, read again, delete").await;
    assert_eq!(cost, (6, 2));
    let counters = w.graph.counters();
    assert_eq!(counters.get("planner.delete_task", Outcome::Conflict), 1);
    assert_eq!(counters.get("planner.delete_task", Outcome::Success), 1);
    assert!(w.planner_task(&remote_id).await.is_none());
    assert_eq!(
        w.mapping("ops", "X-1").await.unwrap().state,
        MappingState::Deleted
    );
    w.stack.emulator.shutdown();
}
