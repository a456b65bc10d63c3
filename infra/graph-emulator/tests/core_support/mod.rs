//! Shared helpers for the core, auth, planner and batch tests: start an emulator on a free
//! loopback port, get a token through the real token endpoint, and talk to Graph and the control
//! API over real HTTP.
//!
//! This is test code outside `#[test]` functions, where a failed step must fail the test: the
//! workspace's no-panic lints (meant for input paths of the product) are lifted here.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use graph_emulator::{EmulatorConfig, RunningEmulator};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub struct Emu {
    pub running: RunningEmulator,
    pub http: reqwest::Client,
    pub token: String,
}

/// What a call returned, with the body parsed as JSON when there is one (else `Null`).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn etag(&self) -> String {
        self.json["@odata.etag"]
            .as_str()
            .unwrap_or_else(|| panic!("no @odata.etag in {}", self.json))
            .to_owned()
    }

    /// The `$batch` response item with this id (graph-facts §4: correlate by id, not order).
    pub fn batch_item(&self, id: &str) -> &Value {
        self.json["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("no response {id} in {}", self.json))
    }

    pub fn id(&self) -> String {
        self.json["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.json))
            .to_owned()
    }
}

pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Reply {
        status,
        headers,
        json,
    }
}

impl Emu {
    pub async fn start(config: EmulatorConfig) -> Emu {
        let running = graph_emulator::start(config, "127.0.0.1:0").await.unwrap();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut emu = Emu {
            running,
            http,
            token: String::new(),
        };
        emu.token = emu.fresh_token().await;
        emu
    }

    pub async fn default() -> Emu {
        Emu::start(EmulatorConfig::default()).await
    }

    pub fn config(&self) -> &EmulatorConfig {
        &self.running.state.config
    }

    /// The standard client-credentials form (graph-facts §6.1) with the accepted credentials.
    pub fn token_form(&self) -> Vec<(&'static str, String)> {
        let c = self.config();
        vec![
            ("client_id", c.client_id.clone()),
            ("client_secret", c.client_secret.clone()),
            ("scope", "https://graph.microsoft.com/.default".to_owned()),
            ("grant_type", "client_credentials".to_owned()),
        ]
    }

    pub async fn token_request(&self, url: &str, form: &[(&str, String)]) -> Reply {
        reply(self.http.post(url).form(form).send().await.unwrap()).await
    }

    pub async fn fresh_token(&self) -> String {
        let r = self
            .token_request(&self.running.token_url, &self.token_form())
            .await;
        assert_eq!(r.status, 200, "{}", r.json);
        r.json["access_token"].as_str().unwrap().to_owned()
    }

    pub fn graph_url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{}", self.running.graph_base_url, path)
        }
    }

    /// A Graph call with the bearer token and optional extra headers.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .http
            .request(method, self.graph_url(path))
            .bearer_auth(&self.token);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, &[], None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, &[], Some(body)).await
    }

    pub async fn patch(&self, path: &str, if_match: Option<&str>, body: Value) -> Reply {
        let headers: Vec<(&str, &str)> = if_match.map(|e| ("If-Match", e)).into_iter().collect();
        self.call(Method::PATCH, path, &headers, Some(body)).await
    }

    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self
            .http
            .request(method, format!("{}{}", self.running.control_url, path));
        if let Some(b) = body {
            request = request.json(&b);
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn add_fault(&self, rule: Value) {
        let r = self.control(Method::POST, "/faults", Some(rule)).await;
        assert_eq!(r.status, 201, "{}", r.json);
    }

    pub async fn counters(&self) -> Value {
        self.control(Method::GET, "/counters", None).await.json
    }

    /// Requests counted for one route key with one status (0 if none).
    pub async fn count(&self, key: &str, status: u16) -> u64 {
        self.counters().await["routes"][key]["by_status"][status.to_string()]
            .as_u64()
            .unwrap_or(0)
    }

    pub async fn advance_clock(&self, seconds: u64) {
        let r = self
            .control(
                Method::POST,
                "/clock/advance",
                Some(json!({ "seconds": seconds })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.json);
    }

    /// A plan in the seeded group, created through Graph.
    pub async fn new_plan(&self) -> String {
        let group = self.config().group_id.clone();
        let r = self
            .post(
                "/planner/plans",
                json!({
                    "title": "Plan",
                    "container": {"url": format!("https://graph.microsoft.com/v1.0/groups/{group}")},
                }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
        r.id()
    }

    /// Follows `@odata.nextLink` unchanged (checking it is absolute); returns every item seen
    /// and the number of pages.
    pub async fn read_all_pages(&self, first: &str) -> (Vec<Value>, usize) {
        let mut url = first.to_owned();
        let mut items = Vec::new();
        let mut pages = 0;
        loop {
            let r = self.get(&url).await;
            assert_eq!(r.status, 200, "{}", r.json);
            pages += 1;
            items.extend(r.json["value"].as_array().unwrap().iter().cloned());
            match r.json["@odata.nextLink"].as_str() {
                Some(next) => {
                    assert!(
                        next.starts_with(&self.running.graph_base_url),
                        "absolute: {next}"
                    );
                    url = next.to_owned();
                }
                None => return (items, pages),
            }
            assert!(pages < 1000, "paging does not end");
        }
    }

    pub async fn new_task(&self, plan: &str, title: &str) -> Reply {
        let r = self
            .post("/planner/tasks", json!({"planId": plan, "title": title}))
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
        r
    }
}
