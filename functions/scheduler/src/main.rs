//! Thin main of the scheduler function: runs `tasksync::scheduler::handle_tick` on every
//! EventBridge schedule event.

use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tasksync::telemetry::init_lambda();
    lambda_runtime::run(service_fn(|_event: LambdaEvent<serde_json::Value>| async {
        Ok::<_, Error>(tasksync::scheduler::handle_tick().await)
    }))
    .await
}
