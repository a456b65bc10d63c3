//! The Graph client secret: from the environment in tests and locally, from AWS Secrets Manager
//! in AWS, fetched once per cold start (the function's IAM policy allows reading that one secret
//! only). The value never reaches a log line or an error message.

use crate::config::SecretSource;
use crate::graph::Secret;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The secret could not be read: wrong ARN, no permission, or Secrets Manager unavailable.
    /// The message names the ARN and the SDK's error, never a value.
    #[error("cannot read the Graph client secret {arn}: {cause}")]
    Unreadable { arn: String, cause: String },
    /// The secret exists but holds no string value (e.g. only a binary one).
    #[error("the Graph client secret {0} has no string value")]
    Empty(String),
}

/// Resolves where the secret comes from into its value.
pub async fn graph_client_secret(
    source: &SecretSource,
    aws: &aws_config::SdkConfig,
) -> Result<Secret, SecretError> {
    match source {
        SecretSource::Inline(value) => Ok(Secret::new(value.clone())),
        SecretSource::SecretsManager(arn) => {
            let client = aws_sdk_secretsmanager::Client::new(aws);
            let output = client
                .get_secret_value()
                .secret_id(arn)
                .send()
                .await
                .map_err(|e| SecretError::Unreadable {
                    arn: arn.clone(),
                    cause: aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
                })?;
            output
                .secret_string()
                .filter(|s| !s.trim().is_empty())
                .map(|s| Secret::new(s.trim().to_owned()))
                .ok_or_else(|| SecretError::Empty(arn.clone()))
        }
    }
}
