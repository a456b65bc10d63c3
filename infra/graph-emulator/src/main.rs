//! `graph-emulator --listen 127.0.0.1:0`: serves the emulator and prints one JSON line on stdout
//! with what a client needs (base URLs, credentials, seeded ids); everything else goes to stderr,
//! so a parent process can read that first line and nothing more.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use graph_emulator::EmulatorConfig;

/// A local Microsoft Graph and identity platform (token endpoint, Planner, To Do, subscriptions,
/// $batch) for tests, benchmarks and the local run. Every option can also come from the
/// environment variable shown.
#[derive(Debug, Parser)]
#[command(name = "graph-emulator", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "GRAPH_EMULATOR_LISTEN", default_value = "127.0.0.1:0")]
    listen: String,
    /// Tenant whose token endpoint is served.
    #[arg(long, env = "GRAPH_EMULATOR_TENANT_ID")]
    tenant_id: Option<String>,
    /// The one client id the token endpoint accepts.
    #[arg(long, env = "GRAPH_EMULATOR_CLIENT_ID")]
    client_id: Option<String>,
    /// The client secret the token endpoint accepts.
    #[arg(long, env = "GRAPH_EMULATOR_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// Id of the seeded user (To Do lists live under /users/{id}).
    #[arg(long, env = "GRAPH_EMULATOR_USER_ID")]
    user_id: Option<String>,
    /// Id of the seeded group that can own plans.
    #[arg(long, env = "GRAPH_EMULATOR_GROUP_ID")]
    group_id: Option<String>,
    /// Lifetime of issued access tokens, in seconds (expires_in).
    #[arg(long, env = "GRAPH_EMULATOR_TOKEN_LIFETIME_SECS")]
    token_lifetime_secs: Option<u64>,
    /// Planner task-list page size (docs/graph-behaviour.md §2.9; $top is ignored).
    #[arg(long, env = "GRAPH_EMULATOR_PLANNER_PAGE_SIZE")]
    planner_page_size: Option<usize>,
    /// To Do delta page size.
    #[arg(long, env = "GRAPH_EMULATOR_TODO_PAGE_SIZE")]
    todo_page_size: Option<usize>,
    /// MaximumActiveTasksInProject limit.
    #[arg(long, env = "GRAPH_EMULATOR_MAX_ACTIVE_TASKS_PER_PLAN")]
    max_active_tasks_per_plan: Option<usize>,
    /// MaximumTasksInProject limit.
    #[arg(long, env = "GRAPH_EMULATOR_MAX_TASKS_PER_PLAN")]
    max_tasks_per_plan: Option<usize>,
    /// MaximumBucketsInProject limit.
    #[arg(long, env = "GRAPH_EMULATOR_MAX_BUCKETS_PER_PLAN")]
    max_buckets_per_plan: Option<usize>,
    /// MaximumChecklistItemsOnTask limit.
    #[arg(long, env = "GRAPH_EMULATOR_MAX_CHECKLIST_ITEMS_PER_TASK")]
    max_checklist_items_per_task: Option<usize>,
    /// MaximumReferencesOnTask limit.
    #[arg(long, env = "GRAPH_EMULATOR_MAX_REFERENCES_PER_TASK")]
    max_references_per_task: Option<usize>,
    /// MaximumAssigneesInTasks limit.
    #[arg(long, env = "GRAPH_EMULATOR_MAX_ASSIGNEES_PER_TASK")]
    max_assignees_per_task: Option<usize>,
    /// Time limit of the subscription validation handshake, in milliseconds.
    #[arg(long, env = "GRAPH_EMULATOR_VALIDATION_TIMEOUT_MS")]
    validation_timeout_ms: Option<u64>,
    /// Timeout of a first notification delivery attempt, in milliseconds.
    #[arg(long, env = "GRAPH_EMULATOR_DELIVERY_TIMEOUT_MS")]
    delivery_timeout_ms: Option<u64>,
    /// Timeout of notification delivery retries, in milliseconds.
    #[arg(long, env = "GRAPH_EMULATOR_DELIVERY_RETRY_TIMEOUT_MS")]
    delivery_retry_timeout_ms: Option<u64>,
    /// Delivery attempts before a notification is dropped.
    #[arg(long, env = "GRAPH_EMULATOR_DELIVERY_MAX_ATTEMPTS")]
    delivery_max_attempts: Option<u32>,
    /// Base of the exponential backoff between delivery retries, in milliseconds.
    #[arg(long, env = "GRAPH_EMULATOR_DELIVERY_BACKOFF_MS")]
    delivery_backoff_ms: Option<u64>,
    /// How To Do reports completedDateTime: `day` (midnight UTC of the completion day, as real
    /// To Do does; the default) or `instant`.
    #[arg(long, env = "GRAPH_EMULATOR_TODO_COMPLETION", value_parser = ["day", "instant"])]
    todo_completion: Option<String>,
}

