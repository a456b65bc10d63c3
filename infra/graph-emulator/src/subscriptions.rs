//! Placeholder until its owner fills it in.

use axum::Router;

use crate::state::AppState;

#[derive(Default)]
pub struct SubscriptionState {}

pub fn routes() -> Router<AppState> {
    Router::new()
}

pub fn control_routes() -> Router<AppState> {
    Router::new()
}
