//! The two bindings the walk-through uses, made on the emulator at start (unless
//! `--no-examples`): local list `team` ↔ a To Do list "Team tasks", local list `ops` ↔ a Planner
//! plan "Operations". They are saved as an operator's `bindings` command saves them; the first
//! scheduler tick then gives the To Do list its subscription and both their first sweep.

use graph_emulator::ControlClient;
use serde_json::json;
use tasksync::model::Binding;
use tasksync::ports::BindingSave;
use tasksync::store::DynamoSyncStore;

use super::super::LocalRunError;
use super::super::demo::{PLANNER_LIST, TODO_LIST};

pub const TODO_LIST_NAME: &str = "Team tasks";
pub const PLAN_TITLE: &str = "Operations";

/// What the examples made, for the narration and the person's curl example.
pub struct Examples {
    pub user_id: String,
    pub todo_list_id: String,
    pub plan_id: String,
}

pub async fn create(
    control: &ControlClient,
    user_id: &str,
    store: &DynamoSyncStore,
) -> Result<Examples, LocalRunError> {
    let todo_list_id = control.create_todo_list(user_id, TODO_LIST_NAME).await?;
    let plan = control
        .call(
            reqwest::Method::POST,
            "/planner/plans",
            Some(&json!({ "title": PLAN_TITLE })),
        )
        .await?;
    let plan_id = plan["id"]
        .as_str()
        .ok_or(LocalRunError::Shape("a plan id"))?
        .to_owned();
    store
        .save_binding(&Binding::todo(
            "example-team",
            TODO_LIST,
            user_id,
            &todo_list_id,
        ))
        .await?;
    store
        .save_binding(&Binding::planner("example-ops", PLANNER_LIST, &plan_id))
        .await?;
    Ok(Examples {
        user_id: user_id.to_owned(),
        todo_list_id,
        plan_id,
    })
}
