//! Creates the DynamoDB tables and SQS queues of `template.yaml` against any endpoint (moto in
//! the tests, moto or a real account in the local run).
//!
//! DESIGN.md makes template.yaml the single source of truth for AWS resources, so nothing here
//! names a key, an index or a redrive limit: everything is read from the template embedded at
//! build time. Each resource gets the physical name `{prefix}-{LogicalId}`, so parallel tests
//! sharing one moto server never collide.
//!
//! Only what changes behaviour is reproduced (keys, indexes, streams, TTL, queue timings and the
//! redrive policy). Properties that only matter in a real account (encryption, point-in-time
//! recovery, retention policies, tags) are read past.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::client::Waiters as _;
use aws_sdk_dynamodb::types as ddb;
use aws_sdk_sqs::types::QueueAttributeName;
use serde::Deserialize;
use serde_json::Value as Json;

/// The template this build was compiled with.
pub const EMBEDDED_TEMPLATE: &str = include_str!("../../../template.yaml");

/// Logical ids the rest of the code relies on (typed accessors of [`Provisioned`]).
pub const TASKS_TABLE: &str = "TasksTable";
pub const SYNC_TABLE: &str = "SyncTable";
pub const WORK_QUEUE: &str = "WorkQueue";
pub const DEAD_LETTER_QUEUE: &str = "DeadLetterQueue";

/// How long to wait for a created table to become ACTIVE before giving up.
const TABLE_ACTIVE_DEADLINE: Duration = Duration::from_secs(60);

/// Why provisioning failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The template cannot be read, or declares a resource in a way this code cannot reproduce.
    #[error("template.yaml: {0}")]
    Template(String),
    /// A resource the code relies on is not declared in the template.
    #[error("template.yaml declares no {0}")]
    MissingResource(String),
    #[error("creating DynamoDB table {table} failed: {source}")]
    Dynamo {
        table: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("creating SQS queue {queue} failed: {source}")]
    Sqs {
        queue: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Key role of an attribute in a key schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    Hash,
    Range,
}

/// One element of a key schema, as the template declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyElement {
    pub attribute: String,
    pub role: KeyRole,
}

/// A global secondary index declared on a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: String,
    pub key_schema: Vec<KeyElement>,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection_type: String,
    pub non_key_attributes: Vec<String>,
}

/// Capacity of a table that is not on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throughput {
    pub read: i64,
    pub write: i64,
}

/// An `AWS::DynamoDB::Table` of the template, reduced to what behaviour depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub logical_id: String,
    /// Attribute name to scalar type (`S`, `N` or `B`).
    pub attribute_types: BTreeMap<String, String>,
    pub key_schema: Vec<KeyElement>,
    pub global_indexes: Vec<IndexSpec>,
    /// `PAY_PER_REQUEST` or `PROVISIONED`.
    pub billing_mode: String,
    pub throughput: Option<Throughput>,
    /// `KEYS_ONLY`, `NEW_IMAGE`, ... when the table has a stream.
    pub stream_view_type: Option<String>,
    /// The TTL attribute when time to live is enabled.
    pub ttl_attribute: Option<String>,
}

/// The dead-letter part of a queue's redrive policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedriveSpec {
    /// Logical id of the dead-letter queue (resolved from `!GetAtt X.Arn`).
    pub dead_letter_queue: String,
    pub max_receive_count: u32,
}

/// An `AWS::SQS::Queue` of the template, reduced to what behaviour depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    pub logical_id: String,
    /// SQS attribute name to value, as `SetQueueAttributes` takes them (redrive excluded).
    pub attributes: BTreeMap<String, String>,
    pub redrive: Option<RedriveSpec>,
    pub fifo: bool,
}

/// Every table and queue the template declares, in a stable (logical id) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateResources {
    pub tables: Vec<TableSpec>,
    pub queues: Vec<QueueSpec>,
    pub pipes: Vec<PipeSpec>,
}

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

impl TemplateResources {
    pub fn table(&self, logical_id: &str) -> Option<&TableSpec> {
        self.tables.iter().find(|t| t.logical_id == logical_id)
    }

    pub fn queue(&self, logical_id: &str) -> Option<&QueueSpec> {
        self.queues.iter().find(|q| q.logical_id == logical_id)
    }