impl Args {
    /// Starts from the defaults and overrides only what was given.
    fn into_config(self) -> EmulatorConfig {
        let mut c = EmulatorConfig::default();
        let ms = Duration::from_millis;
        if let Some(v) = self.tenant_id {
            c.tenant_id = v;
        }
        if let Some(v) = self.client_id {
            c.client_id = v;
        }
        if let Some(v) = self.client_secret {
            c.client_secret = v;
        }
        if let Some(v) = self.user_id {
            c.user_id = v;
        }
        if let Some(v) = self.group_id {
            c.group_id = v;
        }
        if let Some(v) = self.token_lifetime_secs {
            c.token_lifetime = Duration::from_secs(v);
        }
        if let Some(v) = self.planner_page_size {
            c.planner_page_size = v.max(1);
        }
        if let Some(v) = self.todo_page_size {
            c.todo_page_size = v.max(1);
        }
        if let Some(v) = self.max_active_tasks_per_plan {
            c.max_active_tasks_per_plan = v;
        }
        if let Some(v) = self.max_tasks_per_plan {
            c.max_tasks_per_plan = v;
        }
        if let Some(v) = self.max_buckets_per_plan {
            c.max_buckets_per_plan = v;
        }
        if let Some(v) = self.max_checklist_items_per_task {
            c.max_checklist_items_per_task = v;
        }
        if let Some(v) = self.max_references_per_task {
            c.max_references_per_task = v;
        }
        if let Some(v) = self.max_assignees_per_task {
            c.max_assignees_per_task = v;
        }
        if let Some(v) = self.validation_timeout_ms {
            c.validation_timeout = ms(v);
        }
        if let Some(v) = self.delivery_timeout_ms {
            c.delivery_timeout = ms(v);
        }
        if let Some(v) = self.delivery_retry_timeout_ms {
            c.delivery_retry_timeout = ms(v);
        }
        if let Some(v) = self.delivery_max_attempts {
            c.delivery_max_attempts = v;
        }
        if let Some(v) = self.delivery_backoff_ms {
            c.delivery_backoff = ms(v);
        }
        if let Some(v) = self.todo_completion {
            c.todo_completion = if v == "instant" {
                graph_emulator::TodoCompletion::Instant
            } else {
                graph_emulator::TodoCompletion::Day
            };
        }
        c
    }
}

/// Resolves on SIGINT or SIGTERM (SIGTERM is what process supervisors and test harnesses send).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let listen = args.listen.clone();
    let config = args.into_config();
    match graph_emulator::start(config, &listen).await {
        Ok(running) => {
            // The announcement is the binary's interface; it is the only stdout output.
            println!("{}", running.announcement());
            tracing::info!(graph_base_url = %running.graph_base_url, "graph-emulator listening");
            shutdown_signal().await;
            tracing::info!("graph-emulator stopping");
            running.stop().await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("graph-emulator: cannot listen on {listen}: {e}");
            ExitCode::FAILURE
        }
    }
}
