//! The validation handshake (docs/graph-behaviour.md §1.3) that a notification endpoint must pass
//! before a subscription is created or moved to it.

use axum::http::header;
use base64::Engine as _;

use super::{Result, SubscriptionError};
use crate::state::AppState;

/// An opaque token that needs URL encoding (spaces, `:`, `+`), shaped like the real one, so
/// receivers that forget to decode it fail here as they would against Graph.
fn new_validation_token() -> String {
    let nonce: [u8; 12] = rand::random();
    format!(
        "Validation: Testing client application reachability for subscription Request-Id: {} Nonce: {}",
        uuid::Uuid::new_v4(),
        base64::engine::general_purpose::STANDARD.encode(nonce)
    )
}

/// POSTs `{url}?validationToken=...` and insists on 200, `text/plain` and the decoded token as
/// the whole body, within `validation_timeout`.
pub async fn run_handshake(state: &AppState, url: &str) -> Result<()> {
    let token = new_validation_token();
    let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let separator = if url.contains('?') { '&' } else { '?' };
    let target = format!("{url}{separator}validationToken={encoded}");
    let limit = state.config.validation_timeout;
    let attempt = async {
        let response = state
            .delivery
            .http()
            .post(&target)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .timeout(limit)
            .send()
            .await
            .map_err(|e| {
                SubscriptionError::Validation(format!(
                    "The notification endpoint could not be reached: {}.",
                    describe(&e)
                ))
            })?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(SubscriptionError::Validation(format!(
                "Notification endpoint must respond with 200 OK to validation request (got {}).",
                response.status().as_u16()
            )));
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !content_type.starts_with("text/plain") {
            return Err(SubscriptionError::Validation(
                "Notification endpoint must respond with Content-Type text/plain.".into(),
            ));
        }
        let body = response.text().await.map_err(|e| {
            SubscriptionError::Validation(format!(
                "Reading the validation response failed: {}.",
                describe(&e)
            ))
        })?;
        if body != token {
            return Err(SubscriptionError::Validation(
                "Response must exactly match validationToken query parameter (URL-decoded).".into(),
            ));
        }
        Ok(())
    };
    match tokio::time::timeout(limit, attempt).await {
        Ok(result) => result,
        Err(_) => Err(SubscriptionError::Validation(format!(
            "The notification endpoint did not answer within {} ms.",
            limit.as_millis()
        ))),
    }
}

fn describe(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    }
}
