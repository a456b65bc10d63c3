//! What the emulator accepts and how it behaves: credentials, seeded directory objects, limits.
//! Every field can be set by a flag or an environment variable of the binary (see `main.rs`).

use std::time::Duration;

/// How To Do reports `completedDateTime` (docs/graph-behaviour.md §3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TodoCompletion {
    /// The completion day at midnight UTC (`YYYY-MM-DDT00:00:00.0000000`), as real To Do reports
    /// it: what a client comparing completion times must survive.
    #[default]
    Day,
    /// The instant of completion, to the tick.
    Instant,
}

impl TodoCompletion {
    /// What is stored and reported for a completion at `at`.
    pub fn stamp(self, at: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        match self {
            TodoCompletion::Instant => at,
            TodoCompletion::Day => at
                .date_naive()
                .and_hms_opt(0, 0, 0)
                .map_or(at, |midnight| midnight.and_utc()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// How To Do reports completion times: the day (the default, as real To Do) or the instant.
    pub todo_completion: TodoCompletion,
    /// A second subscription with the same change types and resource: `false` (the default)
    /// answers 409 as the create page documents; `true` accepts it, as people report for some
    /// resources (docs/graph-behaviour.md §1.2a).
    pub allow_duplicate_subscriptions: bool,
    /// The tenant whose token endpoint is served (`/{tenant}/oauth2/v2.0/token`).
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    /// Lifetime of issued access tokens (`expires_in`).
    pub token_lifetime: Duration,
    /// The seeded user (To Do lists live under `/users/{user_id}`).
    pub user_id: String,
    /// The seeded group, which can own plans.
    pub group_id: String,
    /// Planner list page size (docs/graph-behaviour.md §2.9: fixed by the server, about 400, `$top`
    /// ignored).
    pub planner_page_size: usize,
    /// To Do delta page size.
    pub todo_page_size: usize,
    /// `MaximumActiveTasksInProject` (docs/graph-behaviour.md §2.11: 3,000 in the newer limits
    /// page).
    pub max_active_tasks_per_plan: usize,
    /// `MaximumTasksInProject` (docs/graph-behaviour.md §2.11: 9,000).
    pub max_tasks_per_plan: usize,
    /// `MaximumBucketsInProject` (docs/graph-behaviour.md §2.11: 200).
    pub max_buckets_per_plan: usize,
    /// `MaximumPlannerPlans` per group (docs/graph-behaviour.md §2.8: "currently 200").
    pub max_plans_per_group: usize,
    /// `MaximumAssigneesInTasks` (docs/graph-behaviour.md §2.11: 20).
    pub max_assignees_per_task: usize,
    /// `MaximumChecklistItemsOnTask` (docs/graph-behaviour.md §2.11: 20).
    pub max_checklist_items_per_task: usize,
    /// `MaximumReferencesOnTask` (docs/graph-behaviour.md §2.11: 10 in the older copy, 15 in the
    /// newer; the stricter one is the default so a client that passes here passes on either).
    pub max_references_per_task: usize,
    /// The validation handshake's limit (docs/graph-behaviour.md §1.3: 10 s).
    pub validation_timeout: Duration,
    /// First-attempt delivery timeout (docs/graph-behaviour.md §1.7: 3 s on the current page).
    pub delivery_timeout: Duration,
    /// Timeout of delivery retries (docs/graph-behaviour.md §1.7: 10 s).
    pub delivery_retry_timeout: Duration,
    /// How many times a failed delivery is retried before it is dropped (the real service retries
    /// for up to 4 hours; an emulator run is shorter).
    pub delivery_max_attempts: u32,
    /// Base of the exponential backoff between delivery retries.
    pub delivery_backoff: Duration,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            todo_completion: TodoCompletion::default(),
            allow_duplicate_subscriptions: false,
            tenant_id: "7a6f3c1e-0b1d-4c5e-9f10-2a3b4c5d6e7f".to_owned(),
            client_id: "0c9d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f".to_owned(),
            client_secret: "emulator-secret-not-for-production".to_owned(),
            token_lifetime: Duration::from_secs(3599),
            user_id: "4f1b2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d".to_owned(),
            group_id: "9e8d7c6b-5a4f-4e3d-2c1b-0a9f8e7d6c5b".to_owned(),
            planner_page_size: 400,
            todo_page_size: 100,
            max_active_tasks_per_plan: 3000,
            max_tasks_per_plan: 9000,
            max_buckets_per_plan: 200,
            max_plans_per_group: 200,
            max_assignees_per_task: 20,
            max_checklist_items_per_task: 20,
            max_references_per_task: 10,
            validation_timeout: Duration::from_secs(10),
            delivery_timeout: Duration::from_secs(3),
            delivery_retry_timeout: Duration::from_secs(10),
            delivery_max_attempts: 5,
            delivery_backoff: Duration::from_millis(200),
        }
    }
}
