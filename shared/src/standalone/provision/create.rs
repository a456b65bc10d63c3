//! Creating the template's tables and queues through the SDK clients.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::client::Waiters as _;
use aws_sdk_dynamodb::types as ddb;
use aws_sdk_sqs::types::QueueAttributeName;

use super::{
    DEAD_LETTER_QUEUE, KeyElement, KeyRole, ProvisionError, Provisioned, ProvisionedPipe,
    ProvisionedQueue, ProvisionedTable, QueueSpec, SYNC_TABLE, TASKS_TABLE, TableSpec,
    TemplateResources, WORK_QUEUE, embedded_resources, physical_name,
};

/// How long to wait for a created table to become ACTIVE before giving up.
const TABLE_ACTIVE_DEADLINE: Duration = Duration::from_secs(60);

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
