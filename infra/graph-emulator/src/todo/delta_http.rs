//! Task delta over HTTP (docs/graph-behaviour.md §3.3): which token a request carries, the page
//! size it prefers, the links of a page, and the 410 of an expired token; plus the control API that
//! expires tokens or shortens their lifetime. The rounds themselves are computed in `delta`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Result, TodoError, delta, json_response, known_user, parse_object};
use crate::errors::graph_error;
use crate::state::{AppState, lock};

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

pub(super) async fn delta_tasks(
    State(state): State<AppState>,
    Path((id, list_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
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

pub(super) async fn control_expire_delta(State(state): State<AppState>) -> Response {
    lock(&state.todo).expire_delta_tokens();
    StatusCode::NO_CONTENT.into_response()
}

/// `{"seconds": N}`: delta and skip tokens older than N seconds (by the emulator clock) answer 410.
pub(super) async fn control_set_retention(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response> {
    let body = parse_object(&body)?;
    let seconds = body.get("seconds").and_then(Value::as_u64).ok_or_else(|| {
        TodoError::BadRequest("seconds (a non-negative integer) is required.".into())
    })?;
    lock(&state.todo).delta_retention = Some(std::time::Duration::from_secs(seconds));
    Ok(StatusCode::NO_CONTENT.into_response())
}
