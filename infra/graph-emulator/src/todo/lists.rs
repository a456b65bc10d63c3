//! To Do lists over HTTP (docs/graph-behaviour.md §3.2). Every read or write of a user's lists
//! first makes sure the default "Tasks" list exists.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::model::{self, TodoList};
use super::{Result, json_response, known_user, parse_object, with_context};
use crate::state::{AppState, lock};

/// One list with its `@odata.context`, as a Graph list request answers it.
fn list_entity(state: &AppState, id: &str, status: StatusCode, list: &TodoList) -> Response {
    let context = format!(
        "{}/$metadata#users('{id}')/todo/lists/$entity",
        state.graph_base_url
    );
    json_response(status, with_context(model::list_json(list), context))
}

pub(super) async fn list_lists(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response> {
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

pub(super) async fn create_list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let user = known_user(&state, &id)?;
    let body = parse_object(&body)?;
    let mut todo = lock(&state.todo);
    todo.ensure_default_list(&user);
    let list = todo.create_list(&user, &body)?;
    Ok(list_entity(&state, &id, StatusCode::CREATED, list))
}

pub(super) async fn get_list(
    State(state): State<AppState>,
    Path((id, list_id)): Path<(String, String)>,
) -> Result<Response> {
    let user = known_user(&state, &id)?;
    let mut todo = lock(&state.todo);
    todo.ensure_default_list(&user);
    let list = todo.list(&user, &list_id)?;
    Ok(list_entity(&state, &id, StatusCode::OK, list))
}

pub(super) async fn update_list(
    State(state): State<AppState>,
    Path((id, list_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response> {
    let user = known_user(&state, &id)?;
    let body = parse_object(&body)?;
    let mut todo = lock(&state.todo);
    todo.ensure_default_list(&user);
    let list = todo.update_list(&user, &list_id, &body)?;
    Ok(list_entity(&state, &id, StatusCode::OK, list))
}

/// Deleting a list drops its tasks without task notifications (the list itself is the
/// subscription's resource; later notifications simply stop).
pub(super) async fn delete_list(
    State(state): State<AppState>,
    Path((id, list_id)): Path<(String, String)>,
) -> Result<Response> {
    let user = known_user(&state, &id)?;
    let mut todo = lock(&state.todo);
    todo.ensure_default_list(&user);
    todo.delete_list(&user, &list_id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /_emulator/todo/users/{id}/lists`: a list made by the person, answered without context.
pub(super) async fn control_create_list(
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
