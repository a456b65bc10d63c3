//! Client-credentials tokens from the identity platform (docs/graph-behaviour.md §6): one cached
//! token per client (tenant, client id and scope are fixed per client), refreshed ahead of expiry,
//! one refresh at a time however many requests wait, and token errors turned into instructions for
//! the operator.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::GraphError;

/// Refresh when less than this is left (docs/graph-behaviour.md §6.4, client advice), or a quarter
/// of the lifetime for short-lived tokens.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

#[derive(Clone)]
pub(crate) struct CachedToken {
    pub value: Arc<str>,
    pub refresh_at: Instant,
    pub expires_at: Instant,
}

/// The access token is a credential: `Debug` (reached through `GraphClient`'s) never shows it.
impl std::fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedToken")
            .field("value", &"<redacted>")
            .field("refresh_at", &self.refresh_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl CachedToken {
    pub fn new(value: String, issued_at: Instant, expires_in: Duration) -> Self {
        let margin = REFRESH_MARGIN.min(expires_in / 4);
        Self {
            value: Arc::from(value),
            refresh_at: issued_at + expires_in.saturating_sub(margin),
            // Count expiry from before the request went out: the server's clock started later.
            expires_at: issued_at + expires_in,
        }
    }

    pub fn fresh(&self, now: Instant) -> bool {
        now < self.refresh_at
    }

    pub fn usable(&self, now: Instant) -> bool {
        now + Duration::from_secs(5) < self.expires_at
    }
}

/// The token slot. The tokio mutex is the single-flight: the first caller that finds the token
/// stale fetches while holding it; the others wait and then find the fresh token.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    pub slot: tokio::sync::Mutex<Option<CachedToken>>,
}

impl TokenCache {
    /// Drops `stale` (after Graph answered 401 to it) unless another caller already replaced it.
    pub async fn invalidate(&self, stale: &Arc<str>) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|t| Arc::ptr_eq(&t.value, stale)) {
            *slot = None;
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    #[serde(deserialize_with = "number_or_string")]
    pub expires_in: u64,
}

/// `expires_in` is a number in v2.0 responses; older endpoints sent it as a string.
fn number_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        Num(u64),
        Str(String),
    }
    match N::deserialize(d)? {
        N::Num(n) => Ok(n),
        N::Str(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

#[derive(Debug, Default, Deserialize)]
struct TokenErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    error_codes: Vec<u64>,
}

/// The AADSTS number of a token error: from `error_codes`, else from the description's prefix.
fn aadsts_code(body: &TokenErrorBody) -> Option<u64> {
    body.error_codes.first().copied().or_else(|| {
        let rest = body.error_description.strip_prefix("AADSTS")?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

/// What a failed token request means. `Ok(retry)` would hide the difference between
/// "the service is busy" and "the configuration is wrong", so both come back as a GraphError:
/// 429/5xx/`temporarily_unavailable` are retryable, everything else is `Config` with what to fix.
/// The secret never appears: the message is built from codes and names only.
pub(crate) fn classify_token_error(
    status: u16,
    retry_after: Option<Duration>,
    fallback_wait: Duration,
    body: &[u8],
    tenant_id: &str,
    client_id: &str,
) -> GraphError {
    let parsed: TokenErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let code = aadsts_code(&parsed);
    if status == 429 || code == Some(90055) {
        return GraphError::Throttled {
            retry_after: retry_after.unwrap_or(fallback_wait),
        };
    }
    if status >= 500 || parsed.error == "temporarily_unavailable" {
        return GraphError::Transient(format!(
            "token endpoint answered HTTP {status} {}",
            parsed.error
        ));
    }
    let aadsts = code.map(|c| format!(" (AADSTS{c})")).unwrap_or_default();
    let what_to_fix = match (parsed.error.as_str(), code) {
        (_, Some(7000215)) => format!(
            "the client secret of app {client_id} is invalid: the configured value is probably the \
             secret's ID, not its Value; copy the Value shown once when the secret was created"
        ),
        (_, Some(7000222)) => format!(
            "the client secret of app {client_id} has expired: create a new secret in the app \
             registration and update the stored value"
        ),
        (_, Some(700016)) | ("unauthorized_client", _) => format!(
            "app {client_id} is not known in tenant {tenant_id}: check the tenant and client ids, \
             and that an administrator has consented to the app in this tenant"
        ),
        (_, Some(90002)) => format!(
            "tenant {tenant_id} was not found: check the tenant id and the cloud's token URL"
        ),
        (_, Some(7000112)) => format!("app {client_id} is disabled in tenant {tenant_id}"),
        (_, Some(70011 | 700022 | 700023)) | ("invalid_scope", _) => {
            "the token scope is invalid: use https://graph.microsoft.com/.default".to_owned()
        }
        ("invalid_client", _) => format!(
            "client authentication failed for app {client_id}: check the client secret (its \
             Value, not its ID, and not expired)"
        ),
        (other, _) => format!(
            "the token request was refused (HTTP {status}, error {other:?}): check the tenant id, \
             client id, secret and scope"
        ),
    };
    GraphError::Config(format!("{what_to_fix}{aadsts}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(status: u16, body: &str) -> GraphError {
        classify_token_error(
            status,
            None,
            Duration::from_secs(1),
            body.as_bytes(),
            "tenant-1",
            "client-1",
        )
    }

    #[test]
    fn bad_secret_says_value_not_id_whether_400_or_401() {
        let body = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}"#;
        for status in [400, 401] {
            match classify(status, body) {
                GraphError::Config(m) => {
                    assert!(m.contains("Value"), "{m}");
                    assert!(m.contains("AADSTS7000215"), "{m}");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn token_errors_name_what_to_fix() {
        let expired = r#"{"error":"invalid_client","error_description":"AADSTS7000222: expired"}"#;
        assert!(matches!(classify(401, expired), GraphError::Config(m) if m.contains("expired")));
        let unknown_app = r#"{"error":"unauthorized_client","error_codes":[700016]}"#;
        assert!(
            matches!(classify(400, unknown_app), GraphError::Config(m) if m.contains("consented") && m.contains("tenant-1"))
        );
        let scope = r#"{"error":"invalid_scope","error_codes":[70011]}"#;
        assert!(matches!(classify(400, scope), GraphError::Config(m) if m.contains(".default")));
        assert!(matches!(classify(400, "not json"), GraphError::Config(_)));
    }

    #[test]
    fn busy_token_endpoint_is_retryable() {
        assert!(matches!(classify(429, "{}"), GraphError::Throttled { .. }));
        assert!(matches!(classify(503, ""), GraphError::Transient(_)));
        let tu = r#"{"error":"temporarily_unavailable"}"#;
        assert!(matches!(classify(400, tu), GraphError::Transient(_)));
    }

    #[test]
    fn token_is_refreshed_ahead_of_expiry() {
        let now = Instant::now();
        let t = CachedToken::new("x".into(), now, Duration::from_secs(3600));
        assert!(t.fresh(now + Duration::from_secs(3299)));
        assert!(!t.fresh(now + Duration::from_secs(3300)));
        assert!(t.usable(now + Duration::from_secs(3500)));
        let short = CachedToken::new("y".into(), now, Duration::from_secs(40));
        assert!(short.fresh(now + Duration::from_secs(29)));
        assert!(!short.fresh(now + Duration::from_secs(30)));
    }

    #[test]
    fn expires_in_may_be_a_string() {
        let t: TokenResponse =
            serde_json::from_str(r#"{"access_token":"a","expires_in":"3599","token_type":"Bearer","ext_expires_in":3599}"#)
                .unwrap();
        assert_eq!(t.expires_in, 3599);
    }
}