    pub fn pipe(&self, logical_id: &str) -> Option<&PipeSpec> {
        self.pipes.iter().find(|p| p.logical_id == logical_id)
    }
}

/// A created table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedTable {
    pub name: String,
    pub stream_arn: Option<String>,
}

/// A created queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedQueue {
    pub name: String,
    pub url: String,
    pub arn: String,
}

/// A pipe of the template with its source and target resolved to the created resources. Nothing
/// is created for it (moto has no Pipes): the local stream forwarder plays its part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedPipe {
    pub spec: PipeSpec,
    pub source_table: String,
    pub source_stream_arn: Option<String>,
    pub target_queue_url: String,
}

/// What [`provision`] created, by logical id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    pub prefix: String,
    pub tables: BTreeMap<String, ProvisionedTable>,
    pub queues: BTreeMap<String, ProvisionedQueue>,
    pub pipes: Vec<ProvisionedPipe>,
    // The four resources the code always needs, checked present when provisioning.
    tasks_table: String,
    sync_table: String,
    work_queue_url: String,
    dead_letter_queue_url: String,
}

impl Provisioned {
    /// Physical name of `TasksTable` (the `TASKS_TABLE` variable of the functions).
    pub fn tasks_table(&self) -> &str {
        &self.tasks_table
    }

    /// Physical name of `SyncTable` (`SYNC_TABLE`).
    pub fn sync_table(&self) -> &str {
        &self.sync_table
    }

    /// URL of `WorkQueue` (`WORK_QUEUE_URL`).
    pub fn work_queue_url(&self) -> &str {
        &self.work_queue_url
    }

    /// URL of `DeadLetterQueue`, where the work queue's redrive policy sends failing messages.
    pub fn dead_letter_queue_url(&self) -> &str {
        &self.dead_letter_queue_url
    }

    /// Stream ARN of `TasksTable` (what the pipe reads; the local forwarder reads it too).
    pub fn tasks_stream_arn(&self) -> Option<&str> {
        self.tables
            .get(TASKS_TABLE)
            .and_then(|t| t.stream_arn.as_deref())
    }

    pub fn table_name(&self, logical_id: &str) -> Option<&str> {
        self.tables.get(logical_id).map(|t| t.name.as_str())
    }

    pub fn queue_url(&self, logical_id: &str) -> Option<&str> {
        self.queues.get(logical_id).map(|q| q.url.as_str())
    }
}

/// Physical name of a resource for a prefix: `{prefix}-{LogicalId}`.
pub fn physical_name(prefix: &str, logical_id: &str) -> String {
    format!("{prefix}-{logical_id}")
}

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

fn yaml_to_json(value: serde_yaml_ng::Value) -> Json {
    use serde_yaml_ng::Value as Y;
    match value {
        Y::Null => Json::Null,
        Y::Bool(b) => Json::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Json::Null, Json::Number)
            }
        }
        Y::String(s) => Json::String(s),
        Y::Sequence(items) => Json::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| (yaml_key(k), yaml_to_json(v)))
                .collect(),
        ),
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!').to_owned();
            let inner = yaml_to_json(tagged.value);
            let (key, inner) = match name.as_str() {
                "Ref" | "Condition" => (name, inner),
                // `!GetAtt A.B` is the short form of `Fn::GetAtt: [A, B]`.
                "GetAtt" => match inner {
                    Json::String(s) => {
                        let parts = match s.split_once('.') {
                            Some((resource, attribute)) => vec![resource.into(), attribute.into()],
                            None => vec![Json::String(s)],
                        };
                        ("Fn::GetAtt".to_owned(), Json::Array(parts))
                    }
                    other => ("Fn::GetAtt".to_owned(), other),
                },
                _ => (format!("Fn::{name}"), inner),
            };
            let mut map = serde_json::Map::new();
            map.insert(key, inner);
            Json::Object(map)
        }
    }
}

