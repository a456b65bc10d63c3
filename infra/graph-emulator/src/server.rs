//! Router assembly and startup. Graph routes live under `/v1.0`, the token endpoint under
//! `/{tenant}/oauth2/v2.0/token`, and the control API under `/_emulator` (a path no Graph call
//! uses).

use std::net::SocketAddr;
use std::sync::Mutex;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::config::EmulatorConfig;
use crate::state::{AppState, Clock, Inner};

/// A started emulator. Dropping it does not stop the server; call `shutdown`.
pub struct RunningEmulator {
    pub addr: SocketAddr,
    /// e.g. `http://127.0.0.1:PORT/v1.0`
    pub graph_base_url: String,
    /// e.g. `http://127.0.0.1:PORT/{tenant}/oauth2/v2.0/token`
    pub token_url: String,
    /// e.g. `http://127.0.0.1:PORT/_emulator`
    pub control_url: String,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
}

impl RunningEmulator {
    /// The first line the binary prints: what a client needs to talk to this emulator.
    pub fn announcement(&self) -> serde_json::Value {
        let c = &self.state.config;
        serde_json::json!({
            "graph_base_url": self.graph_base_url,
            "token_url": self.token_url,
            "control_url": self.control_url,
            "tenant_id": c.tenant_id,
            "client_id": c.client_id,
            "client_secret": c.client_secret,
            "user_id": c.user_id,
            "group_id": c.group_id,
        })
    }

    pub fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds `listen` (port 0 picks a free port), builds the state and serves in the background.
pub async fn start(config: EmulatorConfig, listen: &str) -> std::io::Result<RunningEmulator> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let root = format!("http://{addr}");
    let graph_base_url = format!("{root}/v1.0");
    let token_url = format!("{root}/{}/oauth2/v2.0/token", config.tenant_id);
    let control_url = format!("{root}/_emulator");

    let state = AppState(std::sync::Arc::new(Inner {
        graph_base_url: graph_base_url.clone(),
        auth: Mutex::new(crate::auth::AuthState::default()),
        planner: Mutex::new(crate::planner::PlannerState::default()),
        todo: Mutex::new(crate::todo::TodoState::default()),
        subscriptions: Mutex::new(crate::subscriptions::SubscriptionState::default()),
        faults: Mutex::new(crate::faults::FaultState::default()),
        counters: crate::faults::Counters::default(),
        delivery: crate::delivery::Delivery::new(&config),
        clock: Clock::default(),
        config,
    }));

    let app = router(state.clone());
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });

    Ok(RunningEmulator {
        addr,
        graph_base_url,
        token_url,
        control_url,
        state,
        shutdown: Some(tx),
    })
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let graph = Router::new()
        .merge(crate::planner::routes())
        .merge(crate::todo::routes())
        .merge(crate::subscriptions::routes())
        .merge(crate::batch::routes());
    let control = Router::new()
        .merge(crate::control::routes())
        .merge(crate::planner::control_routes())
        .merge(crate::todo::control_routes())
        .merge(crate::subscriptions::control_routes());
    Router::new()
        .nest("/v1.0", graph)
        .nest("/_emulator", control)
        .merge(crate::auth::routes())
        .with_state(state)
}
