//! To Do tasks over HTTP (docs/graph-behaviour.md §3.1, §3.2): list with paging, read, create,
//! update and delete, and the control API's task edits by "a person in the To Do app". Every write
//! goes through `super::write`, so both sides notify subscriptions alike.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::model::{self, Expand, Task};
use super::{
    Owner, Result, TodoError, json_response, known_user, parse_object, tasks_context, with_context,
    write,
};
use crate::errors::graph_error;
use crate::state::{AppState, lock};

type TaskPath = Path<(String, String, String)>;

/// `GET .../tasks`: creation order, paged with `$skip` nextLinks. `$top` lowers the page size
/// (never above `todo_page_size`). `$filter`/`$orderby` are not emulated and answer 400 rather
/// than being silently ignored.
pub(super) async fn list_tasks(
    State(state): State<AppState>,
    Path((id, list_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let user = known_user(&state, &id)?;
    if let Some(op) = ["$filter", "$orderby", "$search"]
        .iter()
        .find(|k| query.contains_key(**k))
    {
        return Ok(graph_error(
            StatusCode::BAD_REQUEST,
            "notSupported",
            &format!("The emulator does not implement {op} on To Do tasks."),
        ));
    }
    let number = |key: &str| -> Result<Option<usize>> {
        query
            .get(key)
            .map(|v| {
                v.parse::<usize>().map_err(|_| {
                    TodoError::BadRequest(format!("{key} must be a non-negative integer."))
                })
            })
            .transpose()
    };
    let skip = number("$skip")?.unwrap_or(0);
    let top = number("$top")?;
    let page_size = top
        .unwrap_or(state.config.todo_page_size)
        .min(state.config.todo_page_size)
        .max(1);
    let expand_param = query.get("$expand").cloned();
    let expand = Expand::parse(expand_param.as_deref());
    let todo = lock(&state.todo);
    let list = todo.list(&user, &list_id)?;
    let mut rows = list.tasks.values().skip(skip);
    let value: Vec<Value> = rows
        .by_ref()
        .take(page_size)
        .map(|t| model::task_json(t, expand))
        .collect();
    let mut body = json!({"@odata.context": tasks_context(&state, &id, &list_id), "value": value});
    if rows.next().is_some() {
        let mut next = format!(
            "{}/users/{id}/todo/lists/{list_id}/tasks?$skip={}",
            state.graph_base_url,
            skip + page_size
        );
        if let Some(top) = top {
            next.push_str(&format!("&$top={top}"));
        }
        if let Some(e) = expand_param {
            next.push_str("&$expand=");
            next.extend(url::form_urlencoded::byte_serialize(e.as_bytes()));
        }
        body["@odata.nextLink"] = Value::String(next);
    }
    Ok(json_response(StatusCode::OK, body))
}

pub(super) async fn get_task(
    State(state): State<AppState>,
    Path((id, list_id, task_id)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let user = known_user(&state, &id)?;
    let expand = Expand::parse(query.get("$expand").map(String::as_str));
    let todo = lock(&state.todo);
    let task = todo.list(&user, &list_id)?.task(&task_id)?;
    let context = format!("{}/$entity", tasks_context(&state, &id, &list_id));
    Ok(json_response(
        StatusCode::OK,
        with_context(model::task_json(task, expand), context),
    ))
}

/// 201 with the task; inline linkedResources and checklistItems come back with their server ids
/// (docs/graph-behaviour.md §3.1).
pub(super) async fn create_task(
    State(state): State<AppState>,
    Path((id, list_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response> {
    let owner = Owner::user(&state, &id)?;
    let body = parse_object(&body)?;
    let now = state.clock.now();
    let task = write(&state, &owner, &list_id, |todo| {
        todo.create_task(&list_id, &body, now)
    })?;
    Ok(task_created(&state, &id, &list_id, &task, &body))
}

fn task_created(
    state: &AppState,
    user: &str,
    list_id: &str,
    task: &Task,
    body: &Map<String, Value>,
) -> Response {
    let expand = Expand {
        linked_resources: body.contains_key("linkedResources"),
        checklist_items: body.contains_key("checklistItems"),
    };
    let context = format!("{}/$entity", tasks_context(state, user, list_id));
    json_response(
        StatusCode::CREATED,
        with_context(model::task_json(task, expand), context),
    )
}

/// 200 with the updated task (docs/graph-behaviour.md §3.2; unlike Planner). No If-Match is
/// required.
pub(super) async fn update_task(
    State(state): State<AppState>,
    Path((id, list_id, task_id)): TaskPath,
    body: Bytes,
) -> Result<Response> {
    let owner = Owner::user(&state, &id)?;
    let body = parse_object(&body)?;
    let task = update(&state, &owner, &list_id, &task_id, &body)?;
    let context = format!("{}/$entity", tasks_context(&state, &id, &list_id));
    Ok(json_response(
        StatusCode::OK,
        with_context(model::task_json(&task, Expand::default()), context),
    ))
}

pub(super) async fn delete_task(
    State(state): State<AppState>,
    Path((id, list_id, task_id)): TaskPath,
) -> Result<Response> {
    let owner = Owner::user(&state, &id)?;
    delete(&state, &owner, &list_id, &task_id)
}

fn update(
    state: &AppState,
    owner: &Owner,
    list_id: &str,
    task_id: &str,
    body: &Map<String, Value>,
) -> Result<Task> {
    let now = state.clock.now();
    write(state, owner, list_id, |todo| {
        todo.update_task(list_id, task_id, body, now)
    })
}

fn delete(state: &AppState, owner: &Owner, list_id: &str, task_id: &str) -> Result<Response> {
    write(state, owner, list_id, |todo| {
        Ok(((), todo.delete_task(list_id, task_id)?))
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- control API: a person in the To Do app ----------------------------------------------------

pub(super) async fn control_create_task(
    State(state): State<AppState>,
    Path(list_id): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let body = parse_object(&body)?;
    let now = state.clock.now();
    let task = write(&state, &Owner::Anyone, &list_id, |todo| {
        todo.create_task(&list_id, &body, now)
    })?;
    Ok(json_response(
        StatusCode::CREATED,
        model::task_json(&task, Expand::ALL),
    ))
}

pub(super) async fn control_get_task(
    State(state): State<AppState>,
    Path((list_id, task_id)): Path<(String, String)>,
) -> Result<Response> {
    let todo = lock(&state.todo);
    let task = todo.list_any_owner(&list_id)?.task(&task_id)?;
    Ok(json_response(
        StatusCode::OK,
        model::task_json(task, Expand::ALL),
    ))
}

pub(super) async fn control_update_task(
    State(state): State<AppState>,
    Path((list_id, task_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response> {
    let body = parse_object(&body)?;
    let task = update(&state, &Owner::Anyone, &list_id, &task_id, &body)?;
    Ok(json_response(
        StatusCode::OK,
        model::task_json(&task, Expand::ALL),
    ))
}

pub(super) async fn control_delete_task(
    State(state): State<AppState>,
    Path((list_id, task_id)): Path<(String, String)>,
) -> Result<Response> {
    delete(&state, &Owner::Anyone, &list_id, &task_id)
}
