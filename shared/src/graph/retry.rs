//! When to try a Graph call again and how long to wait first (docs/graph-behaviour.md §5):
//! `Retry-After` is always honoured; without it, exponential backoff with full jitter. The client
//! sits through a wait only when it is short ([`RetryPolicy::max_wait`], 2 s by default) and fits
//! before the caller's deadline: a longer one is handed back as "throttled, retry after N s", so a
//! Lambda gives the wait to the queue instead of sleeping while the rest of its batch waits.

use std::time::{Duration, Instant, SystemTime};

/// Bounds of the retry loop. The defaults suit a Lambda handling a queue message: a few quick
/// tries, then hand the wait back to the queue.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included.
    pub max_attempts: u32,
    /// First backoff ceiling; doubles per attempt.
    pub base_delay: Duration,
    /// Largest backoff ceiling.
    pub max_delay: Duration,
    /// The longest single wait the client sits through inside one call, with or without a
    /// deadline; a longer `Retry-After` (or backoff) is returned to the caller to schedule (the
    /// worker hands it to the queue). Short on purpose: an invocation that sleeps holds the rest
    /// of its batch and a Lambda slot while it does.
    pub max_wait: Duration,
    /// The longest one request may take (shortened further by the deadline).
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
            max_wait: Self::DEFAULT_MAX_WAIT,
            attempt_timeout: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The default of [`RetryPolicy::max_wait`].
    pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(2);

    /// The backoff ceiling before attempt `retry` (0 for the first retry): `base * 2^retry`,
    /// capped at `max_delay`.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(20));
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// Full jitter: a uniform wait in `[0, ceiling]`, so that many clients throttled together
    /// do not come back together.
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self.backoff_ceiling(retry);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::random_range(0..=millis))
    }
}

/// Parses a `Retry-After` value: delta-seconds (what Graph sends) or an HTTP-date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::from(at.with_timezone(&chrono::Utc));
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether the client may sit through a wait of `wait`: at most the policy's longest wait, and,
/// with a deadline, before it (with room left for the retried request itself).
pub fn wait_fits(
    wait: Duration,
    now: Instant,
    deadline: Option<Instant>,
    policy: &RetryPolicy,
    request_allowance: Duration,
) -> bool {
    if wait > policy.max_wait {
        return false;
    }
    match deadline {
        Some(deadline) => {
            let left = deadline.saturating_duration_since(now);
            wait.saturating_add(request_allowance) <= left
        }
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_470);
        assert_eq!(parse_retry_after("10", now), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        // 1445412480 = Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn backoff_grows_exponentially_up_to_the_cap_with_full_jitter() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            max_wait: Duration::from_secs(60),
            attempt_timeout: Duration::from_secs(30),
        };
        assert_eq!(p.backoff_ceiling(0), Duration::from_millis(100));
        assert_eq!(p.backoff_ceiling(1), Duration::from_millis(200));
        assert_eq!(p.backoff_ceiling(3), Duration::from_millis(800));
        assert_eq!(p.backoff_ceiling(5), Duration::from_secs(2));
        assert_eq!(p.backoff_ceiling(u32::MAX), Duration::from_secs(2));
        let mut seen_small = false;
        let mut seen_large = false;
        for _ in 0..2000 {
            let d = p.backoff(3);
            assert!(d <= Duration::from_millis(800));
            seen_small |= d < Duration::from_millis(200);
            seen_large |= d > Duration::from_millis(600);
        }
        assert!(
            seen_small && seen_large,
            "jitter must spread over the range"
        );
    }

    #[test]
    fn a_wait_longer_than_the_time_left_does_not_fit() {
        let p = RetryPolicy {
            max_wait: Duration::from_secs(60),
            ..RetryPolicy::default()
        };
        let now = Instant::now();
        let deadline = now + Duration::from_secs(5);
        let allowance = Duration::from_millis(500);
        assert!(wait_fits(
            Duration::from_secs(4),
            now,
            Some(deadline),
            &p,
            allowance
        ));
        assert!(!wait_fits(
            Duration::from_secs(5),
            now,
            Some(deadline),
            &p,
            allowance
        ));
        assert!(!wait_fits(
            Duration::ZERO,
            deadline,
            Some(deadline),
            &p,
            allowance
        ));
        assert!(wait_fits(Duration::from_secs(60), now, None, &p, allowance));
        assert!(!wait_fits(
            Duration::from_secs(61),
            now,
            None,
            &p,
            allowance
        ));
    }

    #[test]
    fn a_long_retry_after_is_never_slept_through_even_with_time_left() {
        let p = RetryPolicy::default();
        let now = Instant::now();
        let far = Some(now + Duration::from_secs(600));
        let allowance = Duration::from_millis(500);
        assert!(wait_fits(Duration::from_secs(2), now, far, &p, allowance));
        assert!(!wait_fits(Duration::from_secs(3), now, far, &p, allowance));
        assert!(!wait_fits(Duration::from_secs(30), now, far, &p, allowance));
        assert!(!wait_fits(
            Duration::from_secs(30),
            now,
            None,
            &p,
            allowance
        ));
    }
}
