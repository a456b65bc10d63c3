//! A small in-memory cache of subscription lookups that lives as long as the Lambda execution
//! environment, so warm invocations do not read the store for every notification.
//!
//! Both outcomes are cached: a found record for `hit_ttl`, "no such subscription" for the shorter
//! `miss_ttl`. Caching misses keeps a flood of forged ids from turning into a flood of store
//! reads; keeping misses short means a subscription created a moment ago (Graph may notify right
//! after the create returns) is found soon. Errors are never cached.
//!
//! A stale hit is harmless in one direction only: a deleted subscription keeps being accepted for
//! up to `hit_ttl`, and its hints are hints (the worker reads the current state). A changed
//! clientState for the same id does not happen: recreating a subscription gives a new id.
//!
//! The map is bounded: when full, expired entries are dropped, and if that is not enough the map
//! is cleared (forged ids must not grow memory without bound; losing the cache costs a few reads).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::model::SubscriptionRecord;

/// What the cache knows about one subscription id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cached {
    Found(SubscriptionRecord),
    NotFound,
}

#[derive(Debug)]
struct Entry {
    value: Cached,
    expires: Instant,
}

#[derive(Debug)]
pub struct SubscriptionCache {
    entries: Mutex<HashMap<String, Entry>>,
    hit_ttl: Duration,
    miss_ttl: Duration,
    max_entries: usize,
}

impl SubscriptionCache {
    pub fn new(hit_ttl: Duration, miss_ttl: Duration, max_entries: usize) -> Self {
        SubscriptionCache {
            entries: Mutex::new(HashMap::new()),
            hit_ttl,
            miss_ttl,
            max_entries: max_entries.max(1),
        }
    }

    pub fn get(&self, subscription_id: &str) -> Option<Cached> {
        self.get_at(subscription_id, Instant::now())
    }

    pub fn put(&self, subscription_id: &str, value: Cached) {
        self.put_at(subscription_id, value, Instant::now());
    }

    /// `get` at a given instant, so expiry is testable without waiting.
    pub fn get_at(&self, subscription_id: &str, now: Instant) -> Option<Cached> {
        let mut entries = self.lock();
        match entries.get(subscription_id) {
            Some(entry) if entry.expires > now => Some(entry.value.clone()),
            Some(_) => {
                entries.remove(subscription_id);
                None
            }
            None => None,
        }
    }

    /// `put` at a given instant, so expiry is testable without waiting.
    pub fn put_at(&self, subscription_id: &str, value: Cached, now: Instant) {
        let ttl = match value {
            Cached::Found(_) => self.hit_ttl,
            Cached::NotFound => self.miss_ttl,
        };
        if ttl.is_zero() {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= self.max_entries && !entries.contains_key(subscription_id) {
            entries.retain(|_, entry| entry.expires > now);
            if entries.len() >= self.max_entries {
                entries.clear();
            }
        }
        let expires = now.checked_add(ttl).unwrap_or(now);
        entries.insert(subscription_id.to_owned(), Entry { value, expires });
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A poisoned lock only means another request panicked mid-update of a plain map; the map
    /// is still a valid cache, so keep using it.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn record(id: &str) -> SubscriptionRecord {
        SubscriptionRecord {
            id: id.into(),
            binding_id: "b".into(),
            client_state: "secret".into(),
            tenant_id: "t".into(),
            expires_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn hits_live_longer_than_misses() {
        let cache = SubscriptionCache::new(Duration::from_secs(60), Duration::from_secs(5), 10);
        let t0 = Instant::now();
        cache.put_at("a", Cached::Found(record("a")), t0);
        cache.put_at("b", Cached::NotFound, t0);
        assert_eq!(cache.get_at("a", t0), Some(Cached::Found(record("a"))));
        assert_eq!(cache.get_at("b", t0), Some(Cached::NotFound));
        let t10 = t0 + Duration::from_secs(10);
        assert_eq!(cache.get_at("a", t10), Some(Cached::Found(record("a"))));
        assert_eq!(cache.get_at("b", t10), None);
        assert_eq!(cache.get_at("a", t0 + Duration::from_secs(61)), None);
        assert!(cache.is_empty());
    }

    #[test]
    fn stays_bounded_under_a_flood_of_ids() {
        let cache = SubscriptionCache::new(Duration::from_secs(60), Duration::from_secs(5), 100);
        let t0 = Instant::now();
        for i in 0..1000 {
            cache.put_at(&format!("forged-{i}"), Cached::NotFound, t0);
            assert!(cache.len() <= 100);
        }
    }

    #[test]
    fn zero_ttl_disables_caching() {
        let cache = SubscriptionCache::new(Duration::ZERO, Duration::ZERO, 10);
        cache.put("a", Cached::Found(record("a")));
        assert_eq!(cache.get("a"), None);
    }
}