fn yaml_key(key: serde_yaml_ng::Value) -> String {
    match key {
        serde_yaml_ng::Value::String(s) => s,
        other => match yaml_to_json(other) {
            Json::String(s) => s,
            json => json.to_string(),
        },
    }
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

/// Creates every table and queue of the embedded template under `prefix`.
pub async fn provision(
    dynamodb: &aws_sdk_dynamodb::Client,
    sqs: &aws_sdk_sqs::Client,
    prefix: &str,
) -> Result<Provisioned, ProvisionError> {
    provision_resources(dynamodb, sqs, prefix, &embedded_resources()?).await
}

/// Creates the given tables and queues under `prefix` (dead-letter queues before the queues
/// that redrive to them).
pub async fn provision_resources(
    dynamodb: &aws_sdk_dynamodb::Client,
    sqs: &aws_sdk_sqs::Client,
    prefix: &str,
    resources: &TemplateResources,
) -> Result<Provisioned, ProvisionError> {
    // Check first, so a template missing one of them creates nothing.
    for id in [TASKS_TABLE, SYNC_TABLE] {
        if resources.table(id).is_none() {
            return Err(ProvisionError::MissingResource(format!("table {id}")));
        }
    }
    for id in [WORK_QUEUE, DEAD_LETTER_QUEUE] {
        if resources.queue(id).is_none() {
            return Err(ProvisionError::MissingResource(format!("queue {id}")));
        }
    }

    let mut tables = BTreeMap::new();
    for spec in &resources.tables {
        let table = create_table(dynamodb, prefix, spec).await?;
        tables.insert(spec.logical_id.clone(), table);
    }

    let mut queues: BTreeMap<String, ProvisionedQueue> = BTreeMap::new();
    let mut pending: Vec<&QueueSpec> = resources.queues.iter().collect();
    while !pending.is_empty() {
        let ready = pending.iter().position(|q| {
            q.redrive
                .as_ref()
                .is_none_or(|r| queues.contains_key(&r.dead_letter_queue))
        });
        let Some(index) = ready else {
            let names: Vec<&str> = pending.iter().map(|q| q.logical_id.as_str()).collect();
            return Err(ProvisionError::Template(format!(
                "queues {names:?} redrive to queues that are not declared (or to each other)"
            )));
        };
        let spec = pending.remove(index);
        let dead_letter_arn = spec
            .redrive
            .as_ref()
            .and_then(|r| queues.get(&r.dead_letter_queue))
            .map(|q| q.arn.clone());
        let queue = create_queue(sqs, prefix, spec, dead_letter_arn.as_deref()).await?;
        queues.insert(spec.logical_id.clone(), queue);
    }

    let table = |id: &str| {
        tables
            .get(id)
            .map(|t| t.name.clone())
            .ok_or_else(|| ProvisionError::MissingResource(format!("table {id}")))
    };
    let queue = |id: &str| {
        queues
            .get(id)
            .map(|q| q.url.clone())
            .ok_or_else(|| ProvisionError::MissingResource(format!("queue {id}")))
    };
    let pipes = resources
        .pipes
        .iter()
        .map(|pipe| {
            let source = tables.get(&pipe.source_table).ok_or_else(|| {
                ProvisionError::MissingResource(format!(
                    "table {} (source of pipe {})",
                    pipe.source_table, pipe.logical_id
                ))
            })?;
            Ok(ProvisionedPipe {
                spec: pipe.clone(),
                source_table: source.name.clone(),
                source_stream_arn: source.stream_arn.clone(),
                target_queue_url: queue(&pipe.target_queue)?,
            })
        })
        .collect::<Result<Vec<_>, ProvisionError>>()?;
    Ok(Provisioned {
        prefix: prefix.to_owned(),
        pipes,
        tasks_table: table(TASKS_TABLE)?,
        sync_table: table(SYNC_TABLE)?,
        work_queue_url: queue(WORK_QUEUE)?,
        dead_letter_queue_url: queue(DEAD_LETTER_QUEUE)?,
        tables,
        queues,
    })
}

fn key_elements(
    keys: &[KeyElement],
) -> Result<Vec<ddb::KeySchemaElement>, aws_sdk_dynamodb::error::BuildError> {
    keys.iter()
        .map(|k| {
            ddb::KeySchemaElement::builder()
                .attribute_name(&k.attribute)
                .key_type(match k.role {
                    KeyRole::Hash => ddb::KeyType::Hash,
                    KeyRole::Range => ddb::KeyType::Range,
                })
                .build()
        })
        .collect()
}

async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    prefix: &str,
    spec: &TableSpec,
) -> Result<ProvisionedTable, ProvisionError> {
    let name = physical_name(prefix, &spec.logical_id);
    let fail = |e: Box<dyn std::error::Error + Send + Sync>| ProvisionError::Dynamo {
        table: name.clone(),
        source: e,
    };
    let build = |e: aws_sdk_dynamodb::error::BuildError| fail(Box::new(e));

    let attributes = spec
        .attribute_types
        .iter()
        .map(|(attribute, kind)| {
            ddb::AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ddb::ScalarAttributeType::from(kind.as_str()))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(build)?;
    let throughput = match spec.throughput {
        Some(t) => Some(
            ddb::ProvisionedThroughput::builder()
                .read_capacity_units(t.read)
                .write_capacity_units(t.write)
                .build()
                .map_err(build)?,
        ),
        None => None,
    };
    let mut indexes = Vec::new();
    for index in &spec.global_indexes {
        let projection = ddb::Projection::builder()
            .projection_type(ddb::ProjectionType::from(index.projection_type.as_str()))
            .set_non_key_attributes(
                (!index.non_key_attributes.is_empty()).then(|| index.non_key_attributes.clone()),
            )
            .build();
        indexes.push(
            ddb::GlobalSecondaryIndex::builder()
                .index_name(&index.name)
                .set_key_schema(Some(key_elements(&index.key_schema).map_err(build)?))
                .projection(projection)
                .set_provisioned_throughput(throughput.clone())
                .build()
                .map_err(build)?,
        );
    }
    let stream = match &spec.stream_view_type {
        Some(view) => Some(
            ddb::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(ddb::StreamViewType::from(view.as_str()))
                .build()
                .map_err(build)?,
        ),
        None => None,
    };

    let created = client
        .create_table()
        .table_name(&name)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_elements(&spec.key_schema).map_err(build)?))
        .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
        .billing_mode(ddb::BillingMode::from(spec.billing_mode.as_str()))
        .set_provisioned_throughput(throughput)
        .set_stream_specification(stream)
        .send()
        .await
        .map_err(|e| fail(Box::new(e)))?;
    let stream_arn = created
        .table_description()
        .and_then(|d| d.latest_stream_arn())
        .map(str::to_owned);

    client
        .wait_until_table_exists()
        .table_name(&name)
        .wait(TABLE_ACTIVE_DEADLINE)
        .await
        .map_err(|e| fail(Box::new(e)))?;

    if let Some(attribute) = &spec.ttl_attribute {
        let ttl = ddb::TimeToLiveSpecification::builder()
            .attribute_name(attribute)
            .enabled(true)
            .build()
            .map_err(build)?;
        client
            .update_time_to_live()
            .table_name(&name)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| fail(Box::new(e)))?;
    }
    Ok(ProvisionedTable { name, stream_arn })
}

