//! The template's pipes (table stream to queue) and the renderer of their input templates.

use serde_json::Value as Json;

use super::ProvisionError;

/// An `AWS::Pipes::Pipe` from a table's stream to a queue. moto has no Pipes, so the local run
/// forwards stream records itself; rendering them with the template's own `InputTemplate` keeps
/// the forwarded messages identical to what the pipe sends in AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipeSpec {
    pub logical_id: String,
    /// Logical id of the table whose stream is the source (`!GetAtt T.StreamArn`).
    pub source_table: String,
    /// Logical id of the target queue (`!GetAtt Q.Arn`).
    pub target_queue: String,
    /// `TargetParameters.InputTemplate`; without one the pipe sends the record as is.
    pub input_template: Option<String>,
}

impl PipeSpec {
    /// What the pipe sends for one stream record (the record as EventBridge Pipes sees it:
    /// `{"eventName": ..., "dynamodb": {"Keys": {"id": {"S": "..."}}, ...}, ...}`).
    ///
    /// Supports the inline JSON paths of Pipes input templates (`<$.a.b.c>`); a string value is
    /// inserted JSON-escaped (the template supplies the quotes), anything else as JSON.
    pub fn render(&self, record: &Json) -> Result<String, ProvisionError> {
        let Some(template) = &self.input_template else {
            return Ok(record.to_string());
        };
        render_input_template(template, record)
            .map_err(|why| ProvisionError::Template(format!("pipe {}: {why}", self.logical_id)))
    }
}

fn render_input_template(template: &str, record: &Json) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("<$") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after
            .find('>')
            .ok_or_else(|| "unterminated <$...> in InputTemplate".to_owned())?;
        let path = &after[..end];
        let mut value = record;
        for part in path
            .trim_start_matches('$')
            .split('.')
            .filter(|p| !p.is_empty())
        {
            value = value
                .get(part)
                .ok_or_else(|| format!("record has nothing at {path}"))?;
        }
        match value {
            Json::String(text) => {
                let quoted = Json::String(text.clone()).to_string();
                // Exactly the outer quotes: an escaped quote at the end of the text must stay.
                let inner = quoted
                    .strip_prefix('"')
                    .and_then(|q| q.strip_suffix('"'))
                    .unwrap_or(&quoted);
                out.push_str(inner);
            }
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::standalone::provision::{TASKS_TABLE, WORK_QUEUE, embedded_resources};

    /// The pipe's input template and the envelope decoder must agree, or every local change
    /// would land in the DLQ in AWS.
    #[test]
    fn the_pipe_turns_a_stream_record_into_a_local_task_hint() {
        use crate::queue_message::{Hint, decode};
        let resources = embedded_resources().unwrap();
        let pipe = resources.pipe("TasksStreamPipe").unwrap();
        assert_eq!(pipe.source_table, TASKS_TABLE);
        assert_eq!(pipe.target_queue, WORK_QUEUE);
        let tasks = resources.table(TASKS_TABLE).unwrap();
        assert_eq!(tasks.stream_view_type.as_deref(), Some("KEYS_ONLY"));
        for (list_id, task_id) in [("list-1", "task-1"), ("a \"quoted\" list", "t\\1/ü")] {
            let record = serde_json::json!({
                "eventName": "MODIFY",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "Keys": {"list_id": {"S": list_id}, "id": {"S": task_id}},
                    "SequenceNumber": "100",
                    "StreamViewType": "KEYS_ONLY"
                }
            });
            let body = pipe.render(&record).unwrap();
            assert_eq!(
                decode(&body),
                Ok(Hint::LocalTask {
                    list_id: list_id.into(),
                    task_id: task_id.into()
                }),
                "{body}"
            );
        }
        let no_keys = serde_json::json!({"dynamodb": {}});
        assert!(matches!(
            pipe.render(&no_keys),
            Err(ProvisionError::Template(_))
        ));
    }
}
