//! Webhook handler benchmarks (figures in docs/webhook.md).
//!
//! `cargo bench -p tasksync-tests --bench webhook`
//!
//! - `handler_in_memory/{1,50}`: `handle_request` for one POST carrying 1 or 50 authentic change
//!   notifications of one subscription, with the in-memory store and queue (no SQS round trip).
//!   The subscription cache is warm, as in a warm Lambda invocation.
//! - `handler_sqs_moto/{1,50}`: the same with the real `DynamoSyncStore` and `SqsHintQueue` against
//!   moto on loopback, so each request includes the `SendMessageBatch` round trips (1 for 1
//!   notification, 5 for 50) to moto, not to AWS.
//! - `event_decode/{1,50}`: what lambda_http does before the handler runs: the API Gateway HTTP
//!   API (2.0) event JSON to a `Request`.
//!
//! Requests are built outside the timed section (`iter_custom`); queues are emptied outside it.
// Bench code: a failed setup is a failed benchmark.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lambda_http::http::{HeaderMap, Method, Uri};
use serde_json::{Value, json};
use tasksync::model::SubscriptionRecord;
use tasksync::ports::{HintSend, SubscriptionLookup, SubscriptionSave};
use tasksync::queue::{MemoryHintQueue, SqsHintQueue};
use tasksync::store::{DynamoSyncStore, MemoryStore};
use tasksync::webhook::{MetricsSink, WebhookDeps, WebhookSettings, handle_request};

const SUB: &str = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07";
const SECRET: &str = "0c3b34c3d9d8a7c1b2e3f4a5be1f6a4a0c3b34c3d9d8a7c1b2e3f4a5be1f6a4a";
const TENANT: &str = "84bd8158-6d4d-4958-8b9f-9d6445542f95";
const BINDING: &str = "binding-bench";
const SIZES: [usize; 2] = [1, 50];

fn record() -> SubscriptionRecord {
    SubscriptionRecord {
        id: SUB.into(),
        binding_id: BINDING.into(),
        client_state: SECRET.into(),
        tenant_id: TENANT.into(),
        expires_at: chrono::Utc::now() + chrono::Duration::hours(48),
    }
}

/// A body as Graph sends it: `n` change notifications for distinct tasks (so `n` hints).
fn body(n: usize) -> Vec<u8> {
    let items: Vec<Value> = (0..n)
        .map(|i| {
            let task = format!("AAMkADI5MWYxLWE3ZjQtNGQ1NS04NmM3LTEwODk4BGAAAA{i:04}==");
            let resource = format!("Users/5c5d6a4e-8f3b-4b8e-9b1a-2f0c1d2e3f40/todo/Lists/AAMkADI5MWYxLWE3ZjQtNGQ1NS04NmM3LTEwODk4AAA=/Tasks/{task}");
            json!({
                "subscriptionId": SUB,
                "subscriptionExpirationDateTime": "2026-11-24T10:12:09.9520000Z",
                "changeType": "updated",
                "clientState": SECRET,
                "resource": resource,
                "tenantId": TENANT,
                "resourceData": {
                    "@odata.type": "#Microsoft.Graph.todoTask",
                    "@odata.id": resource,
                    "@odata.etag": "W/\"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf\"",
                    "id": task,
                },
            })
        })
        .collect();
    json!({ "value": items }).to_string().into_bytes()
}

fn request(body: &[u8]) -> lambda_http::Request {
    let uri: Uri = "/notifications".parse().unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    tasksync::standalone::lambda_http_server::to_lambda_request(&Method::POST, &uri, &headers, body)
        .unwrap()
}

/// The API Gateway event JSON for a body (what Lambda hands lambda_http).
fn event_json(body: &[u8]) -> String {
    let request = request(body);
    let text = String::from_utf8_lossy(request.body().as_ref()).into_owned();
    testkit::apigw::notification_post_event(
        "$default",
        json!({"content-type": "application/json", "user-agent": "Microsoft-Graph"}),
        &text,
    )
}

/// Times `iters` handler calls; `between` runs untimed after each call (emptying the queue).
async fn time_handler<S, Q, F, Fut>(
    deps: &WebhookDeps<S, Q>,
    body: &[u8],
    iters: u64,
    mut between: F,
) -> Duration
where
    S: SubscriptionLookup,
    Q: HintSend,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let req = request(body);
        let started = Instant::now();
        let handled = handle_request(req, deps).await;
        total += started.elapsed();
        assert_eq!(
            handled.response.status(),
            202,
            "{:?} {:?}",
            handled.response.body(),
            handled.counts
        );
        between().await;
    }
    total
}

