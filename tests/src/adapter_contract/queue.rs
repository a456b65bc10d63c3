//! The hint queue's contract.

use super::*;

/// Twenty-five hints of every kind, more than two SQS batches.
pub fn hint_batch() -> Vec<Hint> {
    (0..25)
        .map(|i| match i % 6 {
            0 => Hint::RemoteTodoTask {
                binding_id: format!("b{i}"),
                task_id: format!("t{i}"),
            },
            1 => Hint::RemotePlannerTask {
                binding_id: format!("b{i}"),
                task_id: format!("t{i}"),
            },
            2 => Hint::LocalTask {
                list_id: format!("l{i}"),
                task_id: format!("t{i}"),
            },
            3 => Hint::ResyncBinding {
                binding_id: format!("b{i}"),
                reason: "missed".to_owned(),
            },
            4 => Hint::ReauthorizeSubscription {
                binding_id: format!("b{i}"),
                subscription_id: format!("s{i}"),
            },
            _ => Hint::RecreateSubscription {
                binding_id: format!("b{i}"),
                subscription_id: format!("s{i}"),
            },
        })
        .collect()
}

fn sorted(mut hints: Vec<Hint>) -> Vec<String> {
    let mut keys: Vec<String> = hints.drain(..).map(|h| format!("{h:?}")).collect();
    keys.sort();
    keys
}

/// HintSend: every hint of a batch larger than the SQS limit arrives exactly once, as a v1
/// envelope that decodes back to the hint; an empty send is a no-op.
pub async fn hint_queue_contract(queue: &(impl HintSend + SentBodies)) {
    queue.send_hints(&[]).await.unwrap();

    let hints = hint_batch();
    queue.send_hints(&hints).await.unwrap();
    let bodies = queue.take_bodies(hints.len()).await;
    assert_eq!(bodies.len(), hints.len(), "every hint arrives exactly once");
    let mut received = Vec::new();
    for body in &bodies {
        let value: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(value["v"], 1, "{body}");
        received.push(decode(body).unwrap());
    }
    assert_eq!(sorted(received), sorted(hints));

    queue.send_hints(&hint_batch()[..1]).await.unwrap();
    assert_eq!(queue.take_bodies(1).await.len(), 1);
}
