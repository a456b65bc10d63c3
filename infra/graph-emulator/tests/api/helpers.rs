//! What the tests share: an emulator on a free loopback port behind one of two harnesses, and a
//! notification receiver.
//!
//! - `Emu` gets one token through the real token endpoint and keeps it (the core, auth, Planner
//!   and batch tests).
//! - `Env` fetches a fresh token per call, so tests that advance the emulator clock never trip
//!   over expiry (the To Do, subscription and delivery tests).
//! - `Receiver` is a webhook endpoint that answers the handshake and records what it gets.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use graph_emulator::{EmulatorConfig, RunningEmulator};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Notify;

pub struct Emu {
    pub running: RunningEmulator,
    pub http: reqwest::Client,
    pub token: String,
}

/// What a call returned, with the body parsed as JSON when there is one (else `Null`).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
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

    /// The `$batch` response item with this id (docs/graph-behaviour.md §4: correlate by id, not
    /// order).
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
        let http = http_client();
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

    /// The standard client-credentials form (docs/graph-behaviour.md §6.1) with the accepted
    /// credentials.
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
        graph_url(&self.running, path)
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
        control(&self.http, &self.running, method, path, body).await
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
        advance_clock(&self.http, &self.running, seconds).await;
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

/// The client every harness talks through: no proxy, and a bound on every call so a hung
/// request fails its test instead of stalling the run.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A Graph URL: paths are relative to the version root, nextLinks are used as given.
fn graph_url(emu: &RunningEmulator, path: &str) -> String {
    if path.starts_with("http") {
        path.to_owned()
    } else {
        format!("{}{path}", emu.graph_base_url)
    }
}

/// A control API call (no token: `/_emulator` is the emulator's own surface).
async fn control(
    http: &reqwest::Client,
    emu: &RunningEmulator,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let mut request = http.request(method, format!("{}{path}", emu.control_url));
    if let Some(b) = body {
        request = request.json(&b);
    }
    reply(request.send().await.unwrap()).await
}

