//! A typed client of the emulator's control API, for the local run, the end-to-end tests and
//! benchmarks: it plays "a person in the To Do or Planner app" and reads the counters.

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("control API unreachable: {0}")]
    Http(#[from] reqwest::Error),
    #[error("control API answered {status} to {what}: {body}")]
    Status {
        what: String,
        status: u16,
        body: String,
    },
    #[error("control API answered {what} without {field}")]
    Shape { what: String, field: &'static str },
}

/// Talks to `http://127.0.0.1:PORT/_emulator`.
#[derive(Debug, Clone)]
pub struct ControlClient {
    http: reqwest::Client,
    control_url: String,
}

impl ControlClient {
    pub fn new(control_url: impl Into<String>) -> Self {
        Self {
            http: reqwest::Client::new(),
            control_url: control_url.into().trim_end_matches('/').to_owned(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ControlError> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.control_url));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            return Err(ControlError::Status {
                what: format!("{method} {path}"),
                status: status.as_u16(),
                body: text,
            });
        }
        if text.is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Creates a To Do list for `user_id`; returns its id.
    pub async fn create_todo_list(
        &self,
        user_id: &str,
        display_name: &str,
    ) -> Result<String, ControlError> {
        let path = format!("/todo/users/{user_id}/lists");
        let list = self
            .send(
                reqwest::Method::POST,
                &path,
                Some(&serde_json::json!({ "displayName": display_name })),
            )
            .await?;
        id_of(&list, &path)
    }

    /// Creates a task as a person would (notifications fire); returns the task JSON.
    pub async fn create_todo_task(
        &self,
        list_id: &str,
        task: &Value,
    ) -> Result<Value, ControlError> {
        self.send(
            reqwest::Method::POST,
            &format!("/todo/lists/{list_id}/tasks"),
            Some(task),
        )
        .await
    }

    /// Edits a task as a person would; returns the task JSON.
    pub async fn update_todo_task(
        &self,
        list_id: &str,
        task_id: &str,
        patch: &Value,
    ) -> Result<Value, ControlError> {
        self.send(
            reqwest::Method::PATCH,
            &format!("/todo/lists/{list_id}/tasks/{task_id}"),
            Some(patch),
        )
        .await
    }

    /// Deletes a task as a person would.
    pub async fn delete_todo_task(&self, list_id: &str, task_id: &str) -> Result<(), ControlError> {
        self.send(
            reqwest::Method::DELETE,
            &format!("/todo/lists/{list_id}/tasks/{task_id}"),
            None,
        )
        .await
        .map(|_| ())
    }

    /// Request counters per route and status.
    pub async fn counters(&self) -> Result<Value, ControlError> {
        self.send(reqwest::Method::GET, "/counters", None).await
    }

    /// Notification delivery statistics.
    pub async fn delivery_stats(&self) -> Result<Value, ControlError> {
        self.send(reqwest::Method::GET, "/delivery/stats", None)
            .await
    }

    /// Any other control call, for what has no typed method yet.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ControlError> {
        self.send(method, path, body).await
    }
}

/// The `id` of a created object.
pub fn id_of(value: &Value, what: &str) -> Result<String, ControlError> {
    value
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(ControlError::Shape {
            what: what.to_owned(),
            field: "id",
        })
}
