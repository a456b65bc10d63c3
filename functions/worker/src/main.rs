//! Thin main of the worker function: builds the adapters and the Graph client once per execution
//! environment (the client's token cache and connection pool then serve every warm invocation)
//! and runs `tasksync::worker::handle_batch`, the same handler the local run and the tests call.

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use tasksync::config::{AwsResources, GraphEndpoints, ProcessEnv};
use tasksync::graph::{GraphClient, HttpOptions, http_client};
use tasksync::queue::SqsHintQueue;
use tasksync::scheduler::{SchedulerDeps, SchedulerSettings};
use tasksync::store::{DynamoSyncStore, DynamoTaskStore};
use tasksync::worker::{SAFETY_MARGIN, WorkerDeps, handle_batch, invocation_deadline};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tasksync::telemetry::init_lambda();
    let resources = AwsResources::from_env(&ProcessEnv)?;
    let endpoints = GraphEndpoints::from_env(&ProcessEnv)?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let secret = tasksync::secrets::graph_client_secret(&endpoints.secret, &aws).await?;
    let graph = GraphClient::new(
        endpoints.settings(secret),
        http_client(&HttpOptions::default())?,
    )?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let sync = DynamoSyncStore::new(dynamodb.clone(), resources.sync_table);
    let tasks = DynamoTaskStore::new(dynamodb, resources.tasks_table);
    let queue = SqsHintQueue::new(aws_sdk_sqs::Client::new(&aws), resources.work_queue_url);
    // The subscription hints are the scheduler's code; it needs the webhook's URL to recreate a
    // subscription. Without it they are acknowledged and left to the scheduler's next run.
    let control_settings = match tasksync::config::webhook_base_url(&ProcessEnv) {
        Ok(base) => Some(SchedulerSettings::for_deployment(
            &base,
            &endpoints.tenant_id,
        )),
        Err(e) => {
            tracing::warn!(error = %e, "subscription hints left to the scheduler's runs");
            None
        }
    };

    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let deadline = invocation_deadline(event.context.deadline, SAFETY_MARGIN);
        let graph = graph.with_deadline(deadline);
        let control = control_settings.clone().map(|settings| SchedulerDeps {
            store: sync.clone(),
            queue: queue.clone(),
            graph: graph.clone(),
            settings,
        });
        let deps = WorkerDeps::new(sync.clone(), tasks.clone(), graph, queue.clone())
            .with_control(control);
        async move {
            let before = deps.graph.counters().snapshot();
            let response = handle_batch(event.payload, &deps).await;
            let after = deps.graph.counters().snapshot();
            let now_ms = chrono::Utc::now().timestamp_millis();
            // EMF lines on stdout become CloudWatch metrics (Graph calls by operation and outcome).
            for line in tasksync::graph::metrics::emf_lines("worker", &before, &after, now_ms) {
                println!("{line}");
            }
            Ok::<_, Error>(response)
        }
    }))
    .await
}
