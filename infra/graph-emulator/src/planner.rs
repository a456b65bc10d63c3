//! Microsoft Planner v1.0 (docs/graph-behaviour.md §2) over HTTP: plans, buckets, tasks and task
//! details, plus the control API that edits tasks "as a person in the Planner app" (no If-Match,
//! new ETag, and, as in the real service, no change notification: Planner has none, §1.10).
//!
//! The rules live in `planner/model.rs` and its submodules; this module maps requests onto them.

pub mod etag;
pub mod model;
pub mod order_hint;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, patch, post};
use base64::Engine;
use serde_json::{Map, Value, json};

use crate::errors::{header_str, json_object, prefers_representation};
use crate::state::{AppState, lock};
pub use model::PlannerState;
use model::{Actor, PlannerError, Precondition, WriteContext, is_valid_id};

type Reply = Result<Response, Response>;

impl From<PlannerError> for Response {
    fn from(e: PlannerError) -> Self {
        e.into_response()
    }
}

/// Graph routes, relative to the version root.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/planner/plans", post(create_plan))
        .route(
            "/planner/plans/{plan_id}",
            get(get_plan).merge(container_writes(&PLANS)),
        )
        .route("/groups/{group_id}/planner/plans", get(list_group_plans))
        .route("/planner/plans/{plan_id}/buckets", get(list_plan_buckets))
        .route("/planner/plans/{plan_id}/tasks", get(list_plan_tasks))
        .route("/planner/buckets", post(create_bucket))
        .route(
            "/planner/buckets/{bucket_id}",
            get(get_bucket).merge(container_writes(&BUCKETS)),
        )
        .route("/planner/buckets/{bucket_id}/tasks", get(list_bucket_tasks))
        .route("/planner/tasks", post(create_task))
        .route(
            "/planner/tasks/{task_id}",
            get(get_task).merge(graph_patch(TASK)).delete(delete_task),
        )
        .route(
            "/planner/tasks/{task_id}/details",
            get(get_details).merge(graph_patch(DETAILS)),
        )
}

/// Control routes, relative to `/_emulator`.
pub fn control_routes() -> Router<AppState> {
    Router::new()
        .route("/planner/plans", post(control_create_plan))
        .route("/planner/plans/{plan_id}/tasks", post(control_seed_tasks))
        .route(
            "/planner/tasks/{task_id}",
            control_patch(TASK).delete(control_delete_task),
        )
        .route("/planner/tasks/{task_id}/details", control_patch(DETAILS))
}

fn app_ctx(state: &AppState) -> WriteContext<'_> {
    WriteContext {
        config: &state.config,
        now: state.clock.now(),
        actor: Actor::app(&state.config),
    }
}

fn person_ctx(state: &AppState) -> WriteContext<'_> {
    WriteContext {
        config: &state.config,
        now: state.clock.now(),
        actor: Actor::person(&state.config),
    }
}

fn check_id(id: &str, what: &str) -> Result<(), PlannerError> {
    if is_valid_id(id) {
        Ok(())
    } else {
        Err(PlannerError::BadRequest(format!(
            "The {what} id '{id}' is not valid: Planner ids are 28 characters."
        )))
    }
}

fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// `$expand=details` (the only expansion the emulator knows; §2.9 shows it on task lists).
fn expands_details(query: &[(String, String)]) -> bool {
    query.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("$expand")
            && v.split(',')
                .any(|e| e.trim().eq_ignore_ascii_case("details"))
    })
}

fn skiptoken(query: &[(String, String)]) -> Result<u64, PlannerError> {
    let Some((_, token)) = query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("$skiptoken"))
    else {
        return Ok(0);
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("after:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| PlannerError::BadRequest("The $skiptoken is not valid.".into()))
}

fn encode_skiptoken(after: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("after:{after}"))
}

fn created(value: Value) -> Response {
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

fn ok(value: Value) -> Response {
    axum::Json(value).into_response()
}

fn string_field(body: &Map<String, Value>, name: &str) -> Result<Option<String>, PlannerError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(PlannerError::BadRequest(format!(
            "'{name}' must be a string."
        ))),
    }
}

