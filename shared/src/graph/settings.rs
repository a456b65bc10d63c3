//! What the client needs to reach Graph and the identity platform. The endpoints are overridable
//! so the same binaries run against the emulator (docs/architecture.md, Contracts).

use std::time::Duration;

use super::GraphError;

/// The client secret. Its `Debug` is redacted and it has no `Display`, so it cannot reach a log
/// line or an error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that must send it (the token request body).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Graph endpoints and app credentials.
#[derive(Debug, Clone)]
pub struct GraphSettings {
    /// e.g. `https://graph.microsoft.com/v1.0`, or the emulator's `http://127.0.0.1:PORT/v1.0`.
    pub graph_base_url: String,
    /// e.g. `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token` (docs/graph-behaviour.md
    /// §6.1).
    pub token_url: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// `{resource}/.default` (docs/graph-behaviour.md §6.1); see [`GraphSettings::DEFAULT_SCOPE`].
    pub scope: String,
}

impl GraphSettings {
    pub const DEFAULT_SCOPE: &'static str = "https://graph.microsoft.com/.default";
    pub const DEFAULT_GRAPH_BASE_URL: &'static str = "https://graph.microsoft.com/v1.0";

    /// The public cloud's token URL for a tenant.
    pub fn public_token_url(tenant_id: &str) -> String {
        format!("https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token")
    }
}

/// Timeouts of the one HTTP connection pool the process shares.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub connect_timeout: Duration,
    /// Upper bound of one request; a caller deadline shortens it further.
    pub request_timeout: Duration,
    pub pool_idle_timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            pool_idle_timeout: Duration::from_secs(90),
        }
    }
}

/// Builds the process's HTTP client: rustls, gzip accepted, connect and request timeouts. Build
/// it once per process (a cold start) and hand clones to every client, so warm invocations reuse
/// pooled connections.
pub fn http_client(options: &HttpOptions) -> Result<reqwest::Client, GraphError> {
    reqwest::Client::builder()
        .connect_timeout(options.connect_timeout)
        .timeout(options.request_timeout)
        .pool_idle_timeout(options.pool_idle_timeout)
        .gzip(true)
        .user_agent(concat!("tasksync/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| GraphError::Config(format!("cannot build the HTTP client: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_shows_in_debug_output() {
        let settings = GraphSettings {
            graph_base_url: "http://x/v1.0".into(),
            token_url: "http://x/t".into(),
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: Secret::new("s3cr3t-value"),
            scope: GraphSettings::DEFAULT_SCOPE.into(),
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
