//! A task's linked resources and checklist items over HTTP (docs/graph-behaviour.md §3.1). Both
//! kinds have the same CRUD shape, so the handlers are written once over `TaskItem`. Writing a
//! sub-item is a task write (new ETag, change log entry, `updated` notification).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::model::{Task, TaskItem};
use super::{Owner, Result, TodoError, json_response, parse_object, with_context, write};
use crate::state::{AppState, lock};

type TaskPath = Path<(String, String, String)>;
type ItemPath = Path<(String, String, String, String)>;

/// Graph routes for one kind of sub-item under the task route `task`.
pub(super) fn routes<T: TaskItem>(task: &str) -> Router<AppState> {
    Router::new()
        .route(
            &format!("{task}/{}", T::COLLECTION),
            get(list_items::<T>).post(create_item::<T>),
        )
        .route(
            &format!("{task}/{}/{{item_id}}", T::COLLECTION),
            get(get_item::<T>)
                .patch(update_item::<T>)
                .delete(delete_item::<T>),
        )
}

/// Control routes for one kind of sub-item under the control task route `task`.
pub(super) fn control_routes<T: TaskItem>(task: &str) -> Router<AppState> {
    Router::new()
        .route(
            &format!("{task}/{}", T::COLLECTION),
            post(control_create_item::<T>),
        )
        .route(
            &format!("{task}/{}/{{item_id}}", T::COLLECTION),
            axum::routing::patch(control_update_item::<T>).delete(control_delete_item::<T>),
        )
}

fn read_task<R>(
    state: &AppState,
    owner: &Owner,
    (list_id, task_id): (&str, &str),
    read: impl FnOnce(&Task) -> Result<R>,
) -> Result<R> {
    let todo = lock(&state.todo);
    read(owner.list(&todo, list_id)?.task(task_id)?)
}

fn write_task<R>(
    state: &AppState,
    owner: &Owner,
    (list_id, task_id): (&str, &str),
    edit: impl FnOnce(&mut Task) -> Result<R>,
) -> Result<R> {
    let now = state.clock.now();
    write(state, owner, list_id, |todo| {
        let (result, _task, change) = todo.edit_task(list_id, task_id, now, edit)?;
        Ok((result, change))
    })
}

/// Reads a create body into a new item and its JSON, before any state is touched.
fn new_item<T: TaskItem>(state: &AppState, body: &[u8]) -> Result<(T, Value)> {
    let body = parse_object(body)?;
    let item = T::create(&body, state.clock.now())?;
    let json = item.to_json();
    Ok((item, json))
}

fn find_mut<'t, T: TaskItem>(task: &'t mut Task, item_id: &str) -> Result<&'t mut T> {
    T::items_mut(task)
        .iter_mut()
        .find(|i| i.id() == item_id)
        .ok_or(TodoError::ItemNotFound(T::ENTITY))
}

/// The body is read before `owner` is resolved: a bad body is a 400 whoever the path names.
fn create<T: TaskItem>(
    state: &AppState,
    owner: impl FnOnce() -> Result<Owner>,
    at: (&str, &str),
    body: &[u8],
) -> Result<Value> {
    let (item, json) = new_item::<T>(state, body)?;
    write_task(state, &owner()?, at, |task| {
        T::items_mut(task).push(item);
        Ok(())
    })?;
    Ok(json)
}

fn update<T: TaskItem>(
    state: &AppState,
    owner: &Owner,
    at: (&str, &str),
    item_id: &str,
    body: &Map<String, Value>,
) -> Result<Value> {
    let now = state.clock.now();
    write_task(state, owner, at, |task| {
        let item = find_mut::<T>(task, item_id)?;
        item.apply(body, now)?;
        Ok(item.to_json())
    })
}

