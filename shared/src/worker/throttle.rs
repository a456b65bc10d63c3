//! Throttling without sleeping (docs/graph-client.md, "Throttling"): the Graph client sits through
//! only short waits, so a longer `Retry-After` reaches the worker as a retry with a wait, which
//! goes to the queue; and a throttle one message met slows its whole binding for the rest of the
//! batch, whose other messages of that binding are deferred without calling Graph (Graph's
//! limits are per app and per tenant or resource, docs/graph-behaviour.md §5: the next call on
//! the same binding would only be throttled again, and counts against the limit).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::ports::MessageDelay;
use crate::queue::sqs::MAX_DELAY_SECS;
use crate::queue_message;

/// Per binding, until when Graph asked to be left alone; kept for one batch (one invocation).
#[derive(Debug, Default)]
pub(crate) struct BindingThrottles {
    until: HashMap<String, Instant>,
}

impl BindingThrottles {
    /// How long the binding is still throttled, if it is.
    pub(crate) fn remaining(&self, binding_id: &str) -> Option<Duration> {
        let left = self
            .until
            .get(binding_id)?
            .saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    /// Graph throttled a call of this binding for `after`.
    pub(crate) fn note(&mut self, binding_id: &str, after: Duration) {
        let until = Instant::now() + after;
        let entry = self.until.entry(binding_id.to_owned()).or_insert(until);
        *entry = (*entry).max(until);
    }
}

/// Whole seconds to wait for `after`, at least one.
fn whole_secs(after: Duration) -> u32 {
    let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
    u32::try_from(secs.max(1)).unwrap_or(u32::MAX)
}

/// Hands a throttled message's wait to the queue; true when the message must still be reported
/// failed. Before its last receive the message's visibility is set to the wait (it comes back
/// then, one receive more). On its last receive a failure would move it to the DLQ, so a fresh
/// copy carrying its attempt count is sent with `DelaySeconds` instead (at most 15 minutes: it is
/// throttled again if Graph still wants longer) and this receive is acknowledged. Should the copy
/// not be sent, the message keeps its old path: a copy in the DLQ beats a lost hint.
pub(crate) async fn hand_wait_to_queue<Q: MessageDelay>(
    queue: &Q,
    body: &str,
    receipt_handle: Option<&str>,
    last_receive: bool,
    after: Duration,
) -> bool {
    let secs = whole_secs(after);
    if last_receive && let Ok((hint, attempt)) = queue_message::decode_attempt(body) {
        let copy = queue_message::encode_attempt(&hint, attempt.saturating_add(1));
        match queue.send_delayed(&copy, secs.min(MAX_DELAY_SECS)).await {
            Ok(()) => {
                tracing::info!(
                    attempt = attempt.saturating_add(1),
                    delay_secs = secs.min(MAX_DELAY_SECS),
                    "throttled on its last receive: sent again with a delay instead of the DLQ"
                );
                return false;
            }
            Err(e) => tracing::warn!(error = %e, "could not send the throttled message again"),
        }
    }
    if let Some(handle) = receipt_handle
        && let Err(e) = queue.delay_message(handle, secs).await
    {
        tracing::warn!(error = %e, "could not delay the throttled message");
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_slows_the_binding_until_it_passes() {
        let mut throttles = BindingThrottles::default();
        assert_eq!(throttles.remaining("b"), None);
        throttles.note("b", Duration::from_secs(30));
        throttles.note("b", Duration::from_secs(5));
        let left = throttles.remaining("b").unwrap();
        assert!(
            left > Duration::from_secs(29),
            "the longer wait wins: {left:?}"
        );
        assert_eq!(throttles.remaining("other"), None);
        throttles.note("c", Duration::ZERO);
        assert_eq!(throttles.remaining("c"), None);
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(whole_secs(Duration::ZERO), 1);
        assert_eq!(whole_secs(Duration::from_millis(1500)), 2);
        assert_eq!(whole_secs(Duration::from_secs(30)), 30);
    }
}
