//! Thin main of the scheduler function: builds the adapters and the Graph client once per
//! execution environment and runs `tasksync::scheduler::run_tick` on every EventBridge schedule
//! event, bounded by the invocation's deadline.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use tasksync::config::{AwsResources, GraphEndpoints, ProcessEnv};
use tasksync::graph::{GraphClient, HttpOptions, http_client};
use tasksync::queue::SqsHintQueue;
use tasksync::scheduler::{RunContext, SchedulerDeps, SchedulerSettings, run_tick};
use tasksync::store::DynamoSyncStore;
use tasksync::worker::{SAFETY_MARGIN, invocation_deadline};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tasksync::telemetry::init_lambda();
    let resources = AwsResources::from_env(&ProcessEnv)?;
    let endpoints = GraphEndpoints::from_env(&ProcessEnv)?;
    let settings = SchedulerSettings::for_deployment(
        &tasksync::config::webhook_base_url(&ProcessEnv)?,
        &endpoints.tenant_id,
    );
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let secret = tasksync::secrets::graph_client_secret(&endpoints.secret, &aws).await?;
    let graph = GraphClient::new(
        endpoints.settings(secret),
        http_client(&HttpOptions::default())?,
    )?;
    let store = DynamoSyncStore::new(aws_sdk_dynamodb::Client::new(&aws), resources.sync_table);
    let queue = SqsHintQueue::new(aws_sdk_sqs::Client::new(&aws), resources.work_queue_url);

    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let deadline = invocation_deadline(event.context.deadline, SAFETY_MARGIN);
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