async fn advance_clock(http: &reqwest::Client, emu: &RunningEmulator, seconds: u64) {
    let r = control(
        http,
        emu,
        Method::POST,
        "/clock/advance",
        Some(json!({ "seconds": seconds })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
}

pub struct Env {
    pub emu: RunningEmulator,
    pub http: reqwest::Client,
    pub user: String,
}

impl Env {
    pub async fn start(config: EmulatorConfig) -> Env {
        let user = config.user_id.clone();
        let emu = graph_emulator::start(config, "127.0.0.1:0").await.unwrap();
        let http = http_client();
        Env { emu, http, user }
    }

    pub async fn default() -> Env {
        Env::start(EmulatorConfig::default()).await
    }

    /// A fresh token per call, so tests that advance the emulator clock never trip over expiry.
    pub async fn token(&self) -> String {
        let c = &self.emu.state.config;
        let response = self
            .http
            .post(&self.emu.token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", c.client_id.as_str()),
                ("client_secret", c.client_secret.as_str()),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        body["access_token"].as_str().unwrap_or_default().to_owned()
    }

    pub fn graph_url(&self, path: &str) -> String {
        graph_url(&self.emu, path)
    }

    pub fn todo_url(&self, rest: &str) -> String {
        self.graph_url(&format!("/users/{}/todo{rest}", self.user))
    }

    pub async fn graph(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let token = self.token().await;
        let mut request = self
            .http
            .request(method, self.graph_url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.graph(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.graph(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.graph(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.graph(Method::DELETE, path, None).await
    }

    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        control(&self.http, &self.emu, method, path, body).await
    }

    pub async fn advance_clock(&self, seconds: u64) {
        advance_clock(&self.http, &self.emu, seconds).await;
    }

    /// A new To Do list through Graph; returns its id.
    pub async fn new_list(&self, name: &str) -> String {
        let r = self
            .post(
                &format!("/users/{}/todo/lists", self.user),
                json!({"displayName": name}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
        r.json["id"].as_str().unwrap().to_owned()
    }

    pub async fn new_task(&self, list: &str, body: Value) -> Value {
        let r = self
            .post(
                &format!("/users/{}/todo/lists/{list}/tasks", self.user),
                body,
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
        r.json
    }

    pub fn tasks_path(&self, list: &str) -> String {
        format!("/users/{}/todo/lists/{list}/tasks", self.user)
    }

    /// Creates a subscription on a list's tasks (handshake included) and returns its JSON.
    pub async fn subscribe(
        &self,
        list: &str,
        receiver: &Receiver,
        change_type: &str,
        client_state: &str,
    ) -> Value {
        let expiry = chrono::Utc::now() + chrono::Duration::hours(24);
        let r = self
            .post(
                "/subscriptions",
                json!({
                    "changeType": change_type,
                    "notificationUrl": receiver.url("/notify"),
                    "lifecycleNotificationUrl": receiver.url("/lifecycle"),
                    "resource": format!("users/{}/todo/lists/{list}/tasks", self.user),
                    "expirationDateTime": expiry.to_rfc3339(),
                    "clientState": client_state,
                }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
        r.json
    }

    pub async fn wait_delivery_idle(&self) {
        assert!(
            self.emu
                .state
                .delivery
                .wait_idle(Duration::from_secs(10))
                .await,
            "delivery did not go idle: {:?}",
            self.emu.state.delivery.stats()
        );
    }
}

/// How the receiver answers validation requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handshake {
    /// 200, text/plain, the decoded token.
    Correct,
    /// 200, text/plain, the token still URL-encoded.
    EchoEncoded,
    /// 200 but application/json.
    WrongContentType,
    /// Never answers.
    Hang,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// The decoded validation token, for validation requests.
    pub validation_token: Option<String>,
    pub content_type: String,
    pub body: Value,
}

struct ReceiverState {
    records: Mutex<Vec<Received>>,
    handshake: Mutex<Handshake>,
    /// Notifications answered 503 before the receiver starts accepting.
    fail_next: Mutex<usize>,
    changed: Notify,
}

/// A webhook endpoint on 127.0.0.1 that answers the handshake and records every POST.
#[derive(Clone)]
pub struct Receiver {
    base: String,
    state: Arc<ReceiverState>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state = Arc::new(ReceiverState {
            records: Mutex::new(Vec::new()),
            handshake: Mutex::new(Handshake::Correct),
            fail_next: Mutex::new(0),
            changed: Notify::new(),
        });
        let app = Router::new()
            .route("/{*path}", axum::routing::post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            base: format!("http://{addr}"),
            state,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn set_handshake(&self, mode: Handshake) {
        *self.state.handshake.lock().unwrap() = mode;
    }

    pub fn fail_next(&self, n: usize) {
        *self.state.fail_next.lock().unwrap() = n;
    }

    pub fn records(&self) -> Vec<Received> {
        self.state.records.lock().unwrap().clone()
    }

    /// Notification items (the `value` entries) received on `path`, in arrival order.
    pub fn items(&self, path: &str) -> Vec<Value> {
        self.records()
            .into_iter()
            .filter(|r| r.path == path && r.validation_token.is_none())
            .flat_map(|r| r.body["value"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// Waits (bounded) until `path` has received at least `n` notification items.
    pub async fn wait_items(&self, path: &str, n: usize) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self.state.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let items = self.items(path);
            if items.len() >= n {
                return items;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("{path} got {} items, wanted {n}: {items:#?}", items.len());
            }
        }
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    axum::extract::Path(path): axum::extract::Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let raw_token = query.as_deref().and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("validationToken="))
            .map(str::to_owned)
    });
    let validation_token = query.as_deref().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "validationToken")
            .map(|(_, v)| v.into_owned())
    });
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let record = Received {
        path: format!("/{path}"),
        validation_token: validation_token.clone(),
        content_type,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    state.records.lock().unwrap().push(record);
    state.changed.notify_waiters();
    if let Some(token) = validation_token {
        let mode = *state.handshake.lock().unwrap();
        return match mode {
            Handshake::Correct => ([(header::CONTENT_TYPE, "text/plain")], token).into_response(),
            Handshake::EchoEncoded => (
                [(header::CONTENT_TYPE, "text/plain")],
                raw_token.unwrap_or_default(),
            )
                .into_response(),
            Handshake::WrongContentType => {
                ([(header::CONTENT_TYPE, "application/json")], token).into_response()
            }
            Handshake::Hang => std::future::pending::<Response>().await,
        };
    }
    let fail = {
        let mut left = state.fail_next.lock().unwrap();
        let fail = *left > 0;
        *left = left.saturating_sub(1);
        fail
    };
    if fail {
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    } else {
        StatusCode::ACCEPTED.into_response()
    }
}