async fn create_queue(
    client: &aws_sdk_sqs::Client,
    prefix: &str,
    spec: &QueueSpec,
    dead_letter_arn: Option<&str>,
) -> Result<ProvisionedQueue, ProvisionError> {
    let mut name = physical_name(prefix, &spec.logical_id);
    if spec.fifo {
        name.push_str(".fifo");
    }
    let fail = |e: Box<dyn std::error::Error + Send + Sync>| ProvisionError::Sqs {
        queue: name.clone(),
        source: e,
    };
    let mut attributes: HashMap<QueueAttributeName, String> = spec
        .attributes
        .iter()
        .map(|(k, v)| (QueueAttributeName::from(k.as_str()), v.clone()))
        .collect();
    if let (Some(redrive), Some(arn)) = (&spec.redrive, dead_letter_arn) {
        let policy = serde_json::json!({
            "deadLetterTargetArn": arn,
            "maxReceiveCount": redrive.max_receive_count,
        });
        attributes.insert(QueueAttributeName::RedrivePolicy, policy.to_string());
    }
    let created = client
        .create_queue()
        .queue_name(&name)
        .set_attributes((!attributes.is_empty()).then_some(attributes))
        .send()
        .await
        .map_err(|e| fail(Box::new(e)))?;
    let url = created
        .queue_url()
        .ok_or_else(|| fail("CreateQueue returned no QueueUrl".into()))?
        .to_owned();
    let described = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| fail(Box::new(e)))?;
    let arn = described
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .ok_or_else(|| fail("GetQueueAttributes returned no QueueArn".into()))?
        .clone();
    Ok(ProvisionedQueue { name, url, arn })
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn physical_names_carry_the_prefix() {
        assert_eq!(physical_name("t-42", "WorkQueue"), "t-42-WorkQueue");
    }
}
