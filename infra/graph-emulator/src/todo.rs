//! Microsoft To Do v1.0 (graph-facts §3): lists, tasks with linked resources and checklist items,
//! `dateTimeTimeZone` values, delta, and the control API through which "a person in the To Do
//! app" edits tasks. Every task write, from either side, feeds the change log that delta reads
//! and fires change notifications to subscriptions on the list (§1.6, §3.4).
//!
//! Paths follow `/users/{id}/todo/...` (§3.2); the user id compares case-insensitively. An unknown
//! user answers 404 `ResourceNotFound`; an unknown list, task or sub-item 404 `itemNotFound`.

pub mod delta;
pub mod model;
pub mod timezone;

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

pub use model::{ChangeKind, TaskChange, TodoError, TodoState};
use model::{Expand, Task};

use crate::errors::graph_error;
use crate::state::{AppState, lock};

type QueryMap = Query<HashMap<String, String>>;

pub fn routes() -> Router<AppState> {
    let task = "/users/{id}/todo/lists/{list_id}/tasks/{task_id}";
    Router::new()
        .route("/me/todo/{*rest}", axum::routing::any(me_is_delegated_only))
        .route("/users/{id}/todo/lists", get(list_lists).post(create_list))
        .route(
            "/users/{id}/todo/lists/{list_id}",
            get(get_list).patch(update_list).delete(delete_list),
        )
        .route(
            "/users/{id}/todo/lists/{list_id}/tasks",
            get(list_tasks).post(create_task),
        )
        .route(
            "/users/{id}/todo/lists/{list_id}/tasks/delta",
            get(delta_tasks),
        )
        .route(task, get(get_task).patch(update_task).delete(delete_task))
        .route(
            &format!("{task}/linkedResources"),
            get(list_linked).post(create_linked),
        )
        .route(
            &format!("{task}/linkedResources/{{item_id}}"),
            get(get_linked).patch(update_linked).delete(delete_linked),
        )
        .route(
            &format!("{task}/checklistItems"),
            get(list_checklist).post(create_checklist),
        )
        .route(
            &format!("{task}/checklistItems/{{item_id}}"),
            get(get_checklist)
                .patch(update_checklist)
                .delete(delete_checklist),
        )
}

/// The control API (under `/_emulator`): what a person does in the To Do app. Writes behave
/// exactly like Graph writes (new ETag, lastModifiedDateTime, change log, notifications).
pub fn control_routes() -> Router<AppState> {
    Router::new()
        .route("/todo/users/{id}/lists", post(control_create_list))
        .route("/todo/lists/{list_id}/tasks", post(control_create_task))
        .route(
            "/todo/lists/{list_id}/tasks/{task_id}",
            get(control_get_task)
                .patch(control_update_task)
                .delete(control_delete_task),
        )
        .route(
            "/todo/lists/{list_id}/tasks/{task_id}/checklistItems",
            post(control_create_checklist),
        )
        .route(
            "/todo/lists/{list_id}/tasks/{task_id}/checklistItems/{item_id}",
            axum::routing::patch(control_update_checklist).delete(control_delete_checklist),
        )
        .route("/todo/delta/expire", post(control_expire_delta))
        .route("/todo/delta/retention", post(control_set_retention))
}

pub fn error_response(error: &TodoError) -> Response {
    match error {
        TodoError::UserNotFound => graph_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            "Resource could not be discovered: the user was not found.",
        ),
        TodoError::ListNotFound | TodoError::TaskNotFound | TodoError::ItemNotFound(_) => {
            graph_error(
                StatusCode::NOT_FOUND,
                "itemNotFound",
                "The specified object was not found in the store.",
            )
        }
        TodoError::BadRequest(message) => {
            graph_error(StatusCode::BAD_REQUEST, "invalidRequest", message)
        }
        TodoError::Zone(e) => {
            graph_error(StatusCode::BAD_REQUEST, "invalidRequest", &e.to_string())
        }
    }
}

impl IntoResponse for TodoError {
    fn into_response(self) -> Response {
        error_response(&self)
    }
}

type Result<T, E = TodoError> = std::result::Result<T, E>;

