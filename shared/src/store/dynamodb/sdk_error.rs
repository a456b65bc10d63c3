//! Maps DynamoDB SDK errors to `StoreError` by what the caller should do about them.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::ports::StoreError;

/// Error codes that mean "try again later".
const TRANSIENT_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "TransactionInProgressException",
    "LimitExceededException",
];

pub(crate) fn classify<E>(err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StoreError::Transient(Box::new(err))
        }
        SdkError::ServiceError(context) => {
            let code = context.err().code().unwrap_or("");
            let status = context.raw().status().as_u16();
            if code == "ConditionalCheckFailedException" {
                StoreError::ConditionFailed(
                    context
                        .err()
                        .message()
                        .unwrap_or("the conditional request failed")
                        .to_owned(),
                )
            } else if TRANSIENT_CODES.contains(&code) || status >= 500 || status == 429 {
                StoreError::Transient(Box::new(err))
            } else {
                // ResourceNotFound, AccessDenied, UnrecognizedClient, Validation, ...: nothing a
                // retry would change.
                StoreError::Config(Box::new(err))
            }
        }
        // ConstructionFailure (bad input to the SDK itself) and future variants.
        _ => StoreError::Config(Box::new(err)),
    }
}
