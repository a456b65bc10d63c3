//! The time an invocation may spend, as an `Instant` the Graph client can honour: a throttled
//! call whose `Retry-After` reaches past it is returned as "throttled" instead of sleeping, so
//! the Lambda never times out mid-batch (docs/architecture.md principle 7).
//!
//! Local runtimes do not always send a usable deadline: `cargo lambda watch` (1.9.2) sends one
//! in 1970. Taken at face value every Graph call of the invocation would fail as "deadline
//! passed", so such a deadline is replaced by the function's configured timeout, with one
//! warning per process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Time kept back for reporting the batch result after the last Graph call.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(2);

/// Converts Lambda's deadline (milliseconds since the epoch) into an `Instant`, less the margin.
/// A deadline already past is a runtime that does not know the deadline: `timeout` (the
/// function's configured timeout, as in template.yaml) is used instead.
pub fn invocation_deadline(deadline_epoch_ms: u64, timeout: Duration, margin: Duration) -> Instant {
    let now = SystemTime::now();
    let now_instant = Instant::now();
    match deadline_or_timeout(deadline_epoch_ms, timeout, now, now_instant, margin) {
        Deadline::FromRuntime(at) => at,
        Deadline::Fallback(at) => {
            static WARNED: AtomicBool = AtomicBool::new(false);
            if !WARNED.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    deadline_epoch_ms,
                    timeout_secs = timeout.as_secs(),
                    "the runtime's invocation deadline is already past (a local runtime such as \
                     cargo lambda watch?); using the configured timeout instead"
                );
            }
            at
        }
    }
}

/// Where a deadline came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// The runtime's own deadline, less the margin.
    FromRuntime(Instant),
    /// The runtime's deadline was already past: now + the configured timeout, less the margin.
    Fallback(Instant),
}

/// [`invocation_deadline`] with the clocks passed in and no logging.
pub fn deadline_or_timeout(
    deadline_epoch_ms: u64,
    timeout: Duration,
    now: SystemTime,
    now_instant: Instant,
    margin: Duration,
) -> Deadline {
    let now_ms = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    if u128::from(deadline_epoch_ms) <= now_ms {
        return Deadline::Fallback(now_instant + timeout.saturating_sub(margin));
    }
    Deadline::FromRuntime(deadline_at(deadline_epoch_ms, now, now_instant, margin))
}

/// The runtime's deadline as an `Instant`, less the margin. A deadline already past (or a wall
/// clock before the epoch) gives `now_instant`.
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

    const TIMEOUT: Duration = Duration::from_secs(30);

    #[test]
    fn keeps_the_margin_back() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let base = Instant::now();
        let d = deadline_at(1_000_000 + 30_000, now, base, SAFETY_MARGIN);
        assert_eq!(d.duration_since(base), Duration::from_secs(28));
        assert_eq!(
            deadline_or_timeout(1_000_000 + 30_000, TIMEOUT, now, base, SAFETY_MARGIN),
            Deadline::FromRuntime(d)
        );
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

    #[test]
    fn a_deadline_in_1970_falls_back_to_the_configured_timeout() {
        // What cargo lambda watch 1.9.2 sends: a deadline a few seconds after the epoch.
        let now = UNIX_EPOCH + Duration::from_secs(1_764_000_000);
        let base = Instant::now();
        let d = deadline_or_timeout(3_000, TIMEOUT, now, base, SAFETY_MARGIN);
        assert_eq!(d, Deadline::Fallback(base + Duration::from_secs(28)));
        // The public function gives a deadline in the future, not "now".
        let at = invocation_deadline(3_000, TIMEOUT, SAFETY_MARGIN);
        assert!(at > Instant::now() + Duration::from_secs(20));
    }
}