/// The group that owns a new plan: `container` (`url`, or `containerId` + `type`) or the older
/// `owner` (§2.7a).
fn plan_group(body: &Map<String, Value>) -> Result<String, PlannerError> {
    let bad = |m: &str| PlannerError::BadRequest(m.to_owned());
    if let Some(container) = body.get("container") {
        let Value::Object(c) = container else {
            return Err(bad("'container' must be an object."));
        };
        if let Some(t) = string_field(c, "type")?
            && t != "group"
        {
            return Err(bad(
                "Only containers of type 'group' are supported in v1.0.",
            ));
        }
        let from_id = string_field(c, "containerId")?;
        let from_url = string_field(c, "url")?
            .map(|u| {
                u.split("/groups/")
                    .nth(1)
                    .map(|rest| rest.trim_end_matches('/').to_owned())
                    .filter(|g| !g.is_empty() && !g.contains('/'))
                    .ok_or_else(|| {
                        bad("The container 'url' must be a group URL (.../groups/{id}).")
                    })
            })
            .transpose()?;
        return match (from_id, from_url) {
            (Some(a), Some(b)) if a != b => {
                Err(bad("The container's 'containerId' and 'url' disagree."))
            }
            (Some(a), _) | (None, Some(a)) => Ok(a),
            (None, None) => Err(bad(
                "The container needs 'url' or 'containerId' and 'type'.",
            )),
        };
    }
    string_field(body, "owner")?.ok_or_else(|| bad("'container' is required to create a plan."))
}

async fn create_plan(State(state): State<AppState>, body: Bytes) -> Reply {
    let body = json_object(&body)?;
    if let Some(k) = body
        .keys()
        .find(|k| !["@odata.type", "title", "container", "owner"].contains(&k.as_str()))
    {
        return Err(PlannerError::BadRequest(format!(
            "The property '{k}' cannot be written on a new plan."
        ))
        .into());
    }
    let title = string_field(&body, "title")?
        .ok_or_else(|| PlannerError::BadRequest("'title' is required to create a plan.".into()))?;
    let group = plan_group(&body)?;
    let ctx = app_ctx(&state);
    let plan = lock(&state.planner)
        .create_plan(None, title, &group, &ctx)?
        .to_json();
    Ok(created(plan))
}

async fn get_plan(State(state): State<AppState>, Path(plan_id): Path<String>) -> Reply {
    check_id(&plan_id, "plan")?;
    let plan = lock(&state.planner).plan(&plan_id)?.to_json();
    Ok(ok(plan))
}

/// The `If-Match` of a Graph write; its absence is the documented 400 (§2.6).
fn required_if_match(headers: &HeaderMap) -> Result<&str, PlannerError> {
    header_str(headers, "if-match").ok_or(PlannerError::MissingIfMatch)
}

/// A plan or a bucket: the resources whose Graph writes need only their id, `If-Match` (§2.6)
/// and, for an update, a body.
/// How a container's update applies a body and shows the result.
type ContainerUpdate = fn(
    &mut PlannerState,
    &str,
    Precondition<'_>,
    &Map<String, Value>,
) -> Result<Value, PlannerError>;

