//! Where `tasksync local` keeps its tables and queue: moto started by the command itself (the
//! default), another DynamoDB/SQS-compatible endpoint already running (`--aws-endpoint`), or
//! real AWS (`--no-emulate-aws`, with the deployment's own variables).

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use tasksync::config::{AwsResources, ConfigError, Deployment, ProcessEnv};
use tasksync::standalone::moto::MotoServer;
use tasksync::standalone::provision::provision;

use super::super::LocalRunError;

/// The region of an emulated AWS (any works; the SDK needs one).
pub const REGION: &str = "us-east-1";
/// Credentials emulators accept; obviously not real ones.
pub const DUMMY_KEY: &str = "local";
/// Table and queue names are the template's logical ids under this prefix.
pub const PREFIX: &str = "tasksync-local";

/// Which AWS the local run uses.
#[derive(Debug, Clone)]
pub enum AwsChoice {
    /// moto, started on this port and stopped on exit.
    Moto { port: u16 },
    /// An emulator already running at this URL; the template's resources are created there.
    Endpoint(String),
    /// The real AWS of the environment's credentials, with TASKS_TABLE, SYNC_TABLE and
    /// WORK_QUEUE_URL naming resources that exist.
    Real,
}

/// The AWS side, started.
pub struct AwsSide {
    /// moto, when the command started it (stopped when this is dropped).
    pub moto: Option<MotoServer>,
    /// The emulated endpoint, if any (AWS_ENDPOINT_URL).
    pub endpoint: Option<String>,
    pub deployment: Deployment,
    /// The tasks table's stream, when it is read here (an emulator has no pipe).
    pub stream_arn: Option<String>,
}

impl AwsSide {
    pub async fn start(choice: &AwsChoice) -> Result<Self, LocalRunError> {
        match choice {
            AwsChoice::Moto { port } => {
                let moto = MotoServer::start(*port).await?;
                let endpoint = moto.endpoint().to_owned();
                let mut side = Self::emulated(&endpoint).await?;
                side.moto = Some(moto);
                Ok(side)
            }
            AwsChoice::Endpoint(url) => Self::emulated(url.trim_end_matches('/')).await,
            AwsChoice::Real => {
                let deployment = Deployment::from_env(&ProcessEnv)
                    .await
                    .map_err(LocalRunError::Config)?;
                Ok(Self {
                    moto: None,
                    endpoint: None,
                    deployment,
                    stream_arn: None,
                })
            }
        }
    }

    /// An emulator at `endpoint`, with template.yaml's tables and queues created there.
    async fn emulated(endpoint: &str) -> Result<Self, LocalRunError> {
        let aws = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(endpoint)
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                DUMMY_KEY,
                DUMMY_KEY,
                None,
                None,
                "tasksync-local",
            )))
            .build();
        let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let provisioned = provision(&dynamodb, &sqs, PREFIX).await?;
        let resources = AwsResources {
            tasks_table: provisioned.tasks_table().to_owned(),
            sync_table: provisioned.sync_table().to_owned(),
            work_queue_url: provisioned.work_queue_url().to_owned(),
        };
        Ok(Self {
            moto: None,
            endpoint: Some(endpoint.to_owned()),
            deployment: Deployment { resources, aws },
            stream_arn: provisioned.tasks_stream_arn().map(str::to_owned),
        })
    }

    /// The region the SDK uses.
    pub fn region(&self) -> String {
        self.deployment
            .aws
            .region()
            .map_or_else(|| REGION.to_owned(), |r| r.to_string())
    }
}

impl From<ConfigError> for LocalRunError {
    fn from(e: ConfigError) -> Self {
        LocalRunError::Config(e)
    }
}
