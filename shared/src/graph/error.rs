//! One error type for every Graph call, split by what the caller should do, and the mapping from
//! an HTTP status plus Graph's error body (docs/graph-behaviour.md §0) to it.

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The item is gone (404).
    #[error("not found")]
    NotFound,
    /// 409/412: re-read and merge.
    #[error("precondition failed or conflict (HTTP {status})")]
    Conflict { status: u16 },
    /// 429 (or 503 with Retry-After): try again after the wait. Also returned, without waiting,
    /// when the wait would outlast the caller's deadline.
    #[error("throttled; retry after {retry_after:?}")]
    Throttled { retry_after: Duration },
    /// 5xx, timeouts, connection resets.
    #[error("transient failure: {0}")]
    Transient(String),
    /// 403: a quota code (`MaximumActiveTasksInProject`, ...) or a missing permission; see
    /// [`GraphError::is_quota`].
    #[error("forbidden ({code}): {message}")]
    Forbidden { code: String, message: String },
    /// 400 with Graph's code and message: give up on this item.
    #[error("bad request ({code}): {message}")]
    BadRequest { code: String, message: String },
    /// A delta token expired (410, `syncStateNotFound`, `resyncRequired`): start over.
    #[error("delta token expired; start over")]
    DeltaExpired,
    /// Wrong credentials, app not consented: fix the configuration. Never contains the secret.
    #[error("Graph configuration error: {0}")]
    Config(String),
    /// A response that does not have the documented shape.
    #[error("unexpected response from Graph: {0}")]
    Protocol(String),
}

/// The Planner 403 codes that mean "a service limit was hit" (docs/graph-behaviour.md §2.8), plus
/// Graph's generic `quotaLimitReached` (§0). Everything else under 403 is a permission problem.
const QUOTA_CODES: &[&str] = &[
    "MaximumProjectsOwnedByUser",
    "MaximumProjectsSharedWithUser",
    "MaximumTasksCreatedByUser",
    "MaximumTasksAssignedToUser",
    "MaximumTasksInProject",
    "MaximumActiveTasksInProject",
    "MaximumBucketsInProject",
    "MaximumUsersSharedWithProject",
    "MaximumReferencesOnTask",
    "MaximumChecklistItemsOnTask",
    "MaximumAssigneesInTasks",
    "MaximumPlannerPlans",
    "quotaLimitReached",
];

impl GraphError {
    /// True for a 403 caused by a service limit: the item is rejected but the app's permissions
    /// are fine, so the caller marks the item with the reason and carries on with the rest.
    pub fn is_quota(&self) -> bool {
        match self {
            GraphError::Forbidden { code, .. } => {
                code.starts_with("Maximum")
                    || QUOTA_CODES.iter().any(|q| q.eq_ignore_ascii_case(code))
            }
            _ => false,
        }
    }

    /// True when the same call may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            GraphError::Throttled { .. } | GraphError::Transient(_)
        )
    }

    /// The wait Graph asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GraphError::Throttled { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// A short stable label for counters and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            GraphError::NotFound => "not_found",
            GraphError::Conflict { .. } => "conflict",
            GraphError::Throttled { .. } => "throttled",
            GraphError::Transient(_) => "transient",
            GraphError::Forbidden { .. } => "forbidden",
            GraphError::BadRequest { .. } => "bad_request",
            GraphError::DeltaExpired => "delta_expired",
            GraphError::Config(_) => "config",
            GraphError::Protocol(_) => "protocol",
        }
    }
}

/// Graph's error body: `{"error":{"code","message",...}}` (docs/graph-behaviour.md §0).
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: ErrorDetail,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// The `code` and `message` of a Graph error body; empty strings when the body has another shape
/// (a proxy's HTML page, an empty 503).
pub(crate) fn parse_error_body(body: &[u8]) -> (String, String) {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    (parsed.error.code, parsed.error.message)
}

/// What the operation is, for the parts of the mapping that depend on it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ErrorContext {
    /// The application permission the call needs, named in permission errors so the operator
    /// knows what to grant (docs/graph-behaviour.md §2.10, §3.2, §1.2).
    pub permission: &'static str,
    /// A delta call: 410 means "start over" rather than "gone".
    pub delta: bool,
}

