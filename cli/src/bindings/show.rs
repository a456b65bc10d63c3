//! `tasksync bindings list` and `tasksync bindings show ID`.

use std::io::Write;
use std::process::ExitCode;

use tasksync::ops::bindings::view::{BindingView, list, show};

use super::connect::Connected;
use crate::error::CliError;
use crate::output::{rows_or_table, table};
use crate::when::timestamp;

fn or_dash(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(timestamp).unwrap_or_else(|| "-".to_owned())
}

fn container(b: &BindingView) -> String {
    if b.user_id.is_empty() {
        format!("{} {}", b.remote, b.remote_container_id)
    } else {
        format!(
            "{} {} (user {})",
            b.remote, b.remote_container_id, b.user_id
        )
    }
}

/// `tasksync bindings list`.
pub async fn run_list(json: bool) -> Result<ExitCode, CliError> {
    let connected = Connected::from_env().await?;
    let all = list(&connected.sync).await?;
    rows_or_table(
        &mut std::io::stdout().lock(),
        json,
        || serde_json::to_string_pretty(&all),
        || {
            if all.is_empty() {
                return "No bindings.\n".to_owned();
            }
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|b| {
                    vec![
                        b.id.clone(),
                        b.local_list_id.clone(),
                        container(b),
                        b.direction.to_owned(),
                        b.conflict_policy.to_owned(),
                        b.first_sync.to_owned(),
                        if b.paused_at.is_some() {
                            "paused"
                        } else {
                            "active"
                        }
                        .to_owned(),
                    ]
                })
                .collect();
            table(
                &[
                    "ID",
                    "LOCAL LIST",
                    "REMOTE",
                    "DIRECTION",
                    "CONFLICT",
                    "FIRST SYNC",
                    "STATE",
                ],
                &rows,
            )
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `tasksync bindings show ID`.
pub async fn run_show(binding_id: &str, json: bool) -> Result<ExitCode, CliError> {
    let connected = Connected::from_env().await?;
    let detail = show(&connected.sync, binding_id).await?;
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&detail)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let b = &detail.binding;
    let items = if detail.items.is_empty() {
        "none".to_owned()
    } else {
        detail
            .items
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let lines = [
        ("id", b.id.clone()),
        ("local list", b.local_list_id.clone()),
        ("remote", container(b)),
        ("direction", b.direction.to_owned()),
        ("conflict policy", b.conflict_policy.to_owned()),
        ("import completed", b.import_completed.to_string()),
        ("time zone", b.time_zone.clone()),
        ("first sync", b.first_sync.to_owned()),
        ("first sync completed", or_dash(b.first_sync_completed_at)),
        ("paused since", or_dash(b.paused_at)),
        ("hint while paused", or_dash(b.hint_while_paused_at)),
        ("breaker open until", or_dash(b.breaker_open_until)),
        ("sync-table items", items),
    ];
    for (name, value) in lines {
        writeln!(out, "{:<22}{value}", format!("{name}:"))?;
    }
    Ok(ExitCode::SUCCESS)
}
