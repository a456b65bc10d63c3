//! Wiring the real parts to a Graph emulator, shared by the local run, the end-to-end tests and
//! the benchmarks, so each of them builds the Graph client and serves the webhook the same way.

use std::sync::Arc;

use graph_emulator::RunningEmulator;

use crate::graph::{GraphClient, GraphError, GraphSettings, HttpOptions, Secret, http_client};
use crate::ports::{HintSend, SubscriptionLookup};
use crate::standalone::lambda_http_server::{self, LocalHttpServer};
use crate::webhook::{MetricsSink, WebhookDeps, WebhookSettings};

/// The Graph client settings that reach this emulator with the credentials it accepts.
pub fn graph_settings(emulator: &RunningEmulator) -> GraphSettings {
    let config = &emulator.state.config;
    GraphSettings {
        graph_base_url: emulator.graph_base_url.clone(),
        token_url: emulator.token_url.clone(),
        tenant_id: config.tenant_id.clone(),
        client_id: config.client_id.clone(),
        client_secret: Secret::new(config.client_secret.clone()),
        scope: GraphSettings::DEFAULT_SCOPE.to_owned(),
    }
}

/// A Graph client for this emulator, built exactly as the Lambda mains build theirs.
pub fn graph_client(emulator: &RunningEmulator) -> Result<GraphClient, GraphError> {
    GraphClient::new(
        graph_settings(emulator),
        http_client(&HttpOptions::default())?,
    )
}

/// Webhook dependencies that accept this emulator's tenant. EMF metric lines are discarded: on a
/// terminal or in test output they are noise, and CloudWatch is not there to read them.
pub fn webhook_deps<S: SubscriptionLookup, Q: HintSend>(
    emulator: &RunningEmulator,
    store: S,
    queue: Q,
) -> WebhookDeps<S, Q> {
    WebhookDeps::new(
        store,
        queue,
        WebhookSettings {
            expected_tenant_id: Some(emulator.state.config.tenant_id.clone()),
            ..WebhookSettings::default()
        },
    )
    .with_metrics(MetricsSink::Discard)
}

/// Serves the real webhook handler on a free loopback port.
pub async fn serve_webhook<S, Q>(deps: Arc<WebhookDeps<S, Q>>) -> std::io::Result<LocalHttpServer>
where
    S: SubscriptionLookup + 'static,
    Q: HintSend + 'static,
{
    serve_webhook_on("127.0.0.1:0", deps).await
}

/// Serves the real webhook handler on `listen`; bodies over the handler's own limit are refused
/// with its status (413) before the API Gateway event is built.
pub async fn serve_webhook_on<S, Q>(
    listen: &str,
    deps: Arc<WebhookDeps<S, Q>>,
) -> std::io::Result<LocalHttpServer>
where
    S: SubscriptionLookup + 'static,
    Q: HintSend + 'static,
{
    let limit = deps.settings().max_body_bytes;
    lambda_http_server::serve_with_body_limit(listen, limit, move |request| {
        let deps = Arc::clone(&deps);
        async move { crate::webhook::handle(request, &deps).await }
    })
    .await
}
