//! `tasksync local` as a user runs it: a separate process on free ports, driven from this one
//! with the AWS SDK (the task store, as an agent writes it), the emulator's Graph API and its
//! control API (a person in To Do and Planner), then stopped with SIGINT.

// A test: a failed step must fail it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

/// Starting may build the moto venv once (pip), hence the long first wait.
const START_DEADLINE: Duration = Duration::from_secs(240);
const CHANGE_DEADLINE: Duration = Duration::from_secs(40);
const POLL: Duration = Duration::from_millis(100);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What `tasksync local` printed on standard output before it said it is running.
struct Started {
    env: HashMap<String, String>,
    notes: Vec<String>,
}

impl Started {
    fn var(&self, name: &str) -> &str {
        self.env
            .get(name)
            .unwrap_or_else(|| panic!("{name} not printed: {:?}", self.env))
    }

    /// The id at the end of the note that starts with `prefix`.
    fn note(&self, prefix: &str) -> &str {
        let note = self
            .notes
            .iter()
            .find(|n| n.starts_with(prefix))
            .unwrap_or_else(|| panic!("no note {prefix:?} in {:?}", self.notes));
        note.rsplit(' ').next().unwrap()
    }
}

/// `export NAME='value'` (the values printed here need no unescaping beyond the quotes).
fn parse_export(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("export ")?;
    let (name, value) = rest.split_once('=')?;
    let value = value.strip_prefix('\'')?.strip_suffix('\'')?;
    Some((name.to_owned(), value.replace(r"'\''", "'")))
}

async fn read_until_ready(stdout: ChildStdout) -> Started {
    let mut lines = BufReader::new(stdout).lines();
    let mut started = Started {
        env: HashMap::new(),
        notes: Vec::new(),
    };
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line == tasksync_cli::local_run::system_run::READY_LINE {
                return true;
            }
            if let Some((name, value)) = parse_export(&line) {
                started.env.insert(name, value);
            } else if let Some(note) = line.strip_prefix("# ") {
                started.notes.push(note.to_owned());
            } else {
                panic!("standard output has a line a shell cannot eval: {line:?}");
            }
        }
        false
    };
    let ready = tokio::time::timeout(START_DEADLINE, read)
        .await
        .expect("tasksync local said it is running in time");
    assert!(ready, "tasksync local exited before it was running");
    started
}

/// Polls `check` until it gives a value, failing after `CHANGE_DEADLINE`.
async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + CHANGE_DEADLINE;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "{what} did not happen in time");
        tokio::time::sleep(POLL).await;
    }
}

