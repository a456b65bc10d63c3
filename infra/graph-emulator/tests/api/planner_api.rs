//! Planner over HTTP (docs/graph-behaviour.md §2): plans, buckets, tasks, details, ETags, open
//! types, order hints, paging and the 403 limits, plus the control API's "person in the Planner
//! app" edits.
//!
//! Split by what the tests exercise: resources and lists, writes and their rules, limits and the
//! control API.

mod limits_and_control;
mod resources;
mod writes;

use graph_emulator::EmulatorConfig;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{Emu, Reply};

pub(super) fn small_pages(n: usize) -> EmulatorConfig {
    EmulatorConfig {
        planner_page_size: n,
        ..EmulatorConfig::default()
    }
}

pub(super) async fn read_all(emu: &Emu, first: &str) -> (Vec<Value>, usize) {
    emu.read_all_pages(first).await
}

/// PATCH with `Prefer: return=representation`, remembering the new ETag on success.
pub(super) async fn patch_rep(emu: &Emu, path: &str, etag: &mut String, body: Value) -> Reply {
    let headers = [
        ("If-Match", etag.as_str()),
        ("Prefer", "return=representation"),
    ];
    let r = emu.call(Method::PATCH, path, &headers, Some(body)).await;
    if r.status == 200 {
        *etag = r.etag();
    }
    r
}
