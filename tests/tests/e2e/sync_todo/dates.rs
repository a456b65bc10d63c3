//! Start dates as days in a zone with daylight saving time.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_dates_sync_both_ways_as_days_in_a_dst_zone() {
    let w = SyncWorld::start().await;
    let mut b = w.todo_binding("b-start", "plans").await;
    // New York moves to summer time at 02:00 on 8 March 2026.
    b.time_zone = "Eastern Standard Time".into();
    w.sync.save_binding(&b).await.unwrap();
    let zone = tasksync::graph::models::CalendarZone::parse("Eastern Standard Time").unwrap();
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();

    let mut task = app_task("plans", "S-1", "Begin on the day the clocks change");
    task.start = Some(TaskDate::Day(day(8)));
    task.due = Some(TaskDate::Day(day(9)));
    let c = now_cost(&w);
    w.app_writes(&task).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    assert_eq!(
        (cost.calls, cost.writes),
        (1, 1),
        "start rides on the create"
    );
    let remote_id = w.mapping("plans", "S-1").await.unwrap().remote_id.unwrap();
    let read_start = |v: &serde_json::Value| {
        serde_json::from_value::<tasksync::graph::models::DateTimeTimeZone>(
            v["startDateTime"].clone(),
        )
        .unwrap()
        .calendar_day(&zone)
        .unwrap()
    };
    let remote = w.todo_task(&b, &remote_id).await.unwrap();
    assert_eq!(remote["startDateTime"]["timeZone"], "UTC");
    assert_eq!(read_start(&remote), day(8));

    // A local start given as an instant goes over as its day in the binding's zone (02:30 UTC
    // on 10 March is still 9 March in New York) and the local instant is kept.
    let mut moved = w.local("plans", "S-1").await.unwrap();
    let instant = chrono::DateTime::parse_from_rfc3339("2026-03-10T02:30:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    moved.start = Some(TaskDate::Instant(instant));
    let c = now_cost(&w);
    w.app_writes(&moved).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("local start → remote", &cost);
    assert_eq!((cost.calls, cost.writes), (2, 1));
    assert_eq!(
        read_start(&w.todo_task(&b, &remote_id).await.unwrap()),
        day(9)
    );
    let c = now_cost(&w);
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.drain().await;
    assert_eq!(cost_since(&w, &c).writes, 0, "echo");
    assert_eq!(
        w.local("plans", "S-1").await.unwrap().start,
        Some(TaskDate::Instant(instant)),
        "the instant To Do cannot hold stays locally"
    );

    // A person moves the start to the Saturday before the change in To Do.
    w.person_edits_todo(
        &b,
        &remote_id,
        json!({"startDateTime": {"dateTime": "2026-03-07T00:00:00", "timeZone": "Eastern Standard Time"}}),
    )
    .await;
    let c = now_cost(&w);
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("remote start → local", &cost);
    assert_eq!((cost.calls, cost.writes), (1, 0));
    assert_eq!(
        w.local("plans", "S-1").await.unwrap().start,
        Some(TaskDate::Day(day(7)))
    );

    // Clearing it in To Do clears it locally; the due date is untouched.
    w.person_edits_todo(&b, &remote_id, json!({"startDateTime": null}))
        .await;
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.drain().await;
    let local = w.local("plans", "S-1").await.unwrap();
    assert_eq!(local.start, None);
    assert_eq!(local.due, Some(TaskDate::Day(day(9))));
    w.stack.emulator.shutdown();
}
