//! The identity platform's client-credentials token endpoint (docs/graph-behaviour.md §6) and the
//! bearer-token check every Graph route gets through `server.rs`.
//!
//! Tokens are opaque random strings (§6.2: clients must not parse them) stored with their expiry on
//! the emulator clock, so `POST /_emulator/clock/advance` expires them without waiting.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::Rng;
use serde_json::json;

use crate::state::{AppState, lock};

/// The only scope the emulator grants (§6.1: `{resource}/.default`).
pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";

#[derive(Default)]
pub struct AuthState {
    /// Issued access tokens and when they expire.
    tokens: HashMap<String, DateTime<Utc>>,
    /// Issues since the last sweep of expired tokens, so the map stays bounded without a scan
    /// on every request.
    issued_since_sweep: usize,
}

/// Why a bearer token was refused (all map to 401 `InvalidAuthenticationToken`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    #[error("Access token is empty.")]
    Missing,
    #[error("IDX14100: JWT is not well formed, there are no dots (.).")]
    Unknown,
    #[error("Lifetime validation failed, the token is expired.")]
    Expired,
}

impl AuthState {
    pub fn issue(&mut self, now: DateTime<Utc>, lifetime: chrono::Duration) -> String {
        self.issued_since_sweep += 1;
        if self.issued_since_sweep >= 1024 {
            self.tokens.retain(|_, expiry| *expiry > now);
            self.issued_since_sweep = 0;
        }
        let bytes: [u8; 32] = rand::rng().random();
        let token = format!(
            "emu.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        self.tokens.insert(token.clone(), now + lifetime);
        token
    }

    pub fn check(&self, token: &str, now: DateTime<Utc>) -> Result<(), TokenRejection> {
        match self.tokens.get(token) {
            None => Err(TokenRejection::Unknown),
            Some(expiry) if *expiry <= now => Err(TokenRejection::Expired),
            Some(_) => Ok(()),
        }
    }
}

/// Validates the `Authorization: Bearer` header of a Graph request.
pub fn check_bearer(state: &AppState, headers: &HeaderMap) -> Result<(), TokenRejection> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or(TokenRejection::Missing)?;
    let now = state.clock.now();
    lock(&state.auth).check(token, now)
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/{tenant}/oauth2/v2.0/token", post(token))
}

/// An identity-platform error (§6.3 body shape). The message never contains the secret.
fn aad_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    let now = Utc::now();
    let timestamp = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
    let trace_id = uuid::Uuid::new_v4().to_string();
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {description}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    no_store((status, axum::Json(body)).into_response())
}

/// §6.3: token responses carry `Cache-Control: no-store, no-cache` and `Pragma: no-cache`.
fn no_store(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// Client credentials from HTTP Basic authentication (§6.1 allows it instead of form fields).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let id = url::form_urlencoded::parse(format!("a={id}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    let secret = url::form_urlencoded::parse(format!("a={secret}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    Some((id, secret))
}

/// `POST /{tenant}/oauth2/v2.0/token` (§6.1). Checks run in the order the real endpoint appears
/// to use: tenant, grant type, client, secret, scope.
async fn token(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let config = &state.config;
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();

    if tenant != config.tenant_id {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    match form.get("grant_type").map(String::as_str) {
        None => {
            return aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            );
        }
        Some("client_credentials") => {}
        Some(other) => {
            return aad_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{other}'."),
            );
        }
    }
    let basic = basic_credentials(&headers);
    let client_id = form
        .get("client_id")
        .cloned()
        .or_else(|| basic.as_ref().map(|(id, _)| id.clone()));
    let Some(client_id) = client_id else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    if client_id != config.client_id {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."
            ),
        );
    }
    let secret = form
        .get("client_secret")
        .cloned()
        .or_else(|| basic.map(|(_, s)| s));
    let Some(secret) = secret else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    };
    // §6.3 DISCREPANCY: real traces show 401 for a bad secret; clients must accept 400 too.
    if !constant_time_eq(secret.as_bytes(), config.client_secret.as_bytes()) {
        return aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            &format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        );
    }
    let scope = form.get("scope").map(String::as_str).unwrap_or("");
    if scope.is_empty() {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        );
    }
    if scope != GRAPH_DEFAULT_SCOPE {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            &format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        );
    }

    let lifetime = config.token_lifetime;
    let secs = lifetime.as_secs();
    let chrono_lifetime =
        chrono::Duration::from_std(lifetime).unwrap_or_else(|_| chrono::Duration::seconds(3599));
    let now = state.clock.now();
    let access_token = lock(&state.auth).issue(now, chrono_lifetime);
    no_store(
        axum::Json(json!({
            "token_type": "Bearer",
            "expires_in": secs,
            "ext_expires_in": secs,
            "access_token": access_token,
        }))
        .into_response(),
    )
}

/// Compares secrets without an early exit, so timing does not reveal a matching prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_token_expires_on_the_clock() {
        let mut a = AuthState::default();
        let now = Utc::now();
        let t = a.issue(now, chrono::Duration::seconds(60));
        assert_eq!(a.check(&t, now), Ok(()));
        assert_eq!(
            a.check(&t, now + chrono::Duration::seconds(60)),
            Err(TokenRejection::Expired)
        );
        assert_eq!(a.check("nope", now), Err(TokenRejection::Unknown));
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