/// Processes whose parent is `pid` (Linux `/proc`).
fn children_of(pid: u32) -> Vec<u32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`; comm may hold spaces, so split after the last ')'.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let ppid = after.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(pid) {
            children.push(child);
        }
    }
    children
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn dynamodb(started: &Started) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(started.var("AWS_REGION").to_owned()))
        .endpoint_url(started.var("AWS_ENDPOINT_URL"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            started.var("AWS_ACCESS_KEY_ID"),
            started.var("AWS_SECRET_ACCESS_KEY"),
            None,
            None,
            "printed",
        )))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// The emulator's Graph API with a client-credentials token, as any Graph client reaches it.
struct Graph {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Graph {
    async fn connect(started: &Started) -> Self {
        let http = reqwest::Client::new();
        let token: Value = http
            .post(started.var("GRAPH_TOKEN_URL"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", started.var("GRAPH_CLIENT_ID")),
                ("client_secret", started.var("GRAPH_CLIENT_SECRET")),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Self {
            http,
            base: started.var("GRAPH_BASE_URL").to_owned(),
            token: token["access_token"].as_str().unwrap().to_owned(),
        }
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

async fn control(started: &Started, method: reqwest::Method, path: &str, body: Value) -> Value {
    let url = format!("{}/_emulator{path}", started.var("GRAPH_EMULATOR_URL"));
    let response = reqwest::Client::new()
        .request(method, url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

async fn task_title(
    db: &aws_sdk_dynamodb::Client,
    table: &str,
    list: &str,
    id: &str,
) -> Option<String> {
    let item = db
        .get_item()
        .table_name(table)
        .key("list_id", s(list))
        .key("id", s(id))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item?;
    item.get("title")?.as_s().ok().cloned()
}

fn spawn_local(ports: [u16; 3]) -> Child {
    let [port, moto_port, graph_port] = ports.map(|p| p.to_string());
    Command::new(env!("CARGO_BIN_EXE_tasksync"))
        .args(["local", "--port", &port, "--moto-port", &moto_port])
        .args(["--graph-port", &graph_port, "--tick", "1s"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_system_syncs_an_agents_task_store_with_to_do_and_planner_and_stops_on_sigint() {
    let mut child = spawn_local([free_port(), free_port(), free_port()]);
    let pid = child.id().unwrap();
    let started = read_until_ready(child.stdout.take().unwrap()).await;
    let tasks_table = started.var("TASKS_TABLE").to_owned();
    let db = dynamodb(&started);
    let user = graph_emulator::EmulatorConfig::default().user_id;
    let todo_list = started.note("example binding: team").to_owned();
    let plan = started.note("example binding: ops").to_owned();
    let moto_pid: u32 = started
        .notes
        .iter()
        .find_map(|n| n.strip_prefix("moto: pid "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|p| p.parse().ok())
        .expect("moto's pid printed");

    // An agent writes a task item per the contract.
    db.put_item()
        .table_name(&tasks_table)
        .item("list_id", s("team"))
        .item("id", s("agent-1"))
        .item("title", s("Order the spare parts"))
        .item("status", s("not_started"))
        .item("version", AttributeValue::N("1".into()))
        .item("updated_at", s(&chrono::Utc::now().to_rfc3339()))
        .item("origin", s("app:test-agent"))
        .send()
        .await
        .unwrap();

    // It appears in the "Team tasks" To Do list, read through Graph.
    let graph = Graph::connect(&started).await;
    let lists = graph.get(&format!("/users/{user}/todo/lists")).await;
    let listed = lists["value"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|l| l["id"] == todo_list.as_str() && l["displayName"] == "Team tasks"),
        "{lists}"
    );
    let tasks_path = format!("/users/{user}/todo/lists/{todo_list}/tasks");
    let remote_id = wait_for("the agent's task in To Do", || async {
        let tasks = graph.get(&tasks_path).await;
        tasks["value"].as_array()?.iter().find_map(|t| {
            (t["title"] == "Order the spare parts").then(|| t["id"].as_str().unwrap().to_owned())
        })
    })
    .await;

    // A person renames it in To Do; the task store gets the change.
    control(
        &started,
        reqwest::Method::PATCH,
        &format!("/todo/lists/{todo_list}/tasks/{remote_id}"),
        json!({"title": "Order the spare parts today"}),
    )
    .await;
    wait_for("the person's rename in the task store", || async {
        (task_title(&db, &tasks_table, "team", "agent-1")
            .await
            .as_deref()
            == Some("Order the spare parts today"))
        .then_some(())
    })
    .await;

    // A person adds a task to the Planner plan; a scheduler tick brings it into list `ops`.
    control(
        &started,
        reqwest::Method::POST,
        &format!("/planner/plans/{plan}/tasks"),
        json!([{"title": "Service the pumps"}]),
    )
    .await;
    wait_for("the person's Planner task in list ops", || async {
        let page = db
            .query()
            .table_name(&tasks_table)
            .key_condition_expression("list_id = :l")
            .expression_attribute_values(":l", s("ops"))
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        page.items()
            .iter()
            .any(|i| {
                i.get("title")
                    .and_then(|t| t.as_s().ok())
                    .map(String::as_str)
                    == Some("Service the pumps")
            })
            .then_some(())
    })
    .await;

    // SIGINT stops it and everything it started.
    let children = children_of(pid);
    assert!(
        children.contains(&moto_pid),
        "moto is tasksync's child: {children:?}"
    );
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = tokio::time::timeout(CHANGE_DEADLINE, child.wait())
        .await
        .expect("tasksync local stopped on SIGINT")
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(!alive(moto_pid), "moto (pid {moto_pid}) is still running");
    for child in children {
        assert!(!alive(child), "child process {child} is still running");
    }
}
