//! Reading a CloudFormation/SAM template into [`TemplateResources`]: only what can be reproduced
//! locally, refusing what cannot rather than guessing.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value as Json;

use super::yaml::yaml_to_json;
use super::{
    EMBEDDED_TEMPLATE, IndexSpec, KeyElement, KeyRole, PipeSpec, ProvisionError, QueueSpec,
    RedriveSpec, TableSpec, TemplateResources, Throughput,
};

/// Reads the tables and queues of the embedded template.
pub fn embedded_resources() -> Result<TemplateResources, ProvisionError> {
    parse_template(EMBEDDED_TEMPLATE)
}

/// Reads the tables and queues of a CloudFormation/SAM template.
///
/// CloudFormation short tags (`!Ref`, `!GetAtt`, `!Sub`, ...) are turned into their long
/// forms (`Ref`, `Fn::GetAtt`, `Fn::Sub`, ...), so a template written either way reads the same.
pub fn parse_template(yaml: &str) -> Result<TemplateResources, ProvisionError> {
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml)
        .map_err(|e| ProvisionError::Template(format!("not valid YAML: {e}")))?;
    let doc = yaml_to_json(doc);
    let resources = doc
        .get("Resources")
        .and_then(Json::as_object)
        .ok_or_else(|| ProvisionError::Template("no Resources section".to_owned()))?;

    let mut tables = Vec::new();
    let mut queues = Vec::new();
    let mut pipes = Vec::new();
    for (logical_id, resource) in resources {
        let kind = resource.get("Type").and_then(Json::as_str).unwrap_or("");
        let properties = resource
            .get("Properties")
            .cloned()
            .unwrap_or_else(|| Json::Object(serde_json::Map::new()));
        match kind {
            "AWS::DynamoDB::Table" => tables.push(parse_table(logical_id, properties)?),
            "AWS::SQS::Queue" => queues.push(parse_queue(logical_id, &properties)?),
            "AWS::Pipes::Pipe" => pipes.push(parse_pipe(logical_id, &properties)?),
            _ => {}
        }
    }
    tables.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    queues.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    pipes.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    Ok(TemplateResources {
        tables,
        queues,
        pipes,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CfnTable {
    attribute_definitions: Vec<CfnAttribute>,
    key_schema: Vec<CfnKey>,
    #[serde(default)]
    global_secondary_indexes: Vec<CfnIndex>,
    #[serde(default)]
    local_secondary_indexes: Vec<Json>,
    billing_mode: Option<String>,
    provisioned_throughput: Option<CfnThroughput>,
    stream_specification: Option<CfnStream>,
    time_to_live_specification: Option<CfnTtl>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CfnAttribute {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CfnKey {
    attribute_name: String,
    key_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CfnIndex {
    index_name: String,
    key_schema: Vec<CfnKey>,
    projection: CfnProjection,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CfnProjection {
    projection_type: Option<String>,
    #[serde(default)]
    non_key_attributes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CfnThroughput {
    read_capacity_units: i64,
    write_capacity_units: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CfnStream {
    stream_view_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CfnTtl {
    attribute_name: String,
    enabled: bool,
}

fn parse_table(logical_id: &str, properties: Json) -> Result<TableSpec, ProvisionError> {
    let table: CfnTable = serde_json::from_value(properties)
        .map_err(|e| ProvisionError::Template(format!("table {logical_id}: {e}")))?;
    if !table.local_secondary_indexes.is_empty() {
        return Err(ProvisionError::Template(format!(
            "table {logical_id}: local secondary indexes are not provisioned locally yet"
        )));
    }
    let key_schema = |keys: Vec<CfnKey>| -> Result<Vec<KeyElement>, ProvisionError> {
        keys.into_iter()
            .map(|k| {
                let role = match k.key_type.as_str() {
                    "HASH" => KeyRole::Hash,
                    "RANGE" => KeyRole::Range,
                    other => {
                        return Err(ProvisionError::Template(format!(
                            "table {logical_id}: unknown KeyType {other:?}"
                        )));
                    }
                };
                Ok(KeyElement {
                    attribute: k.attribute_name,
                    role,
                })
            })
            .collect()
    };
    let global_indexes = table
        .global_secondary_indexes
        .into_iter()
        .map(|index| {
            Ok(IndexSpec {
                name: index.index_name,
                key_schema: key_schema(index.key_schema)?,
                projection_type: index
                    .projection
                    .projection_type
                    .unwrap_or_else(|| "KEYS_ONLY".to_owned()),
                non_key_attributes: index.projection.non_key_attributes,
            })
        })
        .collect::<Result<Vec<_>, ProvisionError>>()?;
    let spec = TableSpec {
        logical_id: logical_id.to_owned(),
        attribute_types: table
            .attribute_definitions
            .into_iter()
            .map(|a| (a.attribute_name, a.attribute_type))
            .collect(),
        key_schema: key_schema(table.key_schema)?,
        global_indexes,
        billing_mode: table
            .billing_mode
            .unwrap_or_else(|| "PROVISIONED".to_owned()),
        throughput: table.provisioned_throughput.map(|t| Throughput {
            read: t.read_capacity_units,
            write: t.write_capacity_units,
        }),
        stream_view_type: table.stream_specification.map(|s| s.stream_view_type),
        ttl_attribute: table
            .time_to_live_specification
            .filter(|t| t.enabled)
            .map(|t| t.attribute_name),
    };
    // Every key attribute must be defined, or CreateTable would fail with a vaguer message.
    let keys = spec
        .key_schema
        .iter()
        .chain(spec.global_indexes.iter().flat_map(|i| i.key_schema.iter()));
    for key in keys {
        if !spec.attribute_types.contains_key(&key.attribute) {
            return Err(ProvisionError::Template(format!(
                "table {logical_id}: key attribute {:?} has no AttributeDefinition",
                key.attribute
            )));
        }
    }
    Ok(spec)
}

/// `!GetAtt Resource.Attribute` → `Resource` when the attribute is the expected one.
fn get_att_resource(value: Option<&Json>, attribute: &str) -> Option<String> {
    value?
        .get("Fn::GetAtt")?
        .as_array()
        .and_then(|parts| match parts.as_slice() {
            [Json::String(resource), Json::String(a)] if a == attribute => Some(resource.clone()),
            _ => None,
        })
}

fn parse_pipe(logical_id: &str, properties: &Json) -> Result<PipeSpec, ProvisionError> {
    let source_table =
        get_att_resource(properties.get("Source"), "StreamArn").ok_or_else(|| {
            ProvisionError::Template(format!(
                "pipe {logical_id}: Source must be !GetAtt <Table>.StreamArn"
            ))
        })?;
    let target_queue = get_att_resource(properties.get("Target"), "Arn").ok_or_else(|| {
        ProvisionError::Template(format!(
            "pipe {logical_id}: Target must be !GetAtt <Queue>.Arn"
        ))
    })?;
    let input_template = match properties.pointer("/TargetParameters/InputTemplate") {
        None => None,
        Some(Json::String(template)) => Some(template.trim().to_owned()),
        Some(_) => {
            return Err(ProvisionError::Template(format!(
                "pipe {logical_id}: InputTemplate must be a literal string"
            )));
        }
    };
    Ok(PipeSpec {
        logical_id: logical_id.to_owned(),
        source_table,
        target_queue,
        input_template,
    })
}

/// Queue properties that are SQS attributes with the same name and change behaviour locally.
const QUEUE_ATTRIBUTES: &[&str] = &[
    "ContentBasedDeduplication",
    "DelaySeconds",
    "FifoQueue",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
];

fn parse_queue(logical_id: &str, properties: &Json) -> Result<QueueSpec, ProvisionError> {
    let mut attributes = BTreeMap::new();
    for name in QUEUE_ATTRIBUTES {
        let Some(value) = properties.get(*name) else {
            continue;
        };
        let text = match value {
            Json::String(s) => s.clone(),
            Json::Number(n) => n.to_string(),
            Json::Bool(b) => b.to_string(),
            other => {
                return Err(ProvisionError::Template(format!(
                    "queue {logical_id}: {name} must be a literal, found {other}"
                )));
            }
        };
        attributes.insert((*name).to_owned(), text);
    }
    let fifo = attributes.get("FifoQueue").is_some_and(|v| v == "true");
    let redrive = match properties.get("RedrivePolicy") {
        None => None,
        Some(policy) => Some(parse_redrive(logical_id, policy)?),
    };
    Ok(QueueSpec {
        logical_id: logical_id.to_owned(),
        attributes,
        redrive,
        fifo,
    })
}

fn parse_redrive(logical_id: &str, policy: &Json) -> Result<RedriveSpec, ProvisionError> {
    let bad =
        |why: &str| ProvisionError::Template(format!("queue {logical_id}: RedrivePolicy {why}"));
    // A RedrivePolicy may also be written as a JSON string.
    let parsed;
    let policy = match policy {
        Json::String(s) => {
            parsed = serde_json::from_str::<Json>(s).map_err(|_| bad("is not JSON"))?;
            &parsed
        }
        other => other,
    };
    let target = policy
        .get("deadLetterTargetArn")
        .ok_or_else(|| bad("has no deadLetterTargetArn"))?;
    let dead_letter_queue = get_att_resource(Some(target), "Arn")
        .ok_or_else(|| bad("deadLetterTargetArn must be !GetAtt <Queue>.Arn"))?;
    let max_receive_count = match policy.get("maxReceiveCount") {
        Some(Json::Number(n)) => n.as_u64(),
        Some(Json::String(s)) => s.parse().ok(),
        _ => None,
    }
    .and_then(|n| u32::try_from(n).ok())
    .ok_or_else(|| bad("has no numeric maxReceiveCount"))?;
    Ok(RedriveSpec {
        dead_letter_queue,
        max_receive_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::standalone::provision::{DEAD_LETTER_QUEUE, SYNC_TABLE, TASKS_TABLE, WORK_QUEUE};

    fn hash(attribute: &str) -> KeyElement {
        KeyElement {
            attribute: attribute.into(),
            role: KeyRole::Hash,
        }
    }

    fn range(attribute: &str) -> KeyElement {
        KeyElement {
            attribute: attribute.into(),
            role: KeyRole::Range,
        }
    }

    #[test]
    fn reads_the_tables_of_the_real_template() {
        let resources = embedded_resources().unwrap();
        let tasks = resources.table(TASKS_TABLE).unwrap();
        assert_eq!(tasks.key_schema, vec![hash("list_id"), range("id")]);
        assert_eq!(
            tasks.attribute_types.get("list_id").map(String::as_str),
            Some("S")
        );
        assert_eq!(
            tasks.attribute_types.get("id").map(String::as_str),
            Some("S")
        );
        assert_eq!(tasks.stream_view_type.as_deref(), Some("KEYS_ONLY"));
        assert_eq!(tasks.billing_mode, "PAY_PER_REQUEST");
        assert!(tasks.global_indexes.is_empty());

        let sync = resources.table(SYNC_TABLE).unwrap();
        assert_eq!(sync.key_schema, vec![hash("pk"), range("sk")]);
        assert_eq!(sync.stream_view_type, None);
        assert_eq!(
            sync.global_indexes,
            vec![IndexSpec {
                name: "gsi1".into(),
                key_schema: vec![hash("gsi1pk"), range("gsi1sk")],
                projection_type: "ALL".into(),
                non_key_attributes: vec![],
            }]
        );
        assert_eq!(sync.attribute_types.len(), 4);
    }

    #[test]
    fn reads_the_queues_and_resolves_the_redrive_target() {
        let resources = embedded_resources().unwrap();
        let work = resources.queue(WORK_QUEUE).unwrap();
        assert_eq!(
            work.redrive,
            Some(RedriveSpec {
                dead_letter_queue: DEAD_LETTER_QUEUE.into(),
                max_receive_count: 5
            })
        );
        assert_eq!(
            work.attributes.get("VisibilityTimeout").map(String::as_str),
            Some("180")
        );
        assert!(!work.fifo);
        let dlq = resources.queue(DEAD_LETTER_QUEUE).unwrap();
        assert_eq!(dlq.redrive, None);
        assert_eq!(
            dlq.attributes
                .get("MessageRetentionPeriod")
                .map(String::as_str),
            Some("1209600")
        );
        // The pipe's own DLQ is a queue of the template too.
        assert!(resources.queue("PipeDeadLetterQueue").is_some());
    }

    #[test]
    fn short_and_long_intrinsic_forms_read_the_same() {
        let short = r#"
Resources:
  Dlq:
    Type: AWS::SQS::Queue
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-q"
      VisibilityTimeout: 60
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: 3
"#;
        let long = r#"
Resources:
  Dlq:
    Type: AWS::SQS::Queue
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: {"Fn::Sub": "${AWS::StackName}-q"}
      VisibilityTimeout: "60"
      RedrivePolicy: {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}, "maxReceiveCount": "3"}
"#;
        let a = parse_template(short).unwrap();
        let b = parse_template(long).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.queue("Q")
                .unwrap()
                .redrive
                .as_ref()
                .unwrap()
                .max_receive_count,
            3
        );
    }

    #[test]
    fn rejects_what_it_cannot_reproduce() {
        let undefined_key = r#"
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: a, AttributeType: S}]
      KeySchema: [{AttributeName: b, KeyType: HASH}]
"#;
        let err = parse_template(undefined_key).unwrap_err();
        assert!(err.to_string().contains("\"b\""), "{err}");

        let redrive_by_name = r#"
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: "arn:aws:sqs:us-east-1:1:x", maxReceiveCount: 3}
"#;
        assert!(matches!(
            parse_template(redrive_by_name),
            Err(ProvisionError::Template(_))
        ));
        assert!(matches!(
            parse_template("- just a list"),
            Err(ProvisionError::Template(_))
        ));
        assert!(matches!(
            parse_template(": : :"),
            Err(ProvisionError::Template(_))
        ));
    }
}
