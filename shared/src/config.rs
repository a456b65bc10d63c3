//! Configuration from environment variables. The README's configuration table lists every
//! variable; this module is the only place that reads them (every read goes through [`Env`]), so
//! the table and the code agree.
//!
//! Graph endpoints are overridable so the same binaries run against the Graph emulator; AWS
//! endpoints follow the SDK's standard `AWS_ENDPOINT_URL`, so nothing here names them: the SDK
//! reads its own variables (credentials, region, endpoint) when [`Deployment::from_env`] asks it
//! to, and that is the one place that asks.
//!
//! What the functions and the CLI build from the configuration once per process is here too
//! ([`Deployment`]'s adapters, [`GraphEndpoints::connect`]), so each main only wires them.

use std::collections::HashMap;

use crate::graph::{GraphClient, GraphError, HttpOptions, http_client};
use crate::queue::SqsHintQueue;
use crate::secrets::SecretError;
use crate::store::{DynamoSyncStore, DynamoTaskStore};

/// A missing or malformed setting: the operator must fix the deployment.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

pub const DEFAULT_GRAPH_BASE_URL: &str = crate::graph::GraphSettings::DEFAULT_GRAPH_BASE_URL;

/// Where the AWS resources are (names come from template.yaml's outputs / `!Ref`s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsResources {
    pub tasks_table: String,
    pub sync_table: String,
    pub work_queue_url: String,
}

/// How to reach Microsoft Graph and the identity platform.
#[derive(Clone, PartialEq, Eq)]
pub struct GraphEndpoints {
    pub graph_base_url: String,
    pub token_url: String,
    pub tenant_id: String,
    pub client_id: String,
    pub secret: SecretSource,
}

impl std::fmt::Debug for GraphEndpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphEndpoints")
            .field("graph_base_url", &self.graph_base_url)
            .field("token_url", &self.token_url)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("secret", &self.secret)
            .finish()
    }
}

/// Where the Graph client secret comes from. Its value never appears in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `GRAPH_CLIENT_SECRET`: tests and the local run only.
    Inline(String),
    /// `GRAPH_CLIENT_SECRET_ARN`: a Secrets Manager secret, fetched once per cold start.
    SecretsManager(String),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Inline(_) => f.write_str("Inline(<redacted>)"),
            SecretSource::SecretsManager(arn) => write!(f, "SecretsManager({arn})"),
        }
    }
}

/// A view of the environment, so parsing is testable without mutating the process environment.
/// Every variable tasksync reads goes through it; a blank value counts as unset.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Env for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned().filter(|v| !v.trim().is_empty())
    }
}

fn required(env: &impl Env, name: &'static str) -> Result<String, ConfigError> {
    env.var(name).ok_or(ConfigError::Missing(name))
}

fn url(env: &impl Env, name: &'static str, default: String) -> Result<String, ConfigError> {
    checked_url(name, env.var(name).unwrap_or(default))
}

fn checked_url(name: &'static str, value: String) -> Result<String, ConfigError> {
    match url::Url::parse(&value) {
        Ok(u) if u.scheme() == "https" || u.scheme() == "http" => {
            Ok(value.trim_end_matches('/').to_owned())
        }
        Ok(_) => Err(ConfigError::Invalid {
            name,
            reason: "must be an http(s) URL".to_owned(),
        }),
        Err(e) => Err(ConfigError::Invalid {
            name,
            reason: e.to_string(),
        }),
    }
}

/// `WEBHOOK_BASE_URL`: the HTTP API's base URL (template.yaml sets it). The subscriptions the
/// scheduler makes, and those the worker remakes on a control hint, post under it.
pub fn webhook_base_url(env: &impl Env) -> Result<String, ConfigError> {
    checked_url("WEBHOOK_BASE_URL", required(env, "WEBHOOK_BASE_URL")?)
}

/// `GRAPH_TENANT_ID`, for the webhook: notifications from another tenant are refused when it is
/// set, and none is refused when it is not (the webhook holds no Graph credentials).
pub fn expected_tenant_id(env: &impl Env) -> Option<String> {
    env.var("GRAPH_TENANT_ID")
}

/// `PIPE_DLQ_URL`: the EventBridge pipe's dead-letter queue, for the CLI's `tasksync dlq --pipe`
/// (optional: without it the CLI looks the queue up beside the work queue).
pub fn pipe_dead_letter_queue_url(env: &impl Env) -> Option<String> {
    env.var("PIPE_DLQ_URL")
}