/// The user of the path, if it is one the directory knows. To Do data is keyed by the lower-cased
/// id, so any spelling of the id reaches the same lists.
fn known_user(state: &AppState, id: &str) -> Result<String> {
    if id.eq_ignore_ascii_case(&state.config.user_id) {
        Ok(state.config.user_id.to_ascii_lowercase())
    } else {
        Err(TodoError::UserNotFound)
    }
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(TodoError::BadRequest(
            "The request body is empty; a JSON object is required.".into(),
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(TodoError::BadRequest(
            "The request body must be a JSON object.".into(),
        )),
        Err(e) => Err(TodoError::BadRequest(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}

fn with_context(mut value: Value, context: String) -> Value {
    if let Value::Object(obj) = &mut value {
        let mut ordered = Map::new();
        ordered.insert("@odata.context".into(), Value::String(context));
        ordered.append(obj);
        return Value::Object(ordered);
    }
    value
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn tasks_context(state: &AppState, user: &str, list_id: &str) -> String {
    format!(
        "{}/$metadata#users('{user}')/todo/lists('{list_id}')/tasks",
        state.graph_base_url
    )
}

/// Hands a write to the subscriptions after every lock is released; delivery is asynchronous, so
/// the request that caused it never waits for it.
fn notify(state: &AppState, change: &TaskChange) {
    crate::subscriptions::notify_task_change(state, change);
}

/// The emulator issues app-only tokens, which have no signed-in user (graph-facts §3.2).
async fn me_is_delegated_only() -> Response {
    graph_error(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        "/me request is only valid with delegated authentication flow.",
    )
}

// ---- lists -------------------------------------------------------------------------------------

async fn list_lists(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response> {
    let user = known_user(&state, &id)?;
    let mut todo = lock(&state.todo);
    todo.ensure_default_list(&user);
    let value: Vec<Value> = todo
        .lists_of(&user)
        .into_iter()
        .map(model::list_json)
        .collect();
    Ok(json_response(
        StatusCode::OK,
        json!({"@odata.context": format!("{}/$metadata#users('{id}')/todo/lists", state.graph_base_url), "value": value}),
    ))
}

async fn create_list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let user = known_user(&state, &id)?;
    let body = parse_object(&body)?;
    let mut todo = lock(&state.todo);
    todo.ensure_default_list(&user);
    let list = todo.create_list(&user, &body)?;
    let context = format!(
        "{}/$metadata#users('{id}')/todo/lists/$entity",
        state.graph_base_url
    );
    Ok(json_response(
        StatusCode::CREATED,
        with_context(model::list_json(list), context),
    ))
}

async fn get_list(
    State(state): State<AppState>,
    Path((id, list_id)): Path<(String, String)>,
) -> Result<Response> {
    let user = known_user(&state, &id)?;
    let mut todo = lock(&state.todo);
    todo.ensure_default_list(&user);
    let list = todo.list(&user, &list_id)?;
    let context = format!(
        "{}/$metadata#users('{id}')/todo/lists/$entity",
        state.graph_base_url
    );
    Ok(json_response(
        StatusCode::OK,
        with_context(model::list_json(list), context),
    ))
}

async fn update_list(
    State(state): State<AppState>,
    Path((id, list_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response> {
    let user = known_user(&state, &id)?;
    let body = parse_object(&body)?;
    let mut todo = lock(&state.todo);
    todo.ensure_default_list(&user);
    let list = todo.update_list(&user, &list_id, &body)?;
    let context = format!(
        "{}/$metadata#users('{id}')/todo/lists/$entity",
        state.graph_base_url
    );
    Ok(json_response(
        StatusCode::OK,
        with_context(model::list_json(list), context),
    ))
}

/// Deleting a list drops its tasks without task notifications (the list itself is the
/// subscription's resource; later notifications simply stop).
async fn delete_list(
    State(state): State<AppState>,
    Path((id, list_id)): Path<(String, String)>,
) -> Result<Response> {
    let user = known_user(&state, &id)?;
    let mut todo = lock(&state.todo);
    todo.ensure_default_list(&user);
    todo.delete_list(&user, &list_id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- tasks -------------------------------------------------------------------------------------

/// `GET .../tasks`: creation order, paged with `$skip` nextLinks. `$top` lowers the page size
/// (never above `todo_page_size`). `$filter`/`$orderby` are not emulated and answer 400 rather
/// than being silently ignored.
async fn list_tasks(
    State(state): State<AppState>,
    Path((id, list_id)): Path<(String, String)>,
    Query(query): QueryMap,
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

async fn get_task(
    State(state): State<AppState>,
    Path((id, list_id, task_id)): Path<(String, String, String)>,
    Query(query): QueryMap,
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
/// (graph-facts §3.1).
async fn create_task(
    State(state): State<AppState>,
    Path((id, list_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response> {
    let user = known_user(&state, &id)?;
    let body = parse_object(&body)?;
    let (task, change) = {
        let mut todo = lock(&state.todo);
        todo.list(&user, &list_id)?;
        todo.create_task(&list_id, &body, state.clock.now())?
    };
    notify(&state, &change);
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

/// 200 with the updated task (graph-facts §3.2; unlike Planner). No If-Match is required.
async fn update_task(
    State(state): State<AppState>,
    Path((id, list_id, task_id)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response> {
    let user = known_user(&state, &id)?;
    let body = parse_object(&body)?;
    let (task, change) = {
        let mut todo = lock(&state.todo);
        todo.list(&user, &list_id)?;
        todo.update_task(&list_id, &task_id, &body, state.clock.now())?
    };
    notify(&state, &change);
    let context = format!("{}/$entity", tasks_context(&state, &id, &list_id));
    Ok(json_response(
        StatusCode::OK,
        with_context(model::task_json(&task, Expand::default()), context),
    ))
}

async fn delete_task(
    State(state): State<AppState>,
    Path((id, list_id, task_id)): Path<(String, String, String)>,
) -> Result<Response> {
    let user = known_user(&state, &id)?;
    let change = {
        let mut todo = lock(&state.todo);
        todo.list(&user, &list_id)?;
        todo.delete_task(&list_id, &task_id)?
    };
    notify(&state, &change);
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- delta -------------------------------------------------------------------------------------

/// The page size of a delta page: `Prefer: odata.maxpagesize=N` (graph-facts §3.3), capped by
/// `todo_page_size`.
fn max_page_size(headers: &HeaderMap, default: usize) -> usize {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|p| p.trim().strip_prefix("odata.maxpagesize="))
        .filter_map(|n| n.trim().parse::<usize>().ok())
        .next()
        .map_or(default, |n| n.min(default))
        .max(1)
}

async fn delta_tasks(
    State(state): State<AppState>,
    Path((id, list_id)): Path<(String, String)>,
    Query(query): QueryMap,
    headers: HeaderMap,
) -> Result<Response> {
    let user = known_user(&state, &id)?;
    let request = match (query.get("$skiptoken"), query.get("$deltatoken")) {
        (Some(_), Some(_)) => {
            return Err(TodoError::BadRequest(
                "Give either $skiptoken or $deltatoken, not both.".into(),
            ));
        }
        (Some(skip), None) => delta::Request::Skip(skip),
        (None, Some(token)) if token.is_empty() => delta::Request::Start,
        (None, Some(token)) => delta::Request::Delta(token),
        (None, None) => delta::Request::Start,
    };
    let link_base = format!(
        "{}/users/{id}/todo/lists/{list_id}/tasks/delta",
        state.graph_base_url
    );
    let page_size = max_page_size(&headers, state.config.todo_page_size);
    let page = {
        let todo = lock(&state.todo);
        let list = todo.list(&user, &list_id)?;
        delta::page(&todo, list, request, page_size, state.clock.now())
    };
    match page {
        Ok(page) => {
            let mut body = json!({
                "@odata.context": format!("{}/$metadata#Collection(todoTask)", state.graph_base_url),
                "value": page.items,
            });
            match page.next {
                delta::NextLink::Skip(t) => {
                    body["@odata.nextLink"] = json!(format!("{link_base}?$skiptoken={t}"))
                }
                delta::NextLink::Delta(t) => {
                    body["@odata.deltaLink"] = json!(format!("{link_base}?$deltatoken={t}"))
                }
            }
            Ok(json_response(StatusCode::OK, body))
        }
        Err(delta::DeltaError::Expired) => {
            let mut response = graph_error(
                StatusCode::GONE,
                "syncStateNotFound",
                "The sync state generation is not found; start a new round without a token.",
            );
            if let Ok(location) = HeaderValue::from_str(&format!("{link_base}?$deltatoken=")) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
        Err(e @ (delta::DeltaError::Malformed | delta::DeltaError::WrongList)) => Err(
            TodoError::BadRequest(format!("Invalid delta request: {e}.")),
        ),
    }
}

// ---- linked resources and checklist items ------------------------------------------------------

type TaskPath = Path<(String, String, String)>;
type ItemPath = Path<(String, String, String, String)>;

fn read_task<R>(
    state: &AppState,
    (id, list_id, task_id): (&str, &str, &str),
    read: impl FnOnce(&Task) -> Result<R>,
) -> Result<R> {
    let user = known_user(state, id)?;
    let todo = lock(&state.todo);
    read(todo.list(&user, list_id)?.task(task_id)?)
}

/// A sub-item write is a task write (new ETag, change log entry, `updated` notification).
fn write_task<R>(
    state: &AppState,
    (id, list_id, task_id): (&str, &str, &str),
    edit: impl FnOnce(&mut Task) -> Result<R>,
) -> Result<R> {
    let user = known_user(state, id)?;
    let (result, _task, change) = {
        let mut todo = lock(&state.todo);
        todo.list(&user, list_id)?;
        todo.edit_task(list_id, task_id, state.clock.now(), edit)?
    };
    notify(state, &change);
    Ok(result)
}

fn sub_context(state: &AppState, (id, list_id, task_id): (&str, &str, &str), name: &str) -> String {
    format!(
        "{}/$metadata#users('{id}')/todo/lists('{list_id}')/tasks('{task_id}')/{name}",
        state.graph_base_url
    )
}

async fn list_linked(
    State(state): State<AppState>,
    Path((id, l, t)): TaskPath,
) -> Result<Response> {
    let key = (id.as_str(), l.as_str(), t.as_str());
    let value = read_task(&state, key, |task| {
        Ok(task
            .linked_resources
            .iter()
            .map(model::linked_resource_json)
            .collect::<Vec<_>>())
    })?;
    Ok(json_response(
        StatusCode::OK,
        json!({"@odata.context": sub_context(&state, key, "linkedResources"), "value": value}),
    ))
}

async fn create_linked(
    State(state): State<AppState>,
    Path((id, l, t)): TaskPath,
    body: Bytes,
) -> Result<Response> {
    let key = (id.as_str(), l.as_str(), t.as_str());
    let body = parse_object(&body)?;
    let resource = model::new_linked_resource(&body)?;
    let json = model::linked_resource_json(&resource);
    write_task(&state, key, |task| {
        task.linked_resources.push(resource);
        Ok(())
    })?;
    let context = format!("{}/$entity", sub_context(&state, key, "linkedResources"));
    Ok(json_response(
        StatusCode::CREATED,
        with_context(json, context),
    ))
}

async fn get_linked(
    State(state): State<AppState>,
    Path((id, l, t, item)): ItemPath,
) -> Result<Response> {
    let key = (id.as_str(), l.as_str(), t.as_str());
    let json = read_task(&state, key, |task| {
        task.linked_resources
            .iter()
            .find(|r| r.id == item)
            .map(model::linked_resource_json)
            .ok_or(TodoError::ItemNotFound("linkedResource"))
    })?;
    let context = format!("{}/$entity", sub_context(&state, key, "linkedResources"));
    Ok(json_response(StatusCode::OK, with_context(json, context)))
}

async fn update_linked(
    State(state): State<AppState>,
    Path((id, l, t, item)): ItemPath,
    body: Bytes,
) -> Result<Response> {
    let key = (id.as_str(), l.as_str(), t.as_str());
    let body = parse_object(&body)?;
    let json = write_task(&state, key, |task| {
        let resource = task
            .linked_resources
            .iter_mut()
            .find(|r| r.id == item)
            .ok_or(TodoError::ItemNotFound("linkedResource"))?;
        model::apply_linked_resource(resource, &body)?;
        Ok(model::linked_resource_json(resource))
    })?;
    let context = format!("{}/$entity", sub_context(&state, key, "linkedResources"));
    Ok(json_response(StatusCode::OK, with_context(json, context)))
}

async fn delete_linked(
    State(state): State<AppState>,
    Path((id, l, t, item)): ItemPath,
) -> Result<Response> {
    let key = (id.as_str(), l.as_str(), t.as_str());
    write_task(&state, key, |task| {
        let before = task.linked_resources.len();
        task.linked_resources.retain(|r| r.id != item);
        if task.linked_resources.len() == before {
            return Err(TodoError::ItemNotFound("linkedResource"));
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_checklist(
    State(state): State<AppState>,
    Path((id, l, t)): TaskPath,
) -> Result<Response> {
    let key = (id.as_str(), l.as_str(), t.as_str());
    let value = read_task(&state, key, |task| {
        Ok(task
            .checklist
            .iter()
            .map(model::checklist_item_json)
            .collect::<Vec<_>>())
    })?;
    Ok(json_response(
        StatusCode::OK,
        json!({"@odata.context": sub_context(&state, key, "checklistItems"), "value": value}),
    ))
}

async fn create_checklist(
    State(state): State<AppState>,
    Path((id, l, t)): TaskPath,
    body: Bytes,
) -> Result<Response> {
    let key = (id.as_str(), l.as_str(), t.as_str());
    let body = parse_object(&body)?;
    let item = model::new_checklist_item(&body, state.clock.now())?;
    let json = model::checklist_item_json(&item);
    write_task(&state, key, |task| {
        task.checklist.push(item);
        Ok(())
    })?;
    let context = format!("{}/$entity", sub_context(&state, key, "checklistItems"));
    Ok(json_response(
        StatusCode::CREATED,
        with_context(json, context),
    ))
}

async fn get_checklist(
    State(state): State<AppState>,
    Path((id, l, t, item)): ItemPath,
) -> Result<Response> {
    let key = (id.as_str(), l.as_str(), t.as_str());
    let json = read_task(&state, key, |task| {
        task.checklist
            .iter()
            .find(|c| c.id == item)
            .map(model::checklist_item_json)
            .ok_or(TodoError::ItemNotFound("checklistItem"))
    })?;
    let context = format!("{}/$entity", sub_context(&state, key, "checklistItems"));
    Ok(json_response(StatusCode::OK, with_context(json, context)))
}

async fn update_checklist(
    State(state): State<AppState>,
    Path((id, l, t, item)): ItemPath,
    body: Bytes,
) -> Result<Response> {
    let key = (id.as_str(), l.as_str(), t.as_str());
    let body = parse_object(&body)?;
    let now = state.clock.now();
    let json = write_task(&state, key, |task| {
        let entry = task
            .checklist
            .iter_mut()
            .find(|c| c.id == item)
            .ok_or(TodoError::ItemNotFound("checklistItem"))?;
        model::apply_checklist_item(entry, &body, now)?;
        Ok(model::checklist_item_json(entry))
    })?;
    let context = format!("{}/$entity", sub_context(&state, key, "checklistItems"));
    Ok(json_response(StatusCode::OK, with_context(json, context)))
}

async fn delete_checklist(
    State(state): State<AppState>,
    Path((id, l, t, item)): ItemPath,
) -> Result<Response> {
    let key = (id.as_str(), l.as_str(), t.as_str());
    write_task(&state, key, |task| {
        let before = task.checklist.len();
        task.checklist.retain(|c| c.id != item);
        if task.checklist.len() == before {
            return Err(TodoError::ItemNotFound("checklistItem"));
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- control API -------------------------------------------------------------------------------

async fn control_create_list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let user = known_user(&state, &id)?;
    let body = parse_object(&body)?;
    let mut todo = lock(&state.todo);
    todo.ensure_default_list(&user);
    let list = todo.create_list(&user, &body)?;
    Ok(json_response(StatusCode::CREATED, model::list_json(list)))
}

async fn control_create_task(
    State(state): State<AppState>,
    Path(list_id): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let body = parse_object(&body)?;
    let (task, change) = {
        let mut todo = lock(&state.todo);
        todo.create_task(&list_id, &body, state.clock.now())?
    };
    notify(&state, &change);
    Ok(json_response(
        StatusCode::CREATED,
        model::task_json(&task, Expand::ALL),
    ))
}

async fn control_get_task(
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

async fn control_update_task(
    State(state): State<AppState>,
    Path((list_id, task_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response> {
    let body = parse_object(&body)?;
    let (task, change) = {
        let mut todo = lock(&state.todo);
        todo.update_task(&list_id, &task_id, &body, state.clock.now())?
    };
    notify(&state, &change);
    Ok(json_response(
        StatusCode::OK,
        model::task_json(&task, Expand::ALL),
    ))
}

async fn control_delete_task(
    State(state): State<AppState>,
    Path((list_id, task_id)): Path<(String, String)>,
) -> Result<Response> {
    let change = {
        let mut todo = lock(&state.todo);
        todo.delete_task(&list_id, &task_id)?
    };
    notify(&state, &change);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A person's edit of a task's checklist in the To Do app: one task write, like Graph's.
fn control_edit_task<R>(
    state: &AppState,
    list_id: &str,
    task_id: &str,
    edit: impl FnOnce(&mut Task) -> Result<R>,
) -> Result<R> {
    let (result, _task, change) = {
        let mut todo = lock(&state.todo);
        todo.list_any_owner(list_id)?;
        todo.edit_task(list_id, task_id, state.clock.now(), edit)?
    };
    notify(state, &change);
    Ok(result)
}

async fn control_create_checklist(
    State(state): State<AppState>,
    Path((list_id, task_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response> {
    let body = parse_object(&body)?;
    let item = model::new_checklist_item(&body, state.clock.now())?;
    let json = model::checklist_item_json(&item);
    control_edit_task(&state, &list_id, &task_id, |task| {
        task.checklist.push(item);
        Ok(())
    })?;
    Ok(json_response(StatusCode::CREATED, json))
}

async fn control_update_checklist(
    State(state): State<AppState>,
    Path((list_id, task_id, item)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response> {
    let body = parse_object(&body)?;
    let now = state.clock.now();
    let json = control_edit_task(&state, &list_id, &task_id, |task| {
        let entry = task
            .checklist
            .iter_mut()
            .find(|c| c.id == item)
            .ok_or(TodoError::ItemNotFound("checklistItem"))?;
        model::apply_checklist_item(entry, &body, now)?;
        Ok(model::checklist_item_json(entry))
    })?;
    Ok(json_response(StatusCode::OK, json))
}

async fn control_delete_checklist(
    State(state): State<AppState>,
    Path((list_id, task_id, item)): Path<(String, String, String)>,
) -> Result<Response> {
    control_edit_task(&state, &list_id, &task_id, |task| {
        let before = task.checklist.len();
        task.checklist.retain(|c| c.id != item);
        if task.checklist.len() == before {
            return Err(TodoError::ItemNotFound("checklistItem"));
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn control_expire_delta(State(state): State<AppState>) -> Response {
    lock(&state.todo).expire_delta_tokens();
    StatusCode::NO_CONTENT.into_response()
}

/// `{"seconds": N}`: delta and skip tokens older than N seconds (by the emulator clock) answer 410.
async fn control_set_retention(State(state): State<AppState>, body: Bytes) -> Result<Response> {
    let body = parse_object(&body)?;
    let seconds = body.get("seconds").and_then(Value::as_u64).ok_or_else(|| {
        TodoError::BadRequest("seconds (a non-negative integer) is required.".into())
    })?;
    lock(&state.todo).delta_retention = Some(std::time::Duration::from_secs(seconds));
    Ok(StatusCode::NO_CONTENT.into_response())
}
