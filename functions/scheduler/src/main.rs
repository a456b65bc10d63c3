//! Thin main of the scheduler function: builds the adapters and the Graph client once per
//! execution environment and runs `tasksync::scheduler::run_tick` on every EventBridge schedule
//! event, bounded by the invocation's deadline.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use tasksync::config::{Deployment, GraphEndpoints, ProcessEnv, webhook_base_url};
use tasksync::scheduler::{RunContext, SchedulerDeps, SchedulerSettings, run_tick};
use tasksync::worker::{SAFETY_MARGIN, invocation_deadline};

/// The function's timeout in template.yaml: the deadline when the runtime sends none usable.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

#[tokio::main]
async fn main() -> Result<(), Error> {
    tasksync::telemetry::init_lambda();
    let deployment = Deployment::from_env(&ProcessEnv).await?;
    let endpoints = GraphEndpoints::from_env(&ProcessEnv)?;
    let settings =
        SchedulerSettings::for_deployment(&webhook_base_url(&ProcessEnv)?, &endpoints.tenant_id);
    let graph = endpoints.connect(&deployment.aws).await?;
    let store = deployment.sync_store();
    let queue = deployment.hint_queue();

    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let deadline = invocation_deadline(event.context.deadline, TIMEOUT, SAFETY_MARGIN);
        let deps = SchedulerDeps {
            store: store.clone(),
            queue: queue.clone(),
            graph: graph.with_deadline(deadline),
            settings: settings.clone(),
        };
        async move {
            let ctx = RunContext::new(chrono::Utc::now(), deadline);
            Ok::<_, Error>(run_tick(&deps, &ctx).await)
        }
    }))
    .await
}
