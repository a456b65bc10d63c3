//! The scheduler function's handler: renews Graph subscriptions and sweeps due bindings.
//!
//! Not built yet: issue 6 fills it in. Until then each tick reports that it did nothing, so a
//! deployment shows honestly in its logs that subscriptions are not yet being renewed.

use serde::Serialize;

/// What one scheduled run did; returned to Lambda and logged.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct TickReport {
    pub subscriptions_renewed: u32,
    pub bindings_swept: u32,
    pub hints_enqueued: u32,
}

/// One scheduled run.
pub async fn handle_tick() -> TickReport {
    let report = TickReport::default();
    tracing::warn!(
        ?report,
        "scheduler not implemented yet (issue 6): no subscription renewed, no binding swept"
    );
    report
}
