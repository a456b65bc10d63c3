//! Thin main of the webhook function: wires the real adapters once per execution environment
//! and runs `tasksync::webhook::handle_event`, which converts the API Gateway event itself (no
//! header can panic the conversion) and calls `tasksync::webhook::handle`, the same handler the
//! local run and the tests call.
//!
//! Everything built here outlives a single invocation on purpose: the SDK clients keep their
//! connection pools, and `WebhookDeps` holds the subscription cache that spares warm invocations
//! a DynamoDB read per notification.

// The handler's future nests deep enough (runtime, service, conversion, handler, SDK calls) to
// pass the compiler's default query depth when its layout is computed.
#![recursion_limit = "256"]

use std::sync::Arc;

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use tasksync::config::{Deployment, ProcessEnv, expected_tenant_id};
use tasksync::webhook::{WebhookDeps, WebhookSettings, handle_event};

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
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| {
            let deps = Arc::clone(&deps);
            async move {
                Ok::<_, Error>(handle_event(event.payload, Some(event.context), &deps).await)
            }
        },
    ))
    .await
}
