//! Cold start of the webhook's release binary, measured locally (figures in
//! docs/webhook.md).
//!
//! ```sh
//! cargo build --release -p webhook
//! cargo bench -p tasksync-tests --bench webhook_cold_start
//! ```
//!
//! The binary runs as Lambda runs it: a fresh process whose only contact with the outside is the
//! Lambda Runtime API at `AWS_LAMBDA_RUNTIME_API`. Here that API is a small stand-in on loopback
//! (this file), and DynamoDB and SQS are moto (`AWS_ENDPOINT_URL`). For each of `RUNS` fresh
//! processes it records, from the moment just before `spawn`:
//!
//! - **init**: until the process asks for its first event (`GET .../invocation/next`). That is
//!   everything `main` does before it can serve: telemetry, configuration, AWS SDK config and
//!   clients, handler state; plus process start and exec.
//! - **first response**: until the response to that first event is posted. The event is one
//!   authentic change notification, so this adds the cold handler path: a DynamoDB `GetItem` for
//!   the subscription (cache empty) and one `SendMessageBatch`, both to moto on loopback, over new
//!   connections.
//!
//! Not included: Lambda's own sandbox creation and code download, which no local setup can
//! reproduce. The binary path can be overridden with `WEBHOOK_BIN`.
// Bench code: a failed setup is a failed benchmark.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::json;
use tasksync::model::SubscriptionRecord;
use tasksync::ports::SubscriptionSave;
use tasksync::store::DynamoSyncStore;
use tokio::sync::mpsc;

const RUNS: usize = 30;
const SUB: &str = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07";
const SECRET: &str = "0c3b34c3d9d8a7c1b2e3f4a5be1f6a4a0c3b34c3d9d8a7c1b2e3f4a5be1f6a4a";
const TENANT: &str = "84bd8158-6d4d-4958-8b9f-9d6445542f95";

/// What the stand-in Runtime API saw.
#[derive(Debug)]
enum RuntimeCall {
    Next(Instant),
    Response(Instant, String),
    Error(String),
}

#[derive(Clone)]
struct Api {
    calls: mpsc::UnboundedSender<RuntimeCall>,
    event: Arc<String>,
    served: Arc<Mutex<u32>>,
}

async fn next(State(api): State<Api>) -> impl IntoResponse {
    let _ = api.calls.send(RuntimeCall::Next(Instant::now()));
    let first = {
        let mut served = api.served.lock().unwrap();
        *served += 1;
        *served == 1
    };
    if !first {
        // A second `next` is where the process would wait for more work: keep it waiting (the
        // bench kills the process).
        std::future::pending::<()>().await;
    }
    let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", "cold-1".parse().unwrap());
    headers.insert(
        "lambda-runtime-deadline-ms",
        deadline.to_string().parse().unwrap(),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:webhook"
            .parse()
            .unwrap(),
    );
    headers.insert("content-type", "application/json".parse().unwrap());
    (headers, api.event.as_ref().clone())
}

async fn response(State(api): State<Api>, body: String) -> impl IntoResponse {
    let _ = api.calls.send(RuntimeCall::Response(Instant::now(), body));
    axum::http::StatusCode::ACCEPTED
}

async fn error(State(api): State<Api>, body: String) -> impl IntoResponse {
    let _ = api.calls.send(RuntimeCall::Error(body));
    axum::http::StatusCode::ACCEPTED
}

fn notification_event() -> String {
    let body = json!({"value": [{
        "subscriptionId": SUB,
        "subscriptionExpirationDateTime": "2026-11-24T10:12:09.9520000Z",
        "changeType": "created",
        "clientState": SECRET,
        "resource": "Users/u-1/todo/Lists/L-1/Tasks/T-1",
        "tenantId": TENANT,
        "resourceData": {"@odata.type": "#Microsoft.Graph.todoTask", "id": "T-1"},
    }]})
    .to_string();
    testkit::apigw::notification_post_event(
        "POST /notifications",
        json!({"content-type": "application/json"}),
        &body,
    )
}

fn webhook_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("WEBHOOK_BIN") {
        return PathBuf::from(path);
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    target.join("release").join("webhook")
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing of the sort and
    // must not spend time here.
    if !std::env::args().any(|a| a == "--bench") {
        println!("webhook_cold_start: run with `cargo bench` (skipped)");
        return;
    }
    let binary = webhook_binary();
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build --release -p webhook` first (or set WEBHOOK_BIN)",
        binary.display()
    );

    let aws = testkit::aws::provisioned().await.expect("moto");
    let store = DynamoSyncStore::new(aws.dynamodb.clone(), aws.resources.sync_table());
    store
        .save_subscription(&SubscriptionRecord {
            id: SUB.into(),
            binding_id: "binding-cold".into(),
            client_state: SECRET.into(),
            tenant_id: TENANT.into(),
            expires_at: chrono::Utc::now() + chrono::Duration::hours(48),
        })
        .await
        .expect("subscription saved");

    let mut init = Vec::new();
    let mut first_response = Vec::new();
    for run in 0..RUNS {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let api = Api {
            calls: tx,
            event: Arc::new(notification_event()),
            served: Arc::new(Mutex::new(0)),
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(error))
            .with_state(api);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let runtime_api = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });

        let mut command = tokio::process::Command::new(&binary);
        command
            .env_clear()
            .envs(aws.env_vars())
            .env("AWS_LAMBDA_RUNTIME_API", &runtime_api)
            .env("AWS_LAMBDA_FUNCTION_NAME", "webhook")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/webhook")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "cold")
            .env("GRAPH_TENANT_ID", TENANT)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = command.spawn().expect("webhook binary starts");

        let deadline = Duration::from_secs(20);
        let mut ready = None;
        let outcome = tokio::time::timeout(deadline, async {
            while let Some(call) = rx.recv().await {
                match call {
                    RuntimeCall::Next(at) if ready.is_none() => ready = Some(at),
                    RuntimeCall::Next(_) => {}
                    RuntimeCall::Response(at, body) => return Ok((at, body)),
                    RuntimeCall::Error(body) => return Err(body),
                }
            }
            Err("runtime API stand-in stopped".to_owned())
        })
        .await;
        let _ = child.kill().await;
        server.abort();
        let (responded, body) = match outcome {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => panic!("run {run}: the function reported an error: {e}"),
            Err(_) => panic!("run {run}: no response within {deadline:?}"),
        };
        let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON response");
        assert_eq!(answer["statusCode"], 202, "run {run}: {answer}");
        let ready = ready.expect("asked for the event before answering");
        init.push(ready - started);
        first_response.push(responded - started);
    }
    // The hints went to moto's queue; nothing reads them.
    println!(
        "webhook cold start over {RUNS} fresh processes ({}):",
        binary.display()
    );
    println!(
        "  init (spawn -> first GET /invocation/next): median {}, min {}, max {}",
        ms(median(&mut init)),
        ms(init[0]),
        ms(init[RUNS - 1])
    );
    println!(
        "  first response (spawn -> POST /invocation/{{id}}/response, 1 notification, cold cache, moto): median {}, min {}, max {}",
        ms(median(&mut first_response)),
        ms(first_response[0]),
        ms(first_response[RUNS - 1])
    );
}
