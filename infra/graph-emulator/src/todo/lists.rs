//! To Do lists over HTTP (docs/graph-behaviour.md §3.2). Every read or write of a user's lists
//! first makes sure the default "Tasks" list exists.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::model::{self, TodoState};
use super::{Result, json_response, known_user, parse_object, with_context};
use crate::state::{AppState, lock};

/// Runs `f` on the To Do state for the path's user (lower-cased), whose default list exists by
/// then. An unknown user is a 404 before anything else is read.
fn with_lists<R>(
    state: &AppState,
    id: &str,
    f: impl FnOnce(&mut TodoState, &str) -> Result<R>,
) -> Result<R> {
    let user = known_user(state, id)?;
    let mut todo = lock(&state.todo);
    todo.ensure_default_list(&user);
    f(&mut todo, &user)
}

/// One list with its `@odata.context`, as a Graph list request answers it.
fn list_entity(state: &AppState, id: &str, status: StatusCode, list: Value) -> Response {
    let context = format!(
        "{}/$metadata#users('{id}')/todo/lists/$entity",
        state.graph_base_url
    );
    json_response(status, with_context(list, context))
}

/// A new list of the path's user, as its JSON; Graph and the control API differ only in the
/// answer's context.
fn create(state: &AppState, id: &str, body: &[u8]) -> Result<Value> {
    with_lists(state, id, |todo, user| {
        let body = parse_object(body)?;
        Ok(model::list_json(todo.create_list(user, &body)?))
    })
}

pub(super) async fn list_lists(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response> {
    let value: Vec<Value> = with_lists(&state, &id, |todo, user| {
        Ok(todo
            .lists_of(user)
            .into_iter()
            .map(model::list_json)
            .collect())
    })?;
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
    let list = create(&state, &id, &body)?;
    Ok(list_entity(&state, &id, StatusCode::CREATED, list))
}

pub(super) async fn get_list(
    State(state): State<AppState>,
    Path((id, list_id)): Path<(String, String)>,
) -> Result<Response> {
    let list = with_lists(&state, &id, |todo, user| {
        Ok(model::list_json(todo.list(user, &list_id)?))
    })?;
    Ok(list_entity(&state, &id, StatusCode::OK, list))
}

pub(super) async fn update_list(
    State(state): State<AppState>,
    Path((id, list_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response> {
    let list = with_lists(&state, &id, |todo, user| {
        let body = parse_object(&body)?;
        Ok(model::list_json(todo.update_list(user, &list_id, &body)?))
    })?;
    Ok(list_entity(&state, &id, StatusCode::OK, list))
}

/// Deleting a list drops its tasks without task notifications (the list itself is the
/// subscription's resource; later notifications simply stop).
pub(super) async fn delete_list(
    State(state): State<AppState>,
    Path((id, list_id)): Path<(String, String)>,
) -> Result<Response> {
    with_lists(&state, &id, |todo, user| todo.delete_list(user, &list_id))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /_emulator/todo/users/{id}/lists`: a list made by the person, answered without context.
pub(super) async fn control_create_list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let list = create(&state, &id, &body)?;
    Ok(json_response(StatusCode::CREATED, list))
}
