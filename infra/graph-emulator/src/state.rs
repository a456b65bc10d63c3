//! The emulator's shared state: one lock per area so that areas never wait on each other.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::EmulatorConfig;

/// Cheap to clone; handed to every axum handler.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub config: EmulatorConfig,
    /// The Graph root as clients reach it, e.g. `http://127.0.0.1:PORT/v1.0` (for nextLinks).
    pub graph_base_url: String,
    pub auth: Mutex<crate::auth::AuthState>,
    pub planner: Mutex<crate::planner::PlannerState>,
    pub todo: Mutex<crate::todo::TodoState>,
    pub subscriptions: Mutex<crate::subscriptions::SubscriptionState>,
    pub faults: Mutex<crate::faults::FaultState>,
    pub counters: crate::faults::Counters,
    pub delivery: crate::delivery::Delivery,
    pub clock: Clock,
    /// The Graph router itself (with its middleware), so `$batch` can dispatch sub-requests
    /// through exactly the same routes, auth, faults and counters (docs/graph-behaviour.md §4). Set
    /// once by `server::start`; cleared on shutdown to break the state -> router -> state cycle.
    pub graph_router: Mutex<Option<axum::Router>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Locks a mutex, recovering from poisoning: a panicking handler must not take the whole
/// emulator down with it (the state it guarded is still consistent per request).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The emulator's clock: real time plus an offset that the control API can advance, so tests can
/// reach token expiry or subscription expiry without waiting.
#[derive(Default)]
pub struct Clock {
    offset_ms: std::sync::atomic::AtomicI64,
}

impl Clock {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        let offset = self.offset_ms.load(std::sync::atomic::Ordering::Relaxed);
        chrono::Utc::now() + chrono::Duration::milliseconds(offset)
    }

    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms
            .fetch_add(ms, std::sync::atomic::Ordering::Relaxed);
    }
}