/// `RUST_LOG`: the log filter, when one is set (`crate::telemetry` falls back to its default,
/// also when the filter does not parse).
pub fn log_filter(env: &impl Env) -> Option<String> {
    env.var("RUST_LOG")
}

impl AwsResources {
    /// `TASKS_TABLE`, `SYNC_TABLE`, `WORK_QUEUE_URL`.
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        Ok(Self {
            tasks_table: required(env, "TASKS_TABLE")?,
            sync_table: required(env, "SYNC_TABLE")?,
            work_queue_url: required(env, "WORK_QUEUE_URL")?,
        })
    }
}

impl GraphEndpoints {
    /// The Graph client's settings, once the secret has been resolved (see `crate::secrets`).
    pub fn settings(&self, client_secret: crate::graph::Secret) -> crate::graph::GraphSettings {
        crate::graph::GraphSettings {
            graph_base_url: self.graph_base_url.clone(),
            token_url: self.token_url.clone(),
            tenant_id: self.tenant_id.clone(),
            client_id: self.client_id.clone(),
            client_secret,
            scope: crate::graph::GraphSettings::DEFAULT_SCOPE.to_owned(),
        }
    }

    /// `GRAPH_TENANT_ID`, `GRAPH_CLIENT_ID`, one of `GRAPH_CLIENT_SECRET` /
    /// `GRAPH_CLIENT_SECRET_ARN`, and the optional overrides `GRAPH_BASE_URL`, `GRAPH_TOKEN_URL`.
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let tenant_id = required(env, "GRAPH_TENANT_ID")?;
        let client_id = required(env, "GRAPH_CLIENT_ID")?;
        let secret = match (
            env.var("GRAPH_CLIENT_SECRET"),
            env.var("GRAPH_CLIENT_SECRET_ARN"),
        ) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid {
                    name: "GRAPH_CLIENT_SECRET",
                    reason: "set either GRAPH_CLIENT_SECRET or GRAPH_CLIENT_SECRET_ARN, not both"
                        .to_owned(),
                });
            }
            (Some(value), None) => SecretSource::Inline(value),
            (None, Some(arn)) => SecretSource::SecretsManager(arn),
            (None, None) => return Err(ConfigError::Missing("GRAPH_CLIENT_SECRET_ARN")),
        };
        let token_default = crate::graph::GraphSettings::public_token_url(&tenant_id);
        Ok(Self {
            graph_base_url: url(env, "GRAPH_BASE_URL", DEFAULT_GRAPH_BASE_URL.to_owned())?,
            token_url: url(env, "GRAPH_TOKEN_URL", token_default)?,
            tenant_id,
            client_id,
            secret,
        })
    }
}

/// Building the Graph client at start-up failed: the secret could not be read, or the HTTP
/// client could not be made. The function cannot serve; Lambda reports the init error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("cannot build the Graph client: {0}")]
    Graph(#[from] GraphError),
}

impl GraphEndpoints {
    /// The Graph client of a function, once per execution environment: the secret resolved
    /// (from Secrets Manager through `aws` when that is where it is), default HTTP options. Its
    /// token cache and connection pool then serve every warm invocation.
    pub async fn connect(&self, aws: &aws_config::SdkConfig) -> Result<GraphClient, StartupError> {
        let secret = crate::secrets::graph_client_secret(&self.secret, aws).await?;
        Ok(GraphClient::new(
            self.settings(secret),
            http_client(&HttpOptions::default())?,
        )?)
    }
}

/// The deployed AWS resources and the SDK configuration that reaches them: what the functions
/// and the operations commands build first, and the adapters over them.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub resources: AwsResources,
    pub aws: aws_config::SdkConfig,
}

