//! An in-memory work queue implementing `HintSend`, for unit tests and the embedded local run.
//!
//! It behaves like the SQS work queue where that decides what happens to a failing message: a
//! received message is in flight until deleted or released, each receive is counted, a delay
//! (visibility or `DelaySeconds`) hides a message until it passes, and a message received
//! `max_receive_count` times that fails again is moved to the dead-letter list on its next
//! receive (SQS's redrive policy, template.yaml's `maxReceiveCount`), instead of coming back
//! forever.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::ports::{HintSend, QueueError};
use crate::queue::ReceivedMessage;
use crate::queue_message::{DecodeError, Hint, decode, encode};

/// template.yaml's `maxReceiveCount` of the work queue.
pub const DEFAULT_MAX_RECEIVE_COUNT: u32 = 5;

#[derive(Debug, Clone)]
struct Message {
    id: String,
    body: String,
    receive_count: u32,
    visible_at: Option<Instant>,
}

struct State {
    ready: VecDeque<Message>,
    in_flight: HashMap<String, Message>,
    dead: Vec<Message>,
    refuse: Option<String>,
    max_receive_count: u32,
}

impl Default for State {
    fn default() -> Self {
        Self {
            ready: VecDeque::new(),
            in_flight: HashMap::new(),
            dead: Vec::new(),
            refuse: None,
            max_receive_count: DEFAULT_MAX_RECEIVE_COUNT,
        }
    }
}

impl State {
    fn push(&mut self, body: String, visible_at: Option<Instant>) {
        self.ready.push_back(Message {
            id: uuid::Uuid::new_v4().to_string(),
            body,
            receive_count: 0,
            visible_at,
        });
    }
}

/// Records the encoded envelopes it is sent, exactly as SQS would carry them. Clones share the
/// same queue.
#[derive(Clone, Default)]
pub struct MemoryHintQueue {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for MemoryHintQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("MemoryHintQueue")
            .field("pending", &state.ready.len())
            .field("in_flight", &state.in_flight.len())
            .field("dead", &state.dead.len())
            .finish()
    }
}

