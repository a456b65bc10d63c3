//! The time an invocation may spend, as an `Instant` the Graph client can honour: a throttled
//! call whose `Retry-After` reaches past it is returned as "throttled" instead of sleeping, so
//! the Lambda never times out mid-batch (DESIGN.md principle 7).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Time kept back for reporting the batch result after the last Graph call.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(2);

/// Converts Lambda's deadline (milliseconds since the epoch) into an `Instant`, less the margin.
/// A deadline already past (or unreadable) gives "now": calls then fail fast rather than hang.
pub fn invocation_deadline(deadline_epoch_ms: u64, now: SystemTime, margin: Duration) -> Instant {
    let now_ms = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let left_ms = u128::from(deadline_epoch_ms).saturating_sub(now_ms);
    let left = Duration::from_millis(u64::try_from(left_ms).unwrap_or(u64::MAX));
    Instant::now() + left.saturating_sub(margin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_margin_back() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let deadline_ms = 1_000_000 + 30_000;
        let before = Instant::now();
        let d = invocation_deadline(deadline_ms, now, SAFETY_MARGIN);
        let left = d.duration_since(before);
        assert!(left <= Duration::from_secs(28), "{left:?}");
        assert!(left >= Duration::from_secs(27), "{left:?}");
    }

    #[test]
    fn a_past_deadline_means_now() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let before = Instant::now();
        let d = invocation_deadline(999_000, now, SAFETY_MARGIN);
        assert!(d.duration_since(before) < Duration::from_millis(100));
    }
}
