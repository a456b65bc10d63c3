//! Shared setup of the Graph client tests: an emulator over loopback HTTP, a client built the way
//! the functions build it, and the emulator's control API.
//!
//! Test code outside `#[test]` functions, where a failed step must fail the test: the workspace's
//! no-panic lints (meant for the product's input paths) are lifted here.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use graph_emulator::{EmulatorConfig, RunningEmulator};
use serde_json::Value;
use tasksync::graph::models::{NewPlannerTask, NewTodoTask, PlannerTask, TodoTask};
use tasksync::graph::{GraphClient, GraphSettings, HttpOptions, RetryPolicy, Secret, http_client};

pub struct Env {
    pub emu: RunningEmulator,
    pub control: reqwest::Client,
}

impl Env {
    pub async fn start(config: EmulatorConfig) -> Env {
        let emu = graph_emulator::start(config, "127.0.0.1:0")
            .await
            .expect("emulator starts");
        Env {
            emu,
            control: reqwest::Client::new(),
        }
    }

    pub async fn default() -> Env {
        Self::start(EmulatorConfig::default()).await
    }

    pub fn config(&self) -> &EmulatorConfig {
        &self.emu.state.config
    }

    pub fn user(&self) -> String {
        self.config().user_id.clone()
    }

    pub fn settings(&self) -> GraphSettings {
        let c = self.config();
        GraphSettings {
            graph_base_url: self.emu.graph_base_url.clone(),
            token_url: self.emu.token_url.clone(),
            tenant_id: c.tenant_id.clone(),
            client_id: c.client_id.clone(),
            client_secret: Secret::new(c.client_secret.clone()),
            scope: GraphSettings::DEFAULT_SCOPE.to_owned(),
        }
    }

    /// A client with fast backoff so retry tests stay quick.
    pub fn client(&self) -> GraphClient {
        self.client_with(self.settings())
    }

    pub fn client_with(&self, settings: GraphSettings) -> GraphClient {
        let http = http_client(&HttpOptions::default()).expect("http client");
        GraphClient::with_policy(
            settings,
            http,
            RetryPolicy {
                max_attempts: 4,
                base_delay: Duration::from_millis(20),
                max_delay: Duration::from_millis(200),
                max_wait: Duration::from_secs(5),
                attempt_timeout: Duration::from_secs(10),
            },
        )
        .expect("client")
    }

    pub async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .control
            .request(method, format!("{}{path}", self.emu.control_url));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("control call");
        let status = resp.status();
        let text = resp.text().await.expect("control body");
        assert!(status.is_success(), "control {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn add_fault(&self, rule: Value) {
        self.control(reqwest::Method::POST, "/faults", Some(rule))
            .await;
    }

    pub async fn counters(&self) -> Value {
        self.control(reqwest::Method::GET, "/counters", None).await
    }

    pub async fn token_requests(&self) -> u64 {
        self.counters().await["token_requests"]
            .as_u64()
            .unwrap_or(0)
    }

    /// Requests the emulator saw for one route key (`METHOD /template`) with one status.
    pub async fn count(&self, key: &str, status: u16) -> u64 {
        self.counters().await["routes"][key]["by_status"][status.to_string()]
            .as_u64()
            .unwrap_or(0)
    }

    pub async fn advance_clock(&self, seconds: u64) {
        self.control(
            reqwest::Method::POST,
            "/clock/advance",
            Some(serde_json::json!({ "seconds": seconds })),
        )
        .await;
    }

    /// A To Do list of the seeded user, created through Graph.
    pub async fn new_todo_list(&self, client: &GraphClient, name: &str) -> String {
        let resp = self
            .control(
                reqwest::Method::POST,
                &format!("/todo/users/{}/lists", self.user()),
                Some(serde_json::json!({ "displayName": name })),
            )
            .await;
        let _ = client;
        resp["id"].as_str().expect("list id").to_owned()
    }

    /// A plan owned by the seeded group.
    pub async fn new_plan(&self) -> String {
        let resp = self
            .control(
                reqwest::Method::POST,
                "/planner/plans",
                Some(serde_json::json!({ "title": "Plan" })),
            )
            .await;
        resp["id"].as_str().expect("plan id").to_owned()
    }

    /// `count` To Do tasks `t0`, `t1`, ... (local ids `l0`, ...) created through the client.
    pub async fn new_todo_tasks(
        &self,
        client: &GraphClient,
        list: &str,
        count: usize,
    ) -> Vec<TodoTask> {
        let mut created = Vec::new();
        for i in 0..count {
            let task = client
                .todo()
                .create_task(
                    &self.user(),
                    list,
                    &NewTodoTask::for_local_task(&format!("l{i}"), format!("t{i}")),
                )
                .await
                .expect("a To Do task");
            created.push(task);
        }
        created
    }

    /// A Planner task in `plan`, created through the client.
    pub async fn new_planner_task(
        &self,
        client: &GraphClient,
        plan: &str,
        title: &str,
    ) -> PlannerTask {
        client
            .planner()
            .create_task(&NewPlannerTask::new(plan, title))
            .await
            .expect("a Planner task")
    }
}
