//! A rough requests-per-second figure for the emulator (not a test): starts one in-process,
//! seeds a plan with tasks, then has `CONCURRENCY` clients issue authenticated Graph reads and
//! writes for a few seconds over loopback HTTP.
//!
//! `cargo run --release -p graph-emulator --example throughput`

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CONCURRENCY: usize = 32;
const RUN_FOR: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let emu =
        graph_emulator::start(graph_emulator::EmulatorConfig::default(), "127.0.0.1:0").await?;
    let http = reqwest::Client::builder().no_proxy().build()?;
    let c = &emu.state.config;
    let form = [
        ("client_id", c.client_id.as_str()),
        ("client_secret", c.client_secret.as_str()),
        ("scope", "https://graph.microsoft.com/.default"),
        ("grant_type", "client_credentials"),
    ];
    let token: Value = http
        .post(&emu.token_url)
        .form(&form)
        .send()
        .await?
        .json()
        .await?;
    let token = token["access_token"].as_str().ok_or("no token")?.to_owned();

    let plan: Value = http
        .post(format!(
            "{}/_emulator/planner/plans",
            root(&emu.graph_base_url)
        ))
        .json(&json!({"title": "bench"}))
        .send()
        .await?
        .json()
        .await?;
    let plan_id = plan["id"].as_str().ok_or("no plan id")?.to_owned();
    let tasks: Vec<Value> = (0..1000)
        .map(|i| json!({"title": format!("t{i}")}))
        .collect();
    let seeded: Value = http
        .post(format!(
            "{}/_emulator/planner/plans/{plan_id}/tasks",
            root(&emu.graph_base_url)
        ))
        .json(&tasks)
        .send()
        .await?
        .json()
        .await?;
    let ids: Vec<String> = seeded["value"]
        .as_array()
        .ok_or("no tasks")?
        .iter()
        .filter_map(|t| t["id"].as_str().map(str::to_owned))
        .collect();
    let ids = Arc::new(ids);

    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..CONCURRENCY {
        let (http, token, base, ids) = (
            http.clone(),
            token.clone(),
            emu.graph_base_url.clone(),
            ids.clone(),
        );
        let (done, failed) = (done.clone(), failed.clone());
        workers.push(tokio::spawn(async move {
            let mut i = w;
            while started.elapsed() < RUN_FOR {
                let Some(id) = ids.get(i % ids.len().max(1)) else {
                    break;
                };
                i += CONCURRENCY;
                let ok = if i % 10 == 0 {
                    // One write in ten: read the ETag, then PATCH with it.
                    patch_title(&http, &base, &token, id).await
                } else {
                    http.get(format!("{base}/planner/tasks/{id}"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success())
                };
                if ok { &done } else { &failed }.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for w in workers {
        w.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "{n} successful calls ({} failed) in {secs:.1} s with {CONCURRENCY} concurrent clients: {:.0} calls/s",
        failed.load(Ordering::Relaxed),
        n as f64 / secs
    );
    emu.stop().await;
    Ok(())
}

fn root(graph_base_url: &str) -> &str {
    graph_base_url.trim_end_matches("/v1.0")
}

async fn patch_title(http: &reqwest::Client, base: &str, token: &str, id: &str) -> bool {
    let Ok(r) = http
        .get(format!("{base}/planner/tasks/{id}"))
        .bearer_auth(token)
        .send()
        .await
    else {
        return false;
    };
    let Ok(task) = r.json::<Value>().await else {
        return false;
    };
    let Some(etag) = task["@odata.etag"].as_str() else {
        return false;
    };
    http.patch(format!("{base}/planner/tasks/{id}"))
        .bearer_auth(token)
        .header("If-Match", etag)
        .json(&json!({"title": "renamed"}))
        .send()
        .await
        .is_ok_and(|r| r.status().as_u16() == 204)
}
