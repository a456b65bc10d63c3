//! Which Graph `tasksync local` talks to: the emulator it starts (the default), or a real
//! Microsoft 365 tenant with the credentials of the environment (`--graph tenant`).

use graph_emulator::{ControlClient, EmulatorConfig, RunningEmulator};
use tasksync::config::{GraphEndpoints, ProcessEnv};
use tasksync::graph::GraphClient;
use tasksync::standalone::emulator_stack;

use super::super::LocalRunError;

/// The Graph side, started.
pub struct GraphSide {
    /// The emulator, when Graph is emulated (stopped by [`GraphSide::shutdown`]).
    pub emulator: Option<RunningEmulator>,
    pub graph: GraphClient,
    pub graph_base_url: String,
    pub token_url: String,
    pub tenant_id: String,
    pub client_id: String,
    /// Printed only for the emulator: a real tenant's secret is never printed.
    pub emulator_secret: Option<String>,
}

impl GraphSide {
    /// The emulator on `127.0.0.1:port`.
    pub async fn emulator(port: u16) -> Result<Self, LocalRunError> {
        let emulator =
            graph_emulator::start(EmulatorConfig::default(), &format!("127.0.0.1:{port}")).await?;
        let config = emulator.state.config.clone();
        Ok(Self {
            graph: emulator_stack::graph_client(&emulator)?,
            graph_base_url: emulator.graph_base_url.clone(),
            token_url: emulator.token_url.clone(),
            tenant_id: config.tenant_id,
            client_id: config.client_id,
            emulator_secret: Some(config.client_secret),
            emulator: Some(emulator),
        })
    }

    /// A real tenant: GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET (or
    /// GRAPH_CLIENT_SECRET_ARN) from the environment, as the functions read them.
    pub async fn tenant(aws: &aws_config::SdkConfig) -> Result<Self, LocalRunError> {
        let endpoints = GraphEndpoints::from_env(&ProcessEnv)?;
        let graph = endpoints.connect(aws).await?;
        Ok(Self {
            graph,
            graph_base_url: endpoints.graph_base_url,
            token_url: endpoints.token_url,
            tenant_id: endpoints.tenant_id,
            client_id: endpoints.client_id,
            emulator_secret: None,
            emulator: None,
        })
    }

    /// The emulator's root URL (`/_emulator` under it is the control API).
    pub fn emulator_url(&self) -> Option<String> {
        self.emulator.as_ref().map(|e| format!("http://{}", e.addr))
    }

    pub fn control(&self) -> Option<ControlClient> {
        self.emulator
            .as_ref()
            .map(|e| ControlClient::new(e.control_url.clone()))
    }

    pub fn shutdown(self) {
        if let Some(emulator) = self.emulator {
            emulator.shutdown();
        }
    }
}
