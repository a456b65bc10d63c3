//! The walk-through's system (`tasksync local demo`): the Graph emulator, the webhook served over
//! loopback HTTP, the worker, the stream forwarder standing in for the pipe, and the in-memory
//! stores and queue, started and wired; and the rounds that do what AWS does by itself (forward
//! stream records, hand a batch to the worker) until a change has arrived or everything is quiet.

use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use graph_emulator::{ControlClient, EmulatorConfig, RunningEmulator};
use tasksync::graph::GraphClient;
use tasksync::model::LocalTask;
use tasksync::ports::{MappingStore, TaskRead};
use tasksync::queue::MemoryHintQueue;
use tasksync::standalone::emulator_stack;
use tasksync::standalone::lambda_http_server::LocalHttpServer;
use tasksync::standalone::stream_forwarder::MemoryStreamForwarder;
use tasksync::standalone::work_pump::{PumpReport, pump_once};
use tasksync::store::MemoryStore;
use tasksync::subscription_setup::WebhookUrls;
use tasksync::worker::{WorkerDeps, handle_batch};

use super::LocalRunError;
use super::narration::report_round;

type LocalWorker = WorkerDeps<MemoryStore, MemoryStore, GraphClient, MemoryHintQueue>;

/// Everything `tasksync local` runs, started and wired.
pub struct LocalSystem {
    pub emulator: RunningEmulator,
    pub control: ControlClient,
    pub store: MemoryStore,
    pub queue: MemoryHintQueue,
    /// The worker's Graph client: its counters are the Graph calls tasksync made.
    pub graph: GraphClient,
    /// Looks at the remote side for the demo (its calls are not tasksync's).
    pub(super) observer: GraphClient,
    worker: LocalWorker,
    stream: MemoryStreamForwarder,
    webhook: LocalHttpServer,
    pub(super) urls: WebhookUrls,
}

/// What one drive round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Round {
    pub(super) forwarded: usize,
    pub(super) pumped: PumpReport,
}

/// What the system did between a change reaching the other side and the system going quiet:
/// the echoes of the sync's own writes (its local write coming back through the stream, its
/// remote write coming back as a change notification).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    /// Queue messages the worker handled.
    pub messages: usize,
    /// Graph requests the worker made (the token aside).
    pub graph_calls: u64,
    /// Of which creates, updates and deletes.
    pub graph_writes: u64,
}

impl LocalSystem {
    /// Starts the emulator, serves the webhook and wires the worker and the stream forwarder.
    pub async fn start() -> Result<Self, LocalRunError> {
        // Microsoft Graph and the identity platform, on loopback.
        let emulator = graph_emulator::start(EmulatorConfig::default(), "127.0.0.1:0").await?;
        let control = ControlClient::new(emulator.control_url.clone());
        // The stores and the queue, in memory.
        let store = MemoryStore::new();
        let queue = MemoryHintQueue::new();
        // The webhook function, served over HTTP as API Gateway would invoke it.
        let webhook = emulator_stack::serve_webhook(Arc::new(emulator_stack::webhook_deps(
            &emulator,
            store.clone(),
            queue.clone(),
        )))
        .await?;
        let urls = WebhookUrls::under(&webhook.base_url());
        // The worker's Graph client, exactly as in Lambda but pointed at the emulator.
        let graph = emulator_stack::graph_client(&emulator)?;
        let observer = emulator_stack::graph_client(&emulator)?;
        let worker = WorkerDeps::new(store.clone(), store.clone(), graph.clone(), queue.clone());
        // The pipe: every task write becomes the template's local_task hint.
        let stream = MemoryStreamForwarder::from_embedded_template(store.clone())?;
        Ok(Self {
            emulator,
            control,
            store,
            queue,
            graph,
            observer,
            worker,
            stream,
            webhook,
            urls,
        })
    }

    /// One round of what AWS does by itself: the pipe forwards new stream records, the event
    /// source mapping hands a batch to the worker.
    async fn round(&self) -> Result<Round, LocalRunError> {
        let forwarded = self.stream.forward_new(&self.queue).await?;
        let pumped = pump_once(&self.queue, |event| handle_batch(event, &self.worker)).await?;
        Ok(Round { forwarded, pumped })
    }

    /// Runs rounds until `check` finds what it waits for.
    pub(super) async fn drive_until<T, F, Fut>(
        &self,
        what: &'static str,
        timeout: Duration,
        out: &mut impl Write,
        mut check: F,
    ) -> Result<T, LocalRunError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>, LocalRunError>>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            let round = self.round().await?;
            report_round(&round, out)?;
            if let Some(found) = check().await? {
                return Ok(found);
            }
            if Instant::now() >= deadline {
                return Err(LocalRunError::Timeout(what, timeout));
            }
            if round.pumped.received == 0 && round.forwarded == 0 {
                // The emulator delivers notifications asynchronously, as Graph does; when none is
                // under way either, poll gently until the deadline.
                let delivering = self.emulator.state.delivery.stats().pending > 0;
                self.emulator
                    .state
                    .delivery
                    .wait_idle(Duration::from_millis(200))
                    .await;
                if !delivering {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }

    /// Runs rounds until nothing moves: no notification pending, no stream record, no message.
    pub(super) async fn settle(
        &self,
        timeout: Duration,
        out: &mut impl Write,
    ) -> Result<Settled, LocalRunError> {
        let deadline = Instant::now() + timeout;
        let (calls, writes) = (
            self.graph.counters().requests(),
            self.graph.counters().task_writes(),
        );
        let mut messages = 0;
        loop {
            let idle = self.emulator.state.delivery.wait_idle(timeout).await;
            let round = self.round().await?;
            report_round(&round, out)?;
            messages += round.pumped.received;
            if idle && round.forwarded == 0 && round.pumped.received == 0 {
                return Ok(Settled {
                    messages,
                    graph_calls: self.graph.counters().requests() - calls,
                    graph_writes: self.graph.counters().task_writes() - writes,
                });
            }
            if Instant::now() >= deadline {
                return Err(LocalRunError::Timeout("the system going quiet", timeout));
            }
        }
    }

    /// Keeps the system running until Ctrl-C.
    pub(super) async fn serve_until_ctrl_c(&self) {
        let drive = async {
            loop {
                match self.round().await {
                    Ok(round) if round.pumped.received > 0 || round.forwarded > 0 => {}
                    Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "local round failed; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        };
        tokio::select! {
            _ = drive => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }

    pub fn shutdown(self) {
        drop(self.webhook);
        self.emulator.shutdown();
    }

    pub(super) async fn local(
        &self,
        list: &str,
        id: &str,
    ) -> Result<Option<LocalTask>, LocalRunError> {
        Ok(self.store.get_task(list, id).await?)
    }

    /// The remote id the mapping holds for a local task, once the pair is active.
    pub(super) async fn remote_id(
        &self,
        list: &str,
        id: &str,
    ) -> Result<Option<String>, LocalRunError> {
        Ok(self
            .store
            .mapping_by_local(list, id)
            .await?
            .filter(|m| m.state == tasksync::sync::MappingState::Active)
            .and_then(|m| m.remote_id))
    }
}
