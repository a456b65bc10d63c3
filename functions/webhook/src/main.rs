//! Thin main of the webhook function: wires the real adapters once per execution environment
//! and runs `tasksync::webhook::handle`, the same handler the local run and the tests call.
//!
//! Everything built here outlives a single invocation on purpose: the SDK clients keep their
//! connection pools, and `WebhookDeps` holds the subscription cache that spares warm invocations
//! a DynamoDB read per notification.

use std::sync::Arc;

use lambda_http::{Error, Request, service_fn};
use tasksync::config::{Deployment, ProcessEnv, expected_tenant_id};
use tasksync::webhook::{WebhookDeps, WebhookSettings, handle};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tasksync::telemetry::init_lambda();
    let deployment = Deployment::from_env(&ProcessEnv).await?;
    let settings = WebhookSettings {
        expected_tenant_id: expected_tenant_id(&ProcessEnv),
        ..WebhookSettings::default()
    };
    let deps = Arc::new(WebhookDeps::new(
        deployment.sync_store(),
        deployment.hint_queue(),
        settings,
    ));
    lambda_http::run(service_fn(move |req: Request| {
        let deps = Arc::clone(&deps);
        async move { Ok::<_, Error>(handle(req, &deps).await) }
    }))
    .await
}
