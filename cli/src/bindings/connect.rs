//! What the binding commands work with, built from the functions' environment as the worker
//! builds it: the sync table, the tasks table and the Graph client (its secret resolved once).

use tasksync::config::{Deployment, GraphEndpoints, ProcessEnv};
use tasksync::graph::GraphClient;
use tasksync::store::{DynamoSyncStore, DynamoTaskStore};
use tasksync::sync::{Engine, EngineSettings};

use crate::error::CliError;

pub struct Connected {
    pub sync: DynamoSyncStore,
    pub tasks: DynamoTaskStore,
    pub graph: GraphClient,
}

impl Connected {
    pub async fn from_env() -> Result<Self, CliError> {
        let deployment = Deployment::from_env(&ProcessEnv).await?;
        let graph = GraphEndpoints::from_env(&ProcessEnv)?
            .connect(&deployment.aws)
            .await?;
        Ok(Self {
            sync: deployment.sync_store(),
            tasks: deployment.task_store(),
            graph,
        })
    }

    /// The worker's engine with the worker's default settings.
    pub fn engine(&self) -> Engine<'_, DynamoSyncStore, DynamoTaskStore, GraphClient> {
        Engine {
            sync: &self.sync,
            tasks: &self.tasks,
            graph: &self.graph,
            settings: EngineSettings::default(),
        }
    }
}
