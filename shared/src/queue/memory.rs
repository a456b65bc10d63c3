//! An in-memory work queue implementing `HintSend`, for unit tests and the embedded local run.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::ports::{HintSend, QueueError};
use crate::queue_message::{DecodeError, Hint, decode, encode};

#[derive(Default)]
struct State {
    bodies: Vec<String>,
    refuse: Option<String>,
}

/// Records the encoded envelopes it is sent, exactly as SQS would carry them. Clones share the
/// same queue.
#[derive(Clone, Default)]
pub struct MemoryHintQueue {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for MemoryHintQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryHintQueue")
            .field("pending", &self.lock().bodies.len())
            .finish()
    }
}

impl MemoryHintQueue {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every mutation is a single push or swap, so a poisoned lock holds consistent data.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes every body sent so far, oldest first.
    pub fn drain(&self) -> Vec<String> {
        std::mem::take(&mut self.lock().bodies)
    }

    /// Takes every message sent so far, decoded.
    pub fn drain_hints(&self) -> Vec<Result<Hint, DecodeError>> {
        self.drain().iter().map(|body| decode(body)).collect()
    }

    /// Number of bodies waiting to be drained.
    pub fn len(&self) -> usize {
        self.lock().bodies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// While `Some(reason)`, every send is refused whole with `QueueError::NotEnqueued` (to test
    /// that callers do not acknowledge their input when enqueueing fails).
    pub fn refuse_sends(&self, reason: Option<String>) {
        self.lock().refuse = reason;
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
        state.bodies.extend(hints.iter().map(encode));
        Ok(())
    }
}
