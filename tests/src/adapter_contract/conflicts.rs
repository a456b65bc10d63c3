//! The conflict history (`ConflictLog` and the operator's listing of it): what is appended is
//! listed as written, oldest first; one pair keeps only its newest records; a damaged record is
//! skipped rather than hiding the others.

use super::*;
use tasksync::ops::conflict_history::{ConflictHistory, conflict_history};
use tasksync::ports::{CONFLICTS_KEPT_PER_PAIR, ConflictLog};
use tasksync::sync::records::ConflictRecord;
use tasksync::sync::{Field, Side};

fn conflict(binding: &str, task: &str, n: u32) -> ConflictRecord {
    ConflictRecord {
        binding_id: binding.to_owned(),
        list_id: "team".to_owned(),
        task_id: task.to_owned(),
        remote_id: Some(format!("r-{task}")),
        field: Field::Title,
        local: serde_json::json!(format!("local {n}")),
        remote: serde_json::json!({"title": format!("remote {n}"), "n": n}),
        winner: if n.is_multiple_of(2) {
            Side::Remote
        } else {
            Side::Local
        },
        rule: "newer".to_owned(),
        at: at(1_763_000_000 + i64::from(n), n),
    }
}

pub async fn conflict_log_contract(
    store: &(impl ConflictLog + ConflictHistory),
    raw: &impl RawItemWrite,
) {
    let extra = 3;
    let total = u32::try_from(CONFLICTS_KEPT_PER_PAIR).unwrap() + extra;
    // Appended one by one, as merges settle them, and once two at a time.
    for n in 0..total - 2 {
        store
            .record_conflicts(&[conflict("b1", "T-1", n)])
            .await
            .unwrap();
    }
    store
        .record_conflicts(&[
            conflict("b1", "T-1", total - 2),
            conflict("b1", "T-1", total - 1),
        ])
        .await
        .unwrap();
    let other = conflict("b2", "T-2", 7);
    store
        .record_conflicts(std::slice::from_ref(&other))
        .await
        .unwrap();
    raw.put_raw_sync_item(HashMap::from([
        ("pk".to_owned(), text("conflict#b1#team#damaged")),
        ("sk".to_owned(), text("conflict#x")),
        ("gsi1pk".to_owned(), text("conflict")),
        ("gsi1sk".to_owned(), text("0000")),
        ("binding_id".to_owned(), text("b1")),
    ]))
    .await;

    let kept: Vec<ConflictRecord> = (extra..total).map(|n| conflict("b1", "T-1", n)).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let of_b1 = conflict_history(store, Some("b1")).await.unwrap();
        let all = conflict_history(store, None).await.unwrap();
        if of_b1 == kept && all.len() == kept.len() + 1 {
            assert!(all.contains(&other), "{all:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "expected the newest {CONFLICTS_KEPT_PER_PAIR} of b1, oldest first: {of_b1:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        conflict_history(store, Some("b2")).await.unwrap(),
        vec![other]
    );
    assert!(
        conflict_history(store, Some("none"))
            .await
            .unwrap()
            .is_empty()
    );
}