/// Maps a non-success Graph response to what the caller should do. `retry_after` is the parsed
/// `Retry-After` header; `fallback_wait` is used for a 429 without one (docs/graph-behaviour.md §5:
/// without Retry-After, back off).
pub(crate) fn classify(
    status: u16,
    retry_after: Option<Duration>,
    fallback_wait: Duration,
    body: &[u8],
    ctx: ErrorContext,
) -> GraphError {
    let (code, message) = parse_error_body(body);
    // Expired delta tokens come back as assorted 4xx codes (docs/graph-behaviour.md §3.3).
    if code.eq_ignore_ascii_case("syncStateNotFound") || code.eq_ignore_ascii_case("resyncRequired")
    {
        return GraphError::DeltaExpired;
    }
    match status {
        404 => GraphError::NotFound,
        409 | 412 => GraphError::Conflict { status },
        410 if ctx.delta => GraphError::DeltaExpired,
        410 => GraphError::NotFound,
        429 => GraphError::Throttled {
            retry_after: retry_after.unwrap_or(fallback_wait),
        },
        503 if retry_after.is_some() => GraphError::Throttled {
            retry_after: retry_after.unwrap_or(fallback_wait),
        },
        401 => GraphError::Config(format!(
            "Graph rejected a freshly issued token (401 {code}): check that the token scope is \
             https://graph.microsoft.com/.default and that the app registration has the \
             application permission {} with admin consent",
            ctx.permission
        )),
        403 => {
            let forbidden = GraphError::Forbidden {
                code: code.clone(),
                message: message.clone(),
            };
            if forbidden.is_quota() {
                forbidden
            } else {
                GraphError::Forbidden {
                    code,
                    message: format!(
                        "{message} (the app needs the application permission {} with admin \
                         consent in this tenant)",
                        ctx.permission
                    ),
                }
            }
        }
        500..=599 => GraphError::Transient(format!("HTTP {status} {code}: {message}")),
        _ => GraphError::BadRequest {
            code: if code.is_empty() {
                format!("http{status}")
            } else {
                code
            },
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: ErrorContext = ErrorContext {
        permission: "Tasks.ReadWrite.All",
        delta: false,
    };
    const DELTA: ErrorContext = ErrorContext {
        permission: "Tasks.ReadWrite.All",
        delta: true,
    };

    fn body(code: &str) -> Vec<u8> {
        format!(r#"{{"error":{{"code":"{code}","message":"m {code}"}}}}"#).into_bytes()
    }

    fn c(status: u16, ra: Option<u64>, b: &[u8], ctx: ErrorContext) -> GraphError {
        classify(
            status,
            ra.map(Duration::from_secs),
            Duration::from_secs(7),
            b,
            ctx,
        )
    }

    #[test]
    fn statuses_map_to_what_the_caller_should_do() {
        assert!(matches!(
            c(404, None, &body("itemNotFound"), CTX),
            GraphError::NotFound
        ));
        assert!(matches!(
            c(412, None, &body("resourceModified"), CTX),
            GraphError::Conflict { status: 412 }
        ));
        assert!(matches!(
            c(409, None, b"", CTX),
            GraphError::Conflict { status: 409 }
        ));
        assert!(matches!(
            c(429, Some(3), &body("TooManyRequests"), CTX),
            GraphError::Throttled { retry_after } if retry_after == Duration::from_secs(3)
        ));
        assert!(matches!(
            c(429, None, b"", CTX),
            GraphError::Throttled { retry_after } if retry_after == Duration::from_secs(7)
        ));
        assert!(matches!(
            c(503, Some(2), b"", CTX),
            GraphError::Throttled { retry_after } if retry_after == Duration::from_secs(2)
        ));
        assert!(matches!(c(503, None, b"", CTX), GraphError::Transient(_)));
        assert!(matches!(
            c(502, None, b"<html>", CTX),
            GraphError::Transient(_)
        ));
        assert!(matches!(
            c(400, None, &body("invalidRequest"), CTX),
            GraphError::BadRequest { code, .. } if code == "invalidRequest"
        ));
        assert!(matches!(c(401, None, b"", CTX), GraphError::Config(_)));
    }

    #[test]
    fn delta_expiry_is_recognised_by_status_and_by_code() {
        assert!(matches!(c(410, None, b"", DELTA), GraphError::DeltaExpired));
        assert!(matches!(c(410, None, b"", CTX), GraphError::NotFound));
        assert!(matches!(
            c(400, None, &body("syncStateNotFound"), CTX),
            GraphError::DeltaExpired
        ));
        assert!(matches!(
            c(400, None, &body("resyncRequired"), DELTA),
            GraphError::DeltaExpired
        ));
    }

    #[test]
    fn quota_codes_are_told_apart_from_missing_permissions() {
        let quota = c(403, None, &body("MaximumActiveTasksInProject"), CTX);
        assert!(quota.is_quota());
        let denied = c(403, None, &body("accessDenied"), CTX);
        assert!(!denied.is_quota());
        match denied {
            GraphError::Forbidden { code, message } => {
                assert_eq!(code, "accessDenied");
                assert!(message.contains("Tasks.ReadWrite.All"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn retryability_follows_the_variant() {
        assert!(GraphError::Transient("x".into()).is_retryable());
        assert!(
            GraphError::Throttled {
                retry_after: Duration::ZERO
            }
            .is_retryable()
        );
        assert!(!GraphError::NotFound.is_retryable());
        assert!(!GraphError::Config("x".into()).is_retryable());
    }
}
