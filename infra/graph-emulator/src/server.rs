//! Router assembly, the middleware every Graph route shares, and startup. Graph routes live under
//! `/v1.0`, the token endpoint under `/{tenant}/oauth2/v2.0/token`, and the control API under
//! `/_emulator` (a path no Graph call uses).
//!
//! Every Graph request, including each `$batch` sub-request (which is dispatched through the same
//! router), passes through [`graph_middleware`]: bearer-token check, injected faults, handler,
//! counting. Areas therefore never deal with auth, throttling or counting themselves.

use std::net::SocketAddr;
use std::sync::Mutex;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::EmulatorConfig;
use crate::errors::graph_error;
use crate::faults::{TOKEN_ROUTE_KEY, fault_response};
use crate::state::{AppState, Clock, Inner, lock};

/// The version root every Graph route is nested under.
pub const GRAPH_ROOT: &str = "/v1.0";

/// A started emulator. Dropping it asks the server to stop (without waiting); `stop` waits.
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
    task: Option<JoinHandle<()>>,
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

    /// Asks the server to stop (in-flight requests finish) without waiting for it.
    pub fn shutdown(mut self) {
        self.signal_stop();
    }

    /// Stops the server and waits until it has finished serving.
    pub async fn stop(mut self) {
        self.signal_stop();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    fn signal_stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Breaks the state -> router -> state cycle so the state is freed.
        lock(&self.state.graph_router).take();
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.signal_stop();
    }
}

/// Control-API bodies can be large (bulk seeding thousands of tasks); Graph's stay at axum's
/// default limit.
const CONTROL_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Binds `listen` (port 0 picks a free port), builds the state and serves in the background.
pub async fn start(config: EmulatorConfig, listen: &str) -> std::io::Result<RunningEmulator> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let root = format!("http://{addr}");
    let graph_base_url = format!("{root}{GRAPH_ROOT}");
    let token_url = format!("{root}/{}/oauth2/v2.0/token", config.tenant_id);
    let control_url = format!("{root}/_emulator");

    let state = AppState(std::sync::Arc::new(Inner {
        graph_base_url: graph_base_url.clone(),
        auth: Mutex::new(crate::auth::AuthState::default()),
        planner: Mutex::new(crate::planner::PlannerState::default()),
        todo: Mutex::new(crate::todo::TodoState::with_completion(
            config.todo_completion,
        )),
        subscriptions: Mutex::new(crate::subscriptions::SubscriptionState::default()),
        faults: Mutex::new(crate::faults::FaultState::default()),
        counters: crate::faults::Counters::default(),
        delivery: crate::delivery::Delivery::new(&config),
        clock: Clock::default(),
        graph_router: Mutex::new(None),
        config,
    }));

    let app = router(state.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "graph-emulator server stopped with an error");
        }
    });

    Ok(RunningEmulator {
        addr,
        graph_base_url,
        token_url,
        control_url,
        state,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// The Graph surface under `/v1.0`, with its middleware and state applied.
fn graph_router(state: &AppState) -> Router {
    let graph = Router::new()
        .merge(crate::planner::routes())
        .merge(crate::todo::routes())
        .merge(crate::subscriptions::routes())
        .merge(crate::batch::routes())
        .fallback(unknown_segment)
        .layer(from_fn_with_state(state.clone(), graph_middleware));
    Router::new()
        .nest(GRAPH_ROOT, graph)
        .with_state(state.clone())
}

/// The whole HTTP surface. Also records the Graph router in the state for `$batch`.
pub fn router(state: AppState) -> Router {
    let graph = graph_router(&state);
    *lock(&state.graph_router) = Some(graph.clone());
    let control = Router::new()
        .merge(crate::control::routes())
        .merge(crate::planner::control_routes())
        .merge(crate::todo::control_routes())
        .merge(crate::subscriptions::control_routes())
        .layer(axum::extract::DefaultBodyLimit::max(CONTROL_BODY_LIMIT));
    let token = crate::auth::routes().layer(from_fn_with_state(state.clone(), token_middleware));
    Router::new()
        .nest("/_emulator", control)
        .merge(token)
        .with_state(state)
        .merge(graph)
}

/// Graph answers an unknown path with 400 naming the segment it could not resolve.
async fn unknown_segment(request: Request) -> Response {
    let path = request.uri().path();
    let rel = path.strip_prefix(GRAPH_ROOT).unwrap_or(path);
    let segment = rel.trim_start_matches('/').split('/').next().unwrap_or("");
    graph_error(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        &format!("Resource not found for the segment '{segment}'."),
    )
}

/// Auth, faults, handler, counting: in that order, so a request without a token is refused
/// before any throttling (as the real service authenticates first), and every outcome, injected
/// or not, is counted under the route's template.
async fn graph_middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let raw_path = request.uri().path();
    let path = raw_path
        .strip_prefix(GRAPH_ROOT)
        .unwrap_or(raw_path)
        .to_owned();
    let template = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| {
            m.as_str()
                .strip_prefix(GRAPH_ROOT)
                .unwrap_or(m.as_str())
                .to_owned()
        })
        .unwrap_or_else(|| path.clone());
    let key = format!("{method} {template}");

    let response = match crate::auth::check_bearer(&state, request.headers()) {
        Err(rejection) => unauthorized(&rejection.to_string()),
        Ok(()) => with_faults(&state, &method, &template, &path, request, next).await,
    };
    let response = if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        graph_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalidRequest",
            &format!("The HTTP method '{method}' is not allowed on this resource."),
        )
    } else {
        response
    };
    state.counters.record(&key, response.status());
    response
}

/// The token endpoint gets faults and counting too (docs/graph-behaviour.md §6.4: clients should
/// retry 429 and 5xx from `/token`, and tests check how often a client asks for a token).
async fn token_middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let template = "/{tenant}/oauth2/v2.0/token";
    let response = with_faults(&state, &method, template, &path, request, next).await;
    if method == Method::POST {
        state.counters.record(TOKEN_ROUTE_KEY, response.status());
    }
    response
}

async fn with_faults(
    state: &AppState,
    method: &Method,
    template: &str,
    path: &str,
    request: Request,
    next: Next,
) -> Response {
    let action = lock(&state.faults).take(method.as_str(), template, path);
    let Some(action) = action else {
        return next.run(request).await;
    };
    if let Some(latency) = action.latency {
        tokio::time::sleep(latency).await;
    }
    match action.status {
        Some(status) if action.after_handler => {
            // The write happens; its answer is lost on the way back.
            drop(next.run(request).await);
            fault_response(status, action.retry_after_secs, path)
        }
        Some(status) => fault_response(status, action.retry_after_secs, path),
        None => next.run(request).await,
    }
}

/// Graph's 401 for a missing, unknown or expired token.
fn unauthorized(message: &str) -> Response {
    let mut response = graph_error(
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        message,
    )
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(
            "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
        ),
    );
    response
}
