//! Placeholder until its owner fills it in.

use axum::Router;

use crate::state::AppState;

#[derive(Default)]
pub struct AuthState {}

pub fn routes() -> Router<AppState> {
    Router::new()
}