fn handler_in_memory(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = MemoryStore::new();
    rt.block_on(store.save_subscription(&record())).unwrap();
    let deps = WebhookDeps::new(store, MemoryHintQueue::new(), WebhookSettings::default())
        .with_metrics(MetricsSink::Discard);
    let mut group = c.benchmark_group("handler_in_memory");
    for n in SIZES {
        let body = body(n);
        // Warm the subscription cache and check the wiring once.
        rt.block_on(async {
            let handled = handle_request(request(&body), &deps).await;
            assert_eq!(handled.counts.hints_enqueued, n as u64);
        });
        deps.queue().drain();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &body, |b, body| {
            b.iter_custom(|iters| {
                rt.block_on(time_handler(&deps, body, iters, || async {
                    deps.queue().drain();
                }))
            })
        });
    }
    group.finish();
}

/// A two-thread runtime and fresh resources on moto.
fn runtime_and_moto() -> (tokio::runtime::Runtime, testkit::aws::MotoAws) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let aws = rt
        .block_on(testkit::aws::provisioned())
        .expect("moto with template.yaml's resources");
    (rt, aws)
}

fn handler_sqs_moto(c: &mut Criterion) {
    let (rt, aws) = runtime_and_moto();
    let store = DynamoSyncStore::new(aws.dynamodb.clone(), aws.resources.sync_table());
    rt.block_on(store.save_subscription(&record())).unwrap();
    let queue = SqsHintQueue::new(aws.sqs.clone(), aws.resources.work_queue_url());
    // moto answers a 10-entry SendMessageBatch from the Rust SDK far more slowly than SQS does
    // (see `moto_send_message_batch`), so 50 hints can take longer than the production answer
    // deadline here; the deadline is lifted so the figure is the full round trip.
    let settings = WebhookSettings {
        answer_deadline: Duration::from_secs(60),
        ..WebhookSettings::default()
    };
    let deps = WebhookDeps::new(store, queue, settings).with_metrics(MetricsSink::Discard);
    let empty_queue = || drain(&aws.sqs, aws.resources.work_queue_url());
    let mut group = c.benchmark_group("handler_sqs_moto");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(8));
    for n in SIZES {
        let body = body(n);
        rt.block_on(async {
            let started = Instant::now();
            let handled = handle_request(request(&body), &deps).await;
            assert_eq!(
                handled.counts.hints_enqueued,
                n as u64,
                "{:?} {:?} after {:?}",
                handled.response.body(),
                handled.counts,
                started.elapsed()
            );
            empty_queue().await;
        });
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &body, |b, body| {
            // moto's SendMessageBatch slows down in proportion to the messages already in the
            // queue (~0.25 ms per queued message for a batch of 10, measured), so every call
            // starts from an empty queue (drained, untimed).
            b.iter_custom(|iters| rt.block_on(time_handler(&deps, body, iters, empty_queue)))
        });
    }
    group.finish();
}

/// Empties a queue by receiving and deleting (untimed). Not `PurgeQueue`: like SQS, moto
/// refuses a second purge within 60 s (`PurgeQueueInProgress`), which left the queue growing and
/// every later send slower in earlier versions of this benchmark.
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) {
    loop {
        let received = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            .send()
            .await
            .unwrap();
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return;
        }
        for message in messages {
            if let Some(handle) = message.receipt_handle {
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

/// For context: the bare `SendMessageBatch` round trip to moto (through the adapter, no
/// handler), so the handler's own share of `handler_sqs_moto` can be read off.
fn moto_send_only(c: &mut Criterion) {
    let (rt, aws) = runtime_and_moto();
    let queue = SqsHintQueue::new(aws.sqs.clone(), aws.resources.work_queue_url());
    let mut group = c.benchmark_group("moto_send_message_batch");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(8));
    for n in [1usize, 10] {
        let bodies: Vec<String> = (0..n).map(|i| format!("{{\"n\":{i}}}")).collect();
        group.bench_with_input(BenchmarkId::from_parameter(n), &bodies, |b, bodies| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut timed = Duration::ZERO;
                    for _ in 0..iters {
                        let started = Instant::now();
                        queue.send_bodies(bodies).await.unwrap();
                        timed += started.elapsed();
                        // Untimed: an empty queue for every send (see handler_sqs_moto).
                        drain(&aws.sqs, aws.resources.work_queue_url()).await;
                    }
                    timed
                })
            })
        });
    }
    group.finish();
}

fn event_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_decode");
    for n in SIZES {
        let event = event_json(&body(n));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &event, |b, event| {
            b.iter(|| lambda_http::request::from_str(event).unwrap())
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = handler_in_memory, handler_sqs_moto, moto_send_only, event_decode
}
criterion_main!(benches);
