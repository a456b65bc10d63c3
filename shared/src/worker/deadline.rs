//! The time an invocation may spend, as an `Instant` the Graph client can honour: a throttled
//! call whose `Retry-After` reaches past it is returned as "throttled" instead of sleeping, so
//! the Lambda never times out mid-batch (docs/architecture.md principle 7).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Time kept back for reporting the batch result after the last Graph call.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(2);

/// Converts Lambda's deadline (milliseconds since the epoch) into an `Instant`, less the margin.
pub fn invocation_deadline(deadline_epoch_ms: u64, margin: Duration) -> Instant {
    deadline_at(deadline_epoch_ms, SystemTime::now(), Instant::now(), margin)
}

/// [`invocation_deadline`] with the clocks passed in. A deadline already past (or a wall clock
/// before the epoch) gives `now_instant`: calls then fail fast rather than hang.
pub fn deadline_at(
    deadline_epoch_ms: u64,
    now: SystemTime,
    now_instant: Instant,
    margin: Duration,
) -> Instant {
    let now_ms = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let left_ms = u128::from(deadline_epoch_ms).saturating_sub(now_ms);
    let left = Duration::from_millis(u64::try_from(left_ms).unwrap_or(u64::MAX));
    now_instant + left.saturating_sub(margin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_margin_back() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let base = Instant::now();
        let d = deadline_at(1_000_000 + 30_000, now, base, SAFETY_MARGIN);
        assert_eq!(d.duration_since(base), Duration::from_secs(28));
    }

    #[test]
    fn a_past_deadline_means_now() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let base = Instant::now();
        assert_eq!(deadline_at(999_000, now, base, SAFETY_MARGIN), base);
        let before_epoch = UNIX_EPOCH - Duration::from_secs(5);
        assert_eq!(
            deadline_at(0, before_epoch, base, SAFETY_MARGIN),
            base,
            "nothing left at deadline 0"
        );
    }
}
