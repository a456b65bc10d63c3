//! The cross-area part of the control API (under `/_emulator`, never authenticated, never counted):
//! fault rules, request counters and the clock. Area-specific control routes (seeding, edits "as a
//! person in the app") live with their area.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::json;

use crate::errors::bad_request;
use crate::faults::{FaultSpec, TOKEN_ROUTE_KEY};
use crate::state::{AppState, lock};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route(
            "/faults",
            post(add_fault).get(list_faults).delete(clear_faults),
        )
        .route("/faults/{id}", delete(remove_fault))
        .route("/counters", get(counters).delete(reset_counters))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance_clock))
}

async fn health() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

async fn add_fault(State(state): State<AppState>, body: Bytes) -> Response {
    let spec: FaultSpec = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return bad_request(&format!("invalid fault rule: {e}")),
    };
    match lock(&state.faults).add(spec) {
        Ok(rule) => (StatusCode::CREATED, axum::Json(rule)).into_response(),
        Err(e) => bad_request(&e.to_string()),
    }
}

async fn list_faults(State(state): State<AppState>) -> Response {
    axum::Json(json!({"value": lock(&state.faults).list()})).into_response()
}

async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    lock(&state.faults).clear();
    StatusCode::NO_CONTENT
}

async fn remove_fault(State(state): State<AppState>, Path(id): Path<u64>) -> StatusCode {
    if lock(&state.faults).remove(id) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn counters(State(state): State<AppState>) -> Response {
    let routes = state.counters.snapshot();
    let total: u64 = routes.values().map(|c| c.total).sum();
    let token_requests = routes.get(TOKEN_ROUTE_KEY).map_or(0, |c| c.total);
    axum::Json(json!({
        "total": total,
        "token_requests": token_requests,
        "routes": routes,
    }))
    .into_response()
}

async fn reset_counters(State(state): State<AppState>) -> StatusCode {
    state.counters.reset();
    StatusCode::NO_CONTENT
}

async fn clock(State(state): State<AppState>) -> Response {
    axum::Json(json!({"now": state.clock.now().to_rfc3339()})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: f64,
}

async fn advance_clock(State(state): State<AppState>, body: Bytes) -> Response {
    let advance: Advance = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return bad_request(&format!("expected {{\"seconds\": N}}: {e}")),
    };
    let Ok(by) = Duration::try_from_secs_f64(advance.seconds) else {
        return bad_request("`seconds` must be a finite, non-negative number");
    };
    state.clock.advance(by);
    axum::Json(json!({"now": state.clock.now().to_rfc3339()})).into_response()
}
