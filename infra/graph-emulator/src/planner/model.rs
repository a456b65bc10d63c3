//! Planner's data and its rules (docs/graph-behaviour.md §2): what a write may change, the open
//! types and their `@odata.type` requirement, the 403 limits, the counters a task derives from its
//! details, and the JSON Graph shows. Handlers in `planner.rs` only translate HTTP to these calls.
//!
//! Writes validate on a copy and commit only when every rule passed, so a rejected PATCH never
//! leaves a half-applied change behind. This module holds what every resource shares (ids, errors,
//! who writes, preconditions, the state itself); each resource's rules live in its own submodule.

mod buckets;
mod details;
mod fields;
mod open_type;
mod plans;
mod task_fields;
mod tasks;

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rand::Rng;
use serde_json::{Value, json};

use super::etag::{EtagKind, IfMatch, compare};
use super::order_hint::OrderHintError;
use crate::config::EmulatorConfig;
use crate::errors::graph_error;

pub use buckets::Bucket;
pub use details::Details;
pub use plans::Plan;
pub use tasks::{Task, TaskPage};

/// Planner ids are 28 characters, case-sensitive (§2.1).
pub const ID_LEN: usize = 28;
const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub fn new_id() -> String {
    let mut rng = rand::rng();
    (0..ID_LEN)
        .map(|_| {
            let i = rng.random_range(0..ID_ALPHABET.len());
            char::from(ID_ALPHABET.get(i).copied().unwrap_or(b'A'))
        })
        .collect()
}

pub fn is_valid_id(id: &str) -> bool {
    id.len() == ID_LEN && id.bytes().all(|b| ID_ALPHABET.contains(&b))
}

/// Why a Planner request failed, split by what the client should do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlannerError {
    /// Fix the request.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// A documented 403 limit (§2.8); `code` is the error code clients branch on.
    #[error("{message}")]
    Limit { code: &'static str, message: String },
    /// Re-read and retry (§2.6).
    #[error("The If-Match header does not match the current version of the item.")]
    PreconditionFailed,
    #[error("The If-Match header must be specified for this kind of request.")]
    MissingIfMatch,
    /// An ETag of another kind of resource (e.g. the task's sent to its details, §2.4).
    #[error("The If-Match header contains an invalid value.")]
    InvalidIfMatch,
}

impl From<OrderHintError> for PlannerError {
    fn from(e: OrderHintError) -> Self {
        PlannerError::BadRequest(e.to_string())
    }
}

impl IntoResponse for PlannerError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        match self {
            PlannerError::BadRequest(_)
            | PlannerError::MissingIfMatch
            | PlannerError::InvalidIfMatch => {
                graph_error(StatusCode::BAD_REQUEST, "invalidRequest", &message)
            }
            PlannerError::NotFound(_) => {
                graph_error(StatusCode::NOT_FOUND, "itemNotFound", &message)
            }
            PlannerError::Limit { code, .. } => graph_error(StatusCode::FORBIDDEN, code, &message),
            PlannerError::PreconditionFailed => graph_error(
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
                &message,
            ),
        }
    }
}

fn bad(message: impl Into<String>) -> PlannerError {
    PlannerError::BadRequest(message.into())
}

fn not_found(what: &str, id: &str) -> PlannerError {
    PlannerError::NotFound(format!("The {what} '{id}' was not found."))
}

/// A documented 403 limit: `code` names it, `message` says which maximum was reached.
fn limit(code: &'static str, message: String) -> PlannerError {
    PlannerError::Limit { code, message }
}

/// The application a person's writes come through (the Planner app). A stand-in id: what
/// matters is that it is not the client id of the app calling Graph.
pub const PLANNER_APP_ID: &str = "00000000-0000-0000-0000-00000000a11e";

/// Who is writing: the app through Graph, or a person in the Planner app (control API).
#[derive(Debug, Clone)]
pub struct Actor {
    identity: Value,
}

impl Actor {
    pub fn app(config: &EmulatorConfig) -> Self {
        Actor {
            identity: json!({"user": null, "application": {"id": config.client_id, "displayName": null}}),
        }
    }

