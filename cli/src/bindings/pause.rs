//! `tasksync bindings pause ID` and `tasksync bindings resume ID`.

use std::io::Write;
use std::process::ExitCode;

use chrono::Utc;
use tasksync::ops::bindings::pause::{pause, resume};

use super::add::{report_json, report_text};
use super::connect::Connected;
use super::progress::Progress;
use crate::error::CliError;
use crate::when::timestamp;

/// `tasksync bindings pause ID`.
pub async fn run_pause(binding_id: &str) -> Result<ExitCode, CliError> {
    let connected = Connected::from_env().await?;
    let before = pause(&connected.sync, binding_id, Utc::now()).await?;
    let text = match before.paused_at {
        Some(at) => format!(
            "Binding {binding_id} is paused already (since {}).\n",
            timestamp(at)
        ),
        None => format!(
            "Paused binding {binding_id}: its hints are acknowledged without syncing and its sweeps are skipped; the subscription is kept. `tasksync bindings resume {binding_id}` catches up.\n"
        ),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// `tasksync bindings resume ID`.
pub async fn run_resume(binding_id: &str, json: bool) -> Result<ExitCode, CliError> {
    let connected = Connected::from_env().await?;
    let progress = Progress::new(json);
    let resumed = resume(&connected.engine(), binding_id, progress.options(false)).await;
    progress.finish();
    let resumed = resumed?;
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report_json(binding_id, &resumed.report))?
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let was = match (
        resumed.before.paused_at,
        resumed.before.hint_while_paused_at,
    ) {
        (None, _) => "was not paused".to_owned(),
        (Some(at), None) => format!("paused since {}, no hint arrived meanwhile", timestamp(at)),
        (Some(at), Some(last)) => format!(
            "paused since {}, hints arrived meanwhile (last {})",
            timestamp(at),
            timestamp(last)
        ),
    };
    writeln!(
        out,
        "Resumed binding {binding_id} ({was}). Catch-up resync: {}",
        report_text(&resumed.report)
    )?;
    Ok(ExitCode::SUCCESS)
}
