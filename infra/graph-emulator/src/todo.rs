//! Microsoft To Do v1.0 (docs/graph-behaviour.md §3): lists, tasks with linked resources and
//! checklist items, `dateTimeTimeZone` values, delta, and the control API through which "a person
//! in the To Do app" edits tasks. Every task write, from either side, feeds the change log that
//! delta reads and fires change notifications to subscriptions on the list (§1.6, §3.4).
//!
//! Paths follow `/users/{id}/todo/...` (§3.2); the user id compares case-insensitively. An unknown
//! user answers 404 `ResourceNotFound`; an unknown list, task or sub-item 404 `itemNotFound`.
//!
//! This module holds the routes and what every handler shares; the handlers live in `lists`,
//! `tasks`, `task_items` and `delta_http`, the rules in `model`.

pub mod delta;
mod delta_http;
mod lists;
pub mod model;
mod task_items;
mod tasks;
pub mod timezone;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value};

pub use model::{ChangeKind, TaskChange, TodoError, TodoState};
use model::{ChecklistItem, LinkedResource, TodoList};

use crate::errors::graph_error;
use crate::state::{AppState, lock};

pub fn routes() -> Router<AppState> {
    let task = "/users/{id}/todo/lists/{list_id}/tasks/{task_id}";
    Router::new()
        .route("/me/todo/{*rest}", axum::routing::any(me_is_delegated_only))
        .route(
            "/users/{id}/todo/lists",
            get(lists::list_lists).post(lists::create_list),
        )
        .route(
            "/users/{id}/todo/lists/{list_id}",
            get(lists::get_list)
                .patch(lists::update_list)
                .delete(lists::delete_list),
        )
        .route(
            "/users/{id}/todo/lists/{list_id}/tasks",
            get(tasks::list_tasks).post(tasks::create_task),
        )
        // `/delta` is short for the bound function `microsoft.graph.delta`, and SDKs send the
        // call forms too (docs/graph-behaviour.md §3.3): all four name the same round.
        .route(
            "/users/{id}/todo/lists/{list_id}/tasks/delta",
            get(delta_http::delta_tasks),
        )
        .route(
            "/users/{id}/todo/lists/{list_id}/tasks/delta()",
            get(delta_http::delta_tasks),
        )
        .route(
            "/users/{id}/todo/lists/{list_id}/tasks/microsoft.graph.delta",
            get(delta_http::delta_tasks),
        )
        .route(
            "/users/{id}/todo/lists/{list_id}/tasks/microsoft.graph.delta()",
            get(delta_http::delta_tasks),
        )
        .route(
            task,
            get(tasks::get_task)
                .patch(tasks::update_task)
                .delete(tasks::delete_task),
        )
        .merge(task_items::routes::<LinkedResource>(task))
        .merge(task_items::routes::<ChecklistItem>(task))
}

/// The control API (under `/_emulator`): what a person does in the To Do app. Writes behave
/// exactly like Graph writes (new ETag, lastModifiedDateTime, change log, notifications).
pub fn control_routes() -> Router<AppState> {
    Router::new()
        .route("/todo/users/{id}/lists", post(lists::control_create_list))
        .route(
            "/todo/lists/{list_id}/tasks",
            post(tasks::control_create_task),
        )
        .route(
            "/todo/lists/{list_id}/tasks/{task_id}",
            get(tasks::control_get_task)
                .patch(tasks::control_update_task)
                .delete(tasks::control_delete_task),
        )
        .merge(task_items::control_routes::<ChecklistItem>(
            "/todo/lists/{list_id}/tasks/{task_id}",
        ))
        .route("/todo/delta/expire", post(delta_http::control_expire_delta))
        .route(
            "/todo/delta/retention",
            post(delta_http::control_set_retention),
        )
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

/// Whose lists a request reaches: a Graph path names the user (already checked by `known_user`),
/// while the control API acts as the person in the app and names only the list.
#[derive(Debug, Clone)]
enum Owner {
    User(String),
    Anyone,
}

impl Owner {
    fn user(state: &AppState, id: &str) -> Result<Owner> {
        known_user(state, id).map(Owner::User)
    }

    fn list<'t>(&self, todo: &'t TodoState, list_id: &str) -> Result<&'t TodoList> {
        match self {
            Owner::User(user) => todo.list(user, list_id),
            Owner::Anyone => todo.list_any_owner(list_id),
        }
    }
}

/// One task write under the To Do lock, on a list `owner` reaches. The change notification goes
/// out after the lock is released; delivery is asynchronous, so the request never waits for it.
fn write<R>(
    state: &AppState,
    owner: &Owner,
    list_id: &str,
    write: impl FnOnce(&mut TodoState) -> Result<(R, TaskChange)>,
) -> Result<R> {
    let (result, change) = {
        let mut todo = lock(&state.todo);
        owner.list(&todo, list_id)?;
        write(&mut todo)?
    };
    crate::subscriptions::notify_task_change(state, &change);
    Ok(result)
}

/// A request body that must be one JSON object, read as every Graph area reads it.
fn parse_object(body: &[u8]) -> Result<Map<String, Value>> {
    crate::errors::json_object(body).map_err(|e| TodoError::BadRequest(e.0))
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

/// The emulator issues app-only tokens, which have no signed-in user (docs/graph-behaviour.md
/// §3.2).
async fn me_is_delegated_only() -> Response {
    graph_error(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        "/me request is only valid with delegated authentication flow.",
    )
}