    /// A delegated write names the user and the app they used (here: the Planner app).
    pub fn person(config: &EmulatorConfig) -> Self {
        Actor {
            identity: json!({
                "user": {"id": config.user_id, "displayName": null},
                "application": {"id": PLANNER_APP_ID, "displayName": null},
            }),
        }
    }
}

/// Everything a write needs besides the data itself.
pub struct WriteContext<'a> {
    pub config: &'a EmulatorConfig,
    pub now: DateTime<Utc>,
    pub actor: Actor,
}

/// Graph's DateTimeOffset text: UTC, `Z`, fractional seconds only when there are any (7 digits,
/// as Graph shows them).
pub fn graph_time(t: &DateTime<Utc>) -> String {
    let nanos = t.timestamp_subsec_nanos();
    if nanos == 0 {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        format!("{}.{:07}Z", t.format("%Y-%m-%dT%H:%M:%S"), nanos / 100)
    }
}

#[derive(Default)]
pub struct PlannerState {
    plans: HashMap<String, Plan>,
    buckets: HashMap<String, Bucket>,
    tasks: HashMap<String, Task>,
    /// One version counter for all Planner resources (see `etag.rs`).
    last_version: u64,
    last_seq: u64,
}

fn check_precondition(
    if_match: Option<&str>,
    kind: EtagKind,
    version: u64,
) -> Result<(), PlannerError> {
    let Some(given) = if_match else {
        return Ok(());
    };
    match compare(given, kind, version) {
        IfMatch::Current => Ok(()),
        IfMatch::Stale => Err(PlannerError::PreconditionFailed),
        IfMatch::Invalid => Err(PlannerError::InvalidIfMatch),
    }
}

/// Whether a write must carry `If-Match` (Graph) or not (a person in the app).
#[derive(Debug, Clone, Copy)]
pub enum Precondition<'a> {
    IfMatch(Option<&'a str>),
    None,
}

impl<'a> Precondition<'a> {
    fn given(self) -> Result<Option<&'a str>, PlannerError> {
        match self {
            Precondition::IfMatch(None) => Err(PlannerError::MissingIfMatch),
            Precondition::IfMatch(Some(v)) => Ok(Some(v)),
            Precondition::None => Ok(None),
        }
    }

    /// The resource a write targets, once the precondition holds for its `kind` of ETag. The
    /// order of the answers is Graph's: a missing If-Match first, then a missing resource, then a
    /// stale or foreign ETag.
    fn check<'s, T>(
        self,
        find: impl FnOnce() -> Result<&'s T, PlannerError>,
        kind: EtagKind,
        version: impl FnOnce(&T) -> u64,
    ) -> Result<&'s T, PlannerError> {
        let given = self.given()?;
        let current = find()?;
        check_precondition(given, kind, version(current))?;
        Ok(current)
    }
}

impl PlannerState {
    fn next_version(&mut self) -> u64 {
        self.last_version += 1;
        self.last_version
    }

    fn next_seq(&mut self) -> u64 {
        self.last_seq += 1;
        self.last_seq
    }
    pub fn plan(&self, id: &str) -> Result<&Plan, PlannerError> {
        self.plans.get(id).ok_or_else(|| not_found("plan", id))
    }

    pub fn bucket(&self, id: &str) -> Result<&Bucket, PlannerError> {
        self.buckets.get(id).ok_or_else(|| not_found("bucket", id))
    }

    pub fn task(&self, id: &str) -> Result<&Task, PlannerError> {
        self.tasks.get(id).ok_or_else(|| not_found("task", id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_28_chars() {
        let id = new_id();
        assert_eq!(id.len(), 28);
        assert!(is_valid_id(&id));
        assert!(!is_valid_id("short"));
    }

    #[test]
    fn graph_time_shows_seven_fraction_digits_only_when_needed() {
        let t = DateTime::parse_from_rfc3339("2014-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(graph_time(&t), "2014-01-01T00:00:00Z");
        let t = DateTime::parse_from_rfc3339("2015-03-30T18:36:49.2407981Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(graph_time(&t), "2015-03-30T18:36:49.2407981Z");
    }
}