impl MemoryHintQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// A queue whose messages are dead-lettered after `max_receive_count` failed receives.
    pub fn with_max_receive_count(max_receive_count: u32) -> Self {
        let queue = Self::default();
        queue.lock().max_receive_count = max_receive_count.max(1);
        queue
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every mutation is a single push, move or swap, so a poisoned lock holds consistent data.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes every body waiting (delayed ones included), oldest first, without counting a
    /// receive: for tests that look at what was sent.
    pub fn drain(&self) -> Vec<String> {
        std::mem::take(&mut self.lock().ready)
            .into_iter()
            .map(|m| m.body)
            .collect()
    }

    /// Takes every message sent so far, decoded.
    pub fn drain_hints(&self) -> Vec<Result<Hint, DecodeError>> {
        self.drain().iter().map(|body| decode(body)).collect()
    }

    /// Number of bodies waiting (not in flight, not dead).
    pub fn len(&self) -> usize {
        self.lock().ready.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// While `Some(reason)`, every send is refused whole with `QueueError::NotEnqueued` (to test
    /// that callers do not acknowledge their input when enqueueing fails).
    pub fn refuse_sends(&self, reason: Option<String>) {
        self.lock().refuse = reason;
    }

    /// Hands out up to `max` visible messages, counting the receive. A visible message already
    /// received `max_receive_count` times moves to the dead-letter list instead, as SQS's redrive
    /// policy does.
    pub fn receive(&self, max: usize) -> Vec<ReceivedMessage> {
        let now = Instant::now();
        let mut state = self.lock();
        let mut taken = Vec::new();
        let mut waiting = VecDeque::new();
        while let Some(mut message) = state.ready.pop_front() {
            if taken.len() >= max || message.visible_at.is_some_and(|at| at > now) {
                waiting.push_back(message);
                continue;
            }
            if message.receive_count >= state.max_receive_count {
                state.dead.push(message);
                continue;
            }
            message.receive_count += 1;
            message.visible_at = None;
            let handle = uuid::Uuid::new_v4().to_string();
            taken.push(ReceivedMessage {
                body: message.body.clone(),
                receipt_handle: handle.clone(),
                message_id: message.id.clone(),
                receive_count: message.receive_count,
            });
            state.in_flight.insert(handle, message);
        }
        state.ready = waiting;
        taken
    }

    /// Acknowledges a received message: it is gone.
    pub fn delete(&self, receipt_handle: &str) {
        self.lock().in_flight.remove(receipt_handle);
    }

    /// A received message failed: it becomes receivable again (after its delay, if one was set
    /// while it was in flight), keeping its receive count.
    pub fn release(&self, receipt_handle: &str) {
        let mut state = self.lock();
        if let Some(message) = state.in_flight.remove(receipt_handle) {
            state.ready.push_back(message);
        }
    }

    /// Hides an in-flight message for `secs` once it is released (`ChangeMessageVisibility`).
    pub fn set_visibility(&self, receipt_handle: &str, secs: u32) {
        if let Some(message) = self.lock().in_flight.get_mut(receipt_handle) {
            message.visible_at = Some(Instant::now() + Duration::from_secs(u64::from(secs)));
        }
    }

    /// Sends one raw body, receivable after `delay_secs` (`DelaySeconds`), as a fresh message.
    pub fn send_body_delayed(&self, body: &str, delay_secs: u32) -> Result<(), QueueError> {
        let mut state = self.lock();
        if let Some(reason) = &state.refuse {
            return Err(QueueError::NotEnqueued {
                failed: 1,
                total: 1,
                reason: reason.clone(),
            });
        }
        let at = Instant::now() + Duration::from_secs(u64::from(delay_secs));
        state.push(body.to_owned(), Some(at));
        Ok(())
    }

    /// The bodies moved to the dead-letter list, oldest first.
    pub fn dead_letters(&self) -> Vec<String> {
        self.lock().dead.iter().map(|m| m.body.clone()).collect()
    }
}

impl HintSend for MemoryHintQueue {
    async fn send_hints(&self, hints: &[Hint]) -> Result<(), QueueError> {
        if hints.is_empty() {
            return Ok(());
        }
        let mut state = self.lock();
        if let Some(reason) = &state.refuse {
            return Err(QueueError::NotEnqueued {
                failed: hints.len(),
                total: hints.len(),
                reason: reason.clone(),
            });
        }
        for hint in hints {
            state.push(encode(hint), None);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(id: &str) -> Hint {
        Hint::LocalTask {
            list_id: "l".into(),
            task_id: id.into(),
        }
    }

    #[tokio::test]
    async fn a_message_that_always_fails_is_dead_lettered_after_the_receive_limit() {
        let queue = MemoryHintQueue::with_max_receive_count(3);
        queue.send_hints(&[hint("poison")]).await.unwrap();
        let mut counts = Vec::new();
        for _ in 0..10 {
            let got = queue.receive(10);
            let Some(message) = got.first() else { break };
            counts.push(message.receive_count);
            queue.release(&message.receipt_handle);
        }
        assert_eq!(counts, vec![1, 2, 3], "received three times, then no more");
        assert_eq!(queue.dead_letters(), vec![encode(&hint("poison"))]);
        assert!(queue.is_empty());
    }

    #[tokio::test]
    async fn deleted_messages_are_gone_and_delayed_ones_wait() {
        let queue = MemoryHintQueue::new();
        queue.send_hints(&[hint("a"), hint("b")]).await.unwrap();
        let got = queue.receive(1);
        assert_eq!(got.len(), 1, "at most max");
        queue.delete(&got[0].receipt_handle);
        let second = queue.receive(10);
        assert_eq!(second.len(), 1);
        queue.set_visibility(&second[0].receipt_handle, 3600);
        queue.release(&second[0].receipt_handle);
        assert!(queue.receive(10).is_empty(), "hidden for its visibility");
        queue.send_body_delayed("x", 3600).unwrap();
        queue.send_body_delayed("y", 0).unwrap();
        let now = queue.receive(10);
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].body, "y");
        assert!(queue.dead_letters().is_empty());
    }
}
