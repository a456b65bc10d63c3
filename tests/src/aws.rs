//! AWS SDK clients pointed at moto, and fresh resources from template.yaml for each test.
//!
//! Everything is set explicitly (endpoint, region, static credentials), so a developer's own
//! AWS profile or environment can neither leak into the tests nor make them reach a real account.

use std::sync::atomic::{AtomicU32, Ordering};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use tasksync::standalone::provision::{ProvisionError, Provisioned, provision};

use crate::moto::{MotoError, moto};

pub const REGION: &str = "us-east-1";
/// moto accepts any credentials; these are obviously not real ones.
pub const ACCESS_KEY_ID: &str = "testing";
pub const SECRET_ACCESS_KEY: &str = "testing";

#[derive(Debug, thiserror::Error)]
pub enum AwsTestError {
    #[error(transparent)]
    Moto(#[from] MotoError),
    #[error(transparent)]
    Provision(#[from] ProvisionError),
}

/// SDK configuration for an endpoint (moto), independent of the environment.
pub fn sdk_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "tasksync-tests",
        )))
        .build()
}

/// One test's view of moto: clients, and the tables and queues of template.yaml under a prefix
/// no other test uses.
#[derive(Debug, Clone)]
pub struct MotoAws {
    pub endpoint: String,
    pub config: SdkConfig,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub resources: Provisioned,
}

impl MotoAws {
    /// Environment variables that make a function binary (or the CLI) use these resources, the
    /// same names template.yaml sets in AWS (plus the SDK's standard endpoint and credentials).
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_owned()),
            ("TASKS_TABLE", self.resources.tasks_table().to_owned()),
            ("SYNC_TABLE", self.resources.sync_table().to_owned()),
            ("WORK_QUEUE_URL", self.resources.work_queue_url().to_owned()),
        ]
    }
}

/// A prefix unique within this process (each test process has its own moto server).
pub fn fresh_prefix() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "t{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Starts moto if needed and creates template.yaml's tables and queues under a fresh prefix.
pub async fn provisioned() -> Result<MotoAws, AwsTestError> {
    let server = moto().await?;
    let config = sdk_config(server.endpoint());
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let resources = provision(&dynamodb, &sqs, &fresh_prefix()).await?;
    Ok(MotoAws {
        endpoint: server.endpoint().to_owned(),
        config,
        dynamodb,
        sqs,
        resources,
    })
}