fn delete<T: TaskItem>(
    state: &AppState,
    owner: &Owner,
    at: (&str, &str),
    item_id: &str,
) -> Result<Response> {
    write_task(state, owner, at, |task| {
        let items = T::items_mut(task);
        let before = items.len();
        items.retain(|i| i.id() != item_id);
        if items.len() == before {
            return Err(TodoError::ItemNotFound(T::ENTITY));
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn collection_context<T: TaskItem>(
    state: &AppState,
    (id, list_id, task_id): (&str, &str, &str),
) -> String {
    format!(
        "{}/$metadata#users('{id}')/todo/lists('{list_id}')/tasks('{task_id}')/{}",
        state.graph_base_url,
        T::COLLECTION
    )
}

/// One item with its `@odata.context`, as a Graph request answers it.
fn entity<T: TaskItem>(
    state: &AppState,
    key: (&str, &str, &str),
    status: StatusCode,
    json: Value,
) -> Response {
    let context = format!("{}/$entity", collection_context::<T>(state, key));
    json_response(status, with_context(json, context))
}

async fn list_items<T: TaskItem>(
    State(state): State<AppState>,
    Path((id, l, t)): TaskPath,
) -> Result<Response> {
    let owner = Owner::user(&state, &id)?;
    let value = read_task(&state, &owner, (&l, &t), |task| {
        Ok(T::items(task).iter().map(T::to_json).collect::<Vec<_>>())
    })?;
    let context = collection_context::<T>(&state, (&id, &l, &t));
    Ok(json_response(
        StatusCode::OK,
        json!({"@odata.context": context, "value": value}),
    ))
}

async fn create_item<T: TaskItem>(
    State(state): State<AppState>,
    Path((id, l, t)): TaskPath,
    body: Bytes,
) -> Result<Response> {
    let owner = || Owner::user(&state, &id);
    let json = create::<T>(&state, owner, (&l, &t), &body)?;
    Ok(entity::<T>(
        &state,
        (&id, &l, &t),
        StatusCode::CREATED,
        json,
    ))
}

async fn get_item<T: TaskItem>(
    State(state): State<AppState>,
    Path((id, l, t, item)): ItemPath,
) -> Result<Response> {
    let owner = Owner::user(&state, &id)?;
    let json = read_task(&state, &owner, (&l, &t), |task| {
        T::items(task)
            .iter()
            .find(|i| i.id() == item)
            .map(T::to_json)
            .ok_or(TodoError::ItemNotFound(T::ENTITY))
    })?;
    Ok(entity::<T>(&state, (&id, &l, &t), StatusCode::OK, json))
}

async fn update_item<T: TaskItem>(
    State(state): State<AppState>,
    Path((id, l, t, item)): ItemPath,
    body: Bytes,
) -> Result<Response> {
    let body = parse_object(&body)?;
    let owner = Owner::user(&state, &id)?;
    let json = update::<T>(&state, &owner, (&l, &t), &item, &body)?;
    Ok(entity::<T>(&state, (&id, &l, &t), StatusCode::OK, json))
}

async fn delete_item<T: TaskItem>(
    State(state): State<AppState>,
    Path((id, l, t, item)): ItemPath,
) -> Result<Response> {
    let owner = Owner::user(&state, &id)?;
    delete::<T>(&state, &owner, (&l, &t), &item)
}

// ---- control API: a person's edit in the To Do app, one task write like Graph's ----------------

async fn control_create_item<T: TaskItem>(
    State(state): State<AppState>,
    Path((list_id, task_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response> {
    let json = create::<T>(&state, || Ok(Owner::Anyone), (&list_id, &task_id), &body)?;
    Ok(json_response(StatusCode::CREATED, json))
}

async fn control_update_item<T: TaskItem>(
    State(state): State<AppState>,
    Path((list_id, task_id, item)): TaskPath,
    body: Bytes,
) -> Result<Response> {
    let body = parse_object(&body)?;
    let json = update::<T>(&state, &Owner::Anyone, (&list_id, &task_id), &item, &body)?;
    Ok(json_response(StatusCode::OK, json))
}

async fn control_delete_item<T: TaskItem>(
    State(state): State<AppState>,
    Path((list_id, task_id, item)): TaskPath,
) -> Result<Response> {
    delete::<T>(&state, &Owner::Anyone, (&list_id, &task_id), &item)
}
