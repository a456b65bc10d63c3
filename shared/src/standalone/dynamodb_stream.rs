//! Reads a table's DynamoDB stream over the DynamoDB Streams JSON API, for emulators that have
//! streams but no EventBridge Pipes (moto): each poll returns the records written since the last
//! one, which [`PipeForwarder`](super::stream_forwarder::PipeForwarder) turns into the pipe's
//! hints. It speaks the API with reqwest rather than adding `aws-sdk-dynamodbstreams` for three
//! calls; requests are not signed, which emulators accept and AWS does not (in AWS the pipe
//! itself reads the stream).

use serde_json::{Value as Json, json};
use tokio::sync::Mutex;

use crate::ports::HintSend;
use crate::standalone::stream_forwarder::{ForwardError, PipeForwarder};

/// Why the stream could not be read: the endpoint is down or answered something else.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("the DynamoDB Streams API at {endpoint} failed on {call}: {reason}")]
    Api {
        endpoint: String,
        call: &'static str,
        reason: String,
    },
    #[error(transparent)]
    Forward(#[from] ForwardError),
}

/// One shard's position: its iterator and the last sequence number handed out (a consumer
/// checkpoints by sequence number; moto may hand the last record out again).
#[derive(Debug)]
struct Shard {
    iterator: Option<String>,
    last: u128,
}

/// A consumer of one stream, from its start (`TRIM_HORIZON`).
#[derive(Debug)]
pub struct StreamReader {
    http: reqwest::Client,
    endpoint: String,
    shards: Mutex<Vec<Shard>>,
}

impl StreamReader {
    /// Opens every shard of the stream `stream_arn` at `endpoint` (e.g. moto's).
    pub async fn open(endpoint: &str, stream_arn: &str) -> Result<Self, StreamError> {
        let http = reqwest::Client::new();
        let described = call(
            &http,
            endpoint,
            "DescribeStream",
            json!({"StreamArn": stream_arn}),
        )
        .await?;
        let mut shards = Vec::new();
        let listed = described["StreamDescription"]["Shards"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for shard in listed {
            let it = call(
                &http,
                endpoint,
                "GetShardIterator",
                json!({"StreamArn": stream_arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"}),
            )
            .await?;
            shards.push(Shard {
                iterator: it["ShardIterator"].as_str().map(str::to_owned),
                last: 0,
            });
        }
        Ok(Self {
            http,
            endpoint: endpoint.to_owned(),
            shards: Mutex::new(shards),
        })
    }

    /// The records written since the last call, in stream order per shard.
    pub async fn records(&self) -> Result<Vec<Json>, StreamError> {
        let mut shards = self.shards.lock().await;
        let mut out = Vec::new();
        for shard in shards.iter_mut() {
            let Some(iterator) = shard.iterator.clone() else {
                continue;
            };
            let page = call(
                &self.http,
                &self.endpoint,
                "GetRecords",
                json!({"ShardIterator": iterator}),
            )
            .await?;
            for record in page["Records"].as_array().cloned().unwrap_or_default() {
                let seq: u128 = record["dynamodb"]["SequenceNumber"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                if seq > shard.last {
                    shard.last = seq;
                    out.push(record);
                }
            }
            // A closed shard has no next iterator: it has nothing more to give.
            shard.iterator = page["NextShardIterator"].as_str().map(str::to_owned);
        }
        Ok(out)
    }

    /// Sends the pipe's hint for every record since the last call; how many were sent. A
    /// failed send loses those records for this reader (as a pipe without retries would): the
    /// scheduler's sweeps are the safety net.
    pub async fn forward_new<Q: HintSend>(
        &self,
        pipe: &PipeForwarder,
        queue: &Q,
    ) -> Result<usize, StreamError> {
        let records = self.records().await?;
        Ok(pipe.forward(&records, queue).await?)
    }
}

async fn call(
    http: &reqwest::Client,
    endpoint: &str,
    target: &'static str,
    body: Json,
) -> Result<Json, StreamError> {
    let failed = |reason: String| StreamError::Api {
        endpoint: endpoint.to_owned(),
        call: target,
        reason,
    };
    let response = http
        .post(endpoint)
        .header("Content-Type", "application/x-amz-json-1.0")
        .header("X-Amz-Target", format!("DynamoDBStreams_20120810.{target}"))
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, \
             SignedHeaders=host, Signature=unsigned",
        )
        .json(&body)
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    let status = response.status();
    let value: Json = response.json().await.map_err(|e| failed(e.to_string()))?;
    if !status.is_success() {
        return Err(failed(format!("{status}: {value}")));
    }
    Ok(value)
}
