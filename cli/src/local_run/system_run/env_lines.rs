//! What `tasksync local` prints on start. Standard output holds only `export NAME='value'`
//! lines and shell comments, so `tasksync local > local.env` in one terminal and `. ./local.env`
//! in another (or copying the lines) gives an agent, the AWS CLI and the other `tasksync`
//! commands the system's environment; everything said about what happens goes to standard error.

use std::io::Write;

use super::aws_side::{AwsSide, DUMMY_KEY};
use super::graph_side::GraphSide;

/// The last line on standard output: the system is ready.
pub const READY_LINE: &str = "# tasksync local is running; Ctrl-C stops it";

/// The variables, with the names shared/src/config.rs and the AWS SDK read.
pub fn env_vars(
    aws: &AwsSide,
    graph: &GraphSide,
    webhook_base_url: &str,
) -> Vec<(&'static str, String)> {
    let mut vars = Vec::new();
    if let Some(endpoint) = &aws.endpoint {
        vars.push(("AWS_ENDPOINT_URL", endpoint.clone()));
    }
    vars.push(("AWS_REGION", aws.region()));
    // boto3 (and so Python agents) reads only this one.
    vars.push(("AWS_DEFAULT_REGION", aws.region()));
    if aws.endpoint.is_some() {
        vars.push(("AWS_ACCESS_KEY_ID", DUMMY_KEY.to_owned()));
        vars.push(("AWS_SECRET_ACCESS_KEY", DUMMY_KEY.to_owned()));
    }
    let resources = &aws.deployment.resources;
    vars.extend([
        ("TASKS_TABLE", resources.tasks_table.clone()),
        ("SYNC_TABLE", resources.sync_table.clone()),
        ("WORK_QUEUE_URL", resources.work_queue_url.clone()),
        ("GRAPH_BASE_URL", graph.graph_base_url.clone()),
        ("GRAPH_TOKEN_URL", graph.token_url.clone()),
        ("GRAPH_TENANT_ID", graph.tenant_id.clone()),
        ("GRAPH_CLIENT_ID", graph.client_id.clone()),
    ]);
    if let Some(secret) = &graph.emulator_secret {
        vars.push(("GRAPH_CLIENT_SECRET", secret.clone()));
    }
    vars.push(("WEBHOOK_BASE_URL", webhook_base_url.to_owned()));
    if let Some(url) = graph.emulator_url() {
        vars.push(("GRAPH_EMULATOR_URL", url));
    }
    vars
}

/// `'value'` for a POSIX shell.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The export lines, then `notes` as shell comments, then [`READY_LINE`].
pub fn print_exports(
    vars: &[(&'static str, String)],
    notes: &[String],
    out: &mut impl Write,
) -> std::io::Result<()> {
    for (name, value) in vars {
        writeln!(out, "export {name}={}", shell_quote(value))?;
    }
    for note in notes {
        writeln!(out, "# {note}")?;
    }
    writeln!(out, "{READY_LINE}")?;
    out.flush()
}

/// The AWS CLI command that writes a task item per the contract (docs/aws-resources.md).
pub fn put_item_example(list: &str) -> String {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    format!(
        "aws dynamodb put-item --table-name \"$TASKS_TABLE\" --item '{{\"list_id\":{{\"S\":\"{list}\"}},\
         \"id\":{{\"S\":\"task-0001\"}},\"title\":{{\"S\":\"Order the spare parts\"}},\
         \"notes\":{{\"S\":\"Two pumps for site B\"}},\"status\":{{\"S\":\"not_started\"}},\
         \"version\":{{\"N\":\"1\"}},\"updated_at\":{{\"S\":\"{now}\"}},\
         \"origin\":{{\"S\":\"app:my-agent\"}}}}'"
    )
}

/// A person creating a task in a To Do list, through the emulator's control API.
pub fn person_example(todo_list_id: &str) -> String {
    format!(
        "curl -s -X POST \"$GRAPH_EMULATOR_URL/_emulator/todo/lists/{todo_list_id}/tasks\" \
         -H 'content-type: application/json' -d '{{\"title\":\"Call the supplier\"}}'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_for_the_shell() {
        assert_eq!(shell_quote("http://x/y"), "'http://x/y'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