impl Deployment {
    /// [`AwsResources::from_env`], then the SDK's own configuration (credentials, region,
    /// `AWS_ENDPOINT_URL`), which the SDK reads from the process environment itself.
    pub async fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let resources = AwsResources::from_env(env)?;
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Ok(Self { resources, aws })
    }

    /// The sync table (`SYNC_TABLE`).
    pub fn sync_store(&self) -> DynamoSyncStore {
        DynamoSyncStore::new(
            aws_sdk_dynamodb::Client::new(&self.aws),
            self.resources.sync_table.clone(),
        )
    }

    /// The task store (`TASKS_TABLE`).
    pub fn task_store(&self) -> DynamoTaskStore {
        DynamoTaskStore::new(
            aws_sdk_dynamodb::Client::new(&self.aws),
            self.resources.tasks_table.clone(),
        )
    }

    /// The work queue (`WORK_QUEUE_URL`).
    pub fn hint_queue(&self) -> SqsHintQueue {
        SqsHintQueue::new(
            aws_sdk_sqs::Client::new(&self.aws),
            self.resources.work_queue_url.clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webhook_base_url_is_required_and_must_be_an_http_url() {
        assert_eq!(
            webhook_base_url(&env(&[])),
            Err(ConfigError::Missing("WEBHOOK_BASE_URL"))
        );
        assert!(matches!(
            webhook_base_url(&env(&[("WEBHOOK_BASE_URL", "ftp://x")])),
            Err(ConfigError::Invalid {
                name: "WEBHOOK_BASE_URL",
                ..
            })
        ));
        assert_eq!(
            webhook_base_url(&env(&[(
                "WEBHOOK_BASE_URL",
                "https://abc.execute-api.eu-west-1.amazonaws.com/"
            )])),
            Ok("https://abc.execute-api.eu-west-1.amazonaws.com".to_owned())
        );
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_tenant_check_and_the_log_filter_are_optional_and_blank_means_unset() {
        assert_eq!(expected_tenant_id(&env(&[])), None);
        assert_eq!(expected_tenant_id(&env(&[("GRAPH_TENANT_ID", " ")])), None);
        assert_eq!(
            expected_tenant_id(&env(&[("GRAPH_TENANT_ID", "t1")])),
            Some("t1".to_owned())
        );
        assert_eq!(log_filter(&env(&[("RUST_LOG", "")])), None);
        assert_eq!(
            log_filter(&env(&[("RUST_LOG", "tasksync=debug")])),
            Some("tasksync=debug".to_owned())
        );
    }

    #[test]
    fn graph_defaults_to_the_real_service() {
        let e = env(&[
            ("GRAPH_TENANT_ID", "t1"),
            ("GRAPH_CLIENT_ID", "c1"),
            (
                "GRAPH_CLIENT_SECRET_ARN",
                "arn:aws:secretsmanager:eu-west-1:1:secret:x",
            ),
        ]);
        let g = GraphEndpoints::from_env(&e).unwrap();
        assert_eq!(g.graph_base_url, DEFAULT_GRAPH_BASE_URL);
        assert_eq!(
            g.token_url,
            "https://login.microsoftonline.com/t1/oauth2/v2.0/token"
        );
    }

    #[test]
    fn overrides_point_at_the_emulator_and_the_secret_stays_out_of_debug() {
        let e = env(&[
            ("GRAPH_TENANT_ID", "t1"),
            ("GRAPH_CLIENT_ID", "c1"),
            ("GRAPH_CLIENT_SECRET", "s3cr3t-value"),
            ("GRAPH_BASE_URL", "http://127.0.0.1:9/v1.0/"),
            ("GRAPH_TOKEN_URL", "http://127.0.0.1:9/t1/oauth2/v2.0/token"),
        ]);
        let g = GraphEndpoints::from_env(&e).unwrap();
        assert_eq!(g.graph_base_url, "http://127.0.0.1:9/v1.0");
        assert!(!format!("{g:?}").contains("s3cr3t"));
    }

    #[test]
    fn missing_and_conflicting_settings_name_the_variable() {
        let e = env(&[("GRAPH_TENANT_ID", "t1"), ("GRAPH_CLIENT_ID", "c1")]);
        assert_eq!(
            GraphEndpoints::from_env(&e).unwrap_err(),
            ConfigError::Missing("GRAPH_CLIENT_SECRET_ARN")
        );
        let e = env(&[
            ("GRAPH_TENANT_ID", "t1"),
            ("GRAPH_CLIENT_ID", "c1"),
            ("GRAPH_CLIENT_SECRET", "a"),
            ("GRAPH_CLIENT_SECRET_ARN", "b"),
        ]);
        assert!(matches!(
            GraphEndpoints::from_env(&e),
            Err(ConfigError::Invalid {
                name: "GRAPH_CLIENT_SECRET",
                ..
            })
        ));
        let e = env(&[
            ("GRAPH_TENANT_ID", "t1"),
            ("GRAPH_CLIENT_ID", "c1"),
            ("GRAPH_CLIENT_SECRET", "a"),
            ("GRAPH_BASE_URL", "ftp://x"),
        ]);
        assert!(matches!(
            GraphEndpoints::from_env(&e),
            Err(ConfigError::Invalid {
                name: "GRAPH_BASE_URL",
                ..
            })
        ));
        assert_eq!(
            AwsResources::from_env(&env(&[])).unwrap_err(),
            ConfigError::Missing("TASKS_TABLE")
        );
    }
}