struct Container {
    /// The resource's name in messages, e.g. "plan".
    what: &'static str,
    update: ContainerUpdate,
    delete: fn(&mut PlannerState, &str, Precondition<'_>) -> Result<(), PlannerError>,
}

const PLANS: Container = Container {
    what: "plan",
    update: |planner, id, precondition, body| {
        Ok(planner.update_plan(id, precondition, body)?.to_json())
    },
    delete: PlannerState::delete_plan,
};

const BUCKETS: Container = Container {
    what: "bucket",
    update: |planner, id, precondition, body| {
        Ok(planner.update_bucket(id, precondition, body)?.to_json())
    },
    delete: PlannerState::delete_bucket,
};

/// `PATCH` and `DELETE` of one plan or bucket.
fn container_writes(c: &'static Container) -> MethodRouter<AppState> {
    patch(
        move |state: State<AppState>, id: Path<String>, headers: HeaderMap, body: Bytes| {
            update_container(c, state, id, headers, body)
        },
    )
    .delete(
        move |state: State<AppState>, id: Path<String>, headers: HeaderMap| {
            delete_container(c, state, id, headers)
        },
    )
}

/// The written resource comes back as `Prefer` asks.
async fn update_container(
    c: &Container,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    check_id(&id, c.what)?;
    let if_match = required_if_match(&headers)?;
    let body = json_object(&body)?;
    let value = (c.update)(
        &mut lock(&state.planner),
        &id,
        Precondition::IfMatch(Some(if_match)),
        &body,
    )?;
    Ok(written(&headers, value))
}

async fn delete_container(
    c: &Container,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    check_id(&id, c.what)?;
    let if_match = required_if_match(&headers)?;
    (c.delete)(
        &mut lock(&state.planner),
        &id,
        Precondition::IfMatch(Some(if_match)),
    )?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_group_plans(State(state): State<AppState>, Path(group_id): Path<String>) -> Reply {
    if group_id != state.config.group_id {
        return Err(
            PlannerError::NotFound(format!("The group '{group_id}' was not found.")).into(),
        );
    }
    let plans = lock(&state.planner).plans_of_group(&group_id);
    Ok(ok(json!({ "value": plans })))
}

async fn list_plan_buckets(State(state): State<AppState>, Path(plan_id): Path<String>) -> Reply {
    check_id(&plan_id, "plan")?;
    let buckets = lock(&state.planner).buckets_of_plan(&plan_id)?;
    Ok(ok(json!({ "value": buckets })))
}

async fn create_bucket(State(state): State<AppState>, body: Bytes) -> Reply {
    let body = json_object(&body)?;
    let ctx = app_ctx(&state);
    let bucket = lock(&state.planner).create_bucket(&body, &ctx)?.to_json();
    Ok(created(bucket))
}

async fn get_bucket(State(state): State<AppState>, Path(bucket_id): Path<String>) -> Reply {
    check_id(&bucket_id, "bucket")?;
    let bucket = lock(&state.planner).bucket(&bucket_id)?.to_json();
    Ok(ok(bucket))
}

/// §2.9: pages of a fixed server size with an absolute `@odata.nextLink`; `$top` is ignored.
fn task_list(
    state: &AppState,
    plan_id: &str,
    bucket_id: Option<&str>,
    uri: &Uri,
) -> Result<Response, PlannerError> {
    let query = query_pairs(uri);
    let with_details = expands_details(&query);
    let after = skiptoken(&query)?;
    let page = {
        let planner = lock(&state.planner);
        planner.task_page(
            plan_id,
            bucket_id,
            after,
            state.config.planner_page_size,
            with_details,
        )?
    };
    let collection = match bucket_id {
        Some(b) => format!("planner/buckets/{b}/tasks"),
        None => format!("planner/plans/{plan_id}/tasks"),
    };
    let mut body = json!({
        "@odata.context": format!("{}/$metadata#{}", state.graph_base_url, collection),
        "value": page.tasks,
    });
    if let (Some(after), Some(obj)) = (page.next_after, body.as_object_mut()) {
        let expand = if with_details { "$expand=details&" } else { "" };
        obj.insert(
            "@odata.nextLink".into(),
            json!(format!(
                "{}/{}?{}$skiptoken={}",
                state.graph_base_url,
                collection,
                expand,
                encode_skiptoken(after)
            )),
        );
    }
    Ok(ok(body))
}

async fn list_plan_tasks(
    State(state): State<AppState>,
    Path(plan_id): Path<String>,
    uri: Uri,
) -> Reply {
    check_id(&plan_id, "plan")?;
    Ok(task_list(&state, &plan_id, None, &uri)?)
}

async fn list_bucket_tasks(
    State(state): State<AppState>,
    Path(bucket_id): Path<String>,
    uri: Uri,
) -> Reply {
    check_id(&bucket_id, "bucket")?;
    let plan_id = lock(&state.planner).bucket(&bucket_id)?.plan_id.clone();
    Ok(task_list(&state, &plan_id, Some(&bucket_id), &uri)?)
}

async fn create_task(State(state): State<AppState>, body: Bytes) -> Reply {
    let body = json_object(&body)?;
    let ctx = app_ctx(&state);
    let task = lock(&state.planner)
        .create_task(&body, &ctx)?
        .to_json(false);
    Ok(created(task))
}

async fn get_task(State(state): State<AppState>, Path(task_id): Path<String>, uri: Uri) -> Reply {
    check_id(&task_id, "task")?;
    let with_details = expands_details(&query_pairs(&uri));
    let task = lock(&state.planner).task(&task_id)?.to_json(with_details);
    Ok(ok(task))
}

/// §2.7: 204 by default, 200 with the resource under `Prefer: return=representation`.
fn written(headers: &HeaderMap, representation: Value) -> Response {
    if prefers_representation(headers) {
        ok(representation)
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

/// How a write to a task or to its details applies a body and shows the result.
type TaskUpdate = fn(
    &mut PlannerState,
    &str,
    Precondition<'_>,
    &Map<String, Value>,
    &WriteContext<'_>,
) -> Result<Value, PlannerError>;

const TASK: TaskUpdate = |planner, id, precondition, body, ctx| {
    Ok(planner
        .update_task(id, precondition, body, ctx)?
        .to_json(false))
};

const DETAILS: TaskUpdate = |planner, id, precondition, body, ctx| {
    let task = planner.update_details(id, precondition, body, ctx)?;
    Ok(task.details.to_json(&task.id))
};

/// `PATCH` of a task or its details through Graph (§2.6, §2.7): a valid id, a required
/// `If-Match`, a JSON body, and the written resource as `Prefer` asks.
fn graph_patch(update: TaskUpdate) -> MethodRouter<AppState> {
    patch(
        move |State(state): State<AppState>,
              Path(task_id): Path<String>,
              headers: HeaderMap,
              body: Bytes| async move {
            check_id(&task_id, "task")?;
            let if_match = Some(required_if_match(&headers)?);
            let body = json_object(&body)?;
            let ctx = app_ctx(&state);
            let value = update(
                &mut lock(&state.planner),
                &task_id,
                Precondition::IfMatch(if_match),
                &body,
                &ctx,
            )?;
            Reply::Ok(written(&headers, value))
        },
    )
}

/// `PATCH` of a task or its details by a person in the Planner app: no If-Match, 200 with the
/// resource.
fn control_patch(update: TaskUpdate) -> MethodRouter<AppState> {
    patch(
        move |State(state): State<AppState>, Path(task_id): Path<String>, body: Bytes| async move {
            let body = json_object(&body)?;
            let ctx = person_ctx(&state);
            let value = update(
                &mut lock(&state.planner),
                &task_id,
                Precondition::None,
                &body,
                &ctx,
            )?;
            Reply::Ok(ok(value))
        },
    )
}

async fn delete_task(
    State(state): State<AppState>,
    Path(task_id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    check_id(&task_id, "task")?;
    let if_match = header_str(&headers, "if-match");
    lock(&state.planner).delete_task(&task_id, Precondition::IfMatch(if_match))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn get_details(State(state): State<AppState>, Path(task_id): Path<String>) -> Reply {
    check_id(&task_id, "task")?;
    let details = {
        let planner = lock(&state.planner);
        let task = planner.task(&task_id)?;
        task.details.to_json(&task.id)
    };
    Ok(ok(details))
}

// ---- control API: a person in the Planner app ----

/// `POST /_emulator/planner/plans` `{"title": ..., "id"?: 28 chars}`: a plan owned by the seeded
/// group, created by the seeded user.
async fn control_create_plan(State(state): State<AppState>, body: Bytes) -> Reply {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        json_object(&body)?
    };
    let title = string_field(&body, "title")?.unwrap_or_else(|| "Emulator plan".to_owned());
    let id = string_field(&body, "id")?;
    let group = state.config.group_id.clone();
    let ctx = person_ctx(&state);
    let plan = lock(&state.planner)
        .create_plan(id, title, &group, &ctx)?
        .to_json();
    Ok(created(plan))
}

/// `POST /_emulator/planner/plans/{plan_id}/tasks` with a JSON array of task bodies (or
/// `{"value": [...]}`), created atomically under one lock.
async fn control_seed_tasks(
    State(state): State<AppState>,
    Path(plan_id): Path<String>,
    body: Bytes,
) -> Reply {
    let parsed: Value = serde_json::from_slice(&body)
        .map_err(|e| PlannerError::BadRequest(format!("The body is not valid JSON: {e}")))?;
    let list = match parsed {
        Value::Array(items) => items,
        Value::Object(mut obj) => match obj.remove("value") {
            Some(Value::Array(items)) => items,
            _ => {
                return Err(
                    PlannerError::BadRequest("Expected a JSON array of tasks.".into()).into(),
                );
            }
        },
        _ => return Err(PlannerError::BadRequest("Expected a JSON array of tasks.".into()).into()),
    };
    let ctx = person_ctx(&state);
    let tasks = lock(&state.planner).create_tasks(&plan_id, &list, &ctx)?;
    Ok(created(json!({ "value": tasks })))
}

async fn control_delete_task(State(state): State<AppState>, Path(task_id): Path<String>) -> Reply {
    lock(&state.planner).delete_task(&task_id, Precondition::None)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
