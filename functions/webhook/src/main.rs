//! Thin main of the webhook function: wires the real adapters once per execution environment
//! and runs `tasksync::webhook::handle`, the same handler the local run and the tests call.
//!
//! Everything built here outlives a single invocation on purpose: the SDK clients keep their
//! connection pools, and `WebhookDeps` holds the subscription cache that spares warm invocations
//! a DynamoDB read per notification.

use std::sync::Arc;

use lambda_http::{Error, Request, service_fn};
use tasksync::config::{AwsResources, Env, ProcessEnv};
use tasksync::queue::SqsHintQueue;
use tasksync::store::DynamoSyncStore;
use tasksync::webhook::{WebhookDeps, WebhookSettings, handle};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tasksync::telemetry::init_lambda();
    let resources = AwsResources::from_env(&ProcessEnv)?;
    let settings = WebhookSettings {
        expected_tenant_id: ProcessEnv.var("GRAPH_TENANT_ID"),
        ..WebhookSettings::default()
    };
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoSyncStore::new(aws_sdk_dynamodb::Client::new(&aws), resources.sync_table);
    let queue = SqsHintQueue::new(aws_sdk_sqs::Client::new(&aws), resources.work_queue_url);
    let deps = Arc::new(WebhookDeps::new(store, queue, settings));
    lambda_http::run(service_fn(move |req: Request| {
        let deps = Arc::clone(&deps);
        async move { Ok::<_, Error>(handle(req, &deps).await) }
    }))
    .await
}
