//! Thin main of the worker function: builds the adapters and the Graph client once per execution
//! environment (the client's token cache and connection pool then serve every warm invocation)
//! and runs `tasksync::worker::handle_batch`, the same handler the local run and the tests call,
//! with the Graph calls of each batch written as metrics. The subscription hints are wired by
//! `tasksync::worker::SubscriptionWiring`, which the lifecycle tests use too.

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use tasksync::config::{Deployment, GraphEndpoints, ProcessEnv, webhook_base_url};
use tasksync::worker::metrics::with_graph_metrics;
use tasksync::worker::{SAFETY_MARGIN, SubscriptionWiring, handle_batch, invocation_deadline};

/// The function's timeout in template.yaml: the deadline when the runtime sends none usable.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

#[tokio::main]
async fn main() -> Result<(), Error> {
    tasksync::telemetry::init_lambda();
    let deployment = Deployment::from_env(&ProcessEnv).await?;
    let endpoints = GraphEndpoints::from_env(&ProcessEnv)?;
    let graph = endpoints.connect(&deployment.aws).await?;
    let sync = deployment.sync_store();
    let tasks = deployment.task_store();
    let queue = deployment.hint_queue();
    let wiring =
        SubscriptionWiring::for_deployment(webhook_base_url(&ProcessEnv), &endpoints.tenant_id);

    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let deadline = invocation_deadline(event.context.deadline, TIMEOUT, SAFETY_MARGIN);
        let deps = wiring.worker(
            sync.clone(),
            tasks.clone(),
            graph.with_deadline(deadline),
            queue.clone(),
        );
        async move {
            let batch = handle_batch(event.payload, &deps);
            Ok::<_, Error>(with_graph_metrics(&deps.graph, batch).await)
        }
    }))
    .await
}
