//! The versioned JSON envelopes that travel on the work queue.
//!
//! A message is a *hint*, never data (docs/architecture.md principle 1): it names what to look at, and the
//! worker always reads the current state of both sides. So duplicates, reordering and replays are
//! harmless. Every message is `{"v":1,"kind":...}`; an unknown version or kind is a decode error
//! with a clear reason (it goes to the DLQ intact), never a panic.

use serde::{Deserialize, Serialize};

use crate::model::RemoteKind;

/// The only envelope version this build writes and reads.
pub const ENVELOPE_VERSION: u32 = 1;

/// What a queue message asks the worker to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Hint {
    /// A To Do task of a bound list changed (from a change notification or a delta sweep).
    RemoteTodoTask { binding_id: String, task_id: String },
    /// A Planner task of a bound plan changed (found by the sweep).
    RemotePlannerTask { binding_id: String, task_id: String },
    /// A task of the local store changed (from the tasks table's stream).
    LocalTask { list_id: String, task_id: String },
    /// Resync a whole binding (after `missed`, `subscriptionRemoved`, or an operator's request).
    ResyncBinding { binding_id: String, reason: String },
    /// Graph asked for a subscription to be reauthorized (lifecycle `reauthorizationRequired`).
    ReauthorizeSubscription {
        binding_id: String,
        subscription_id: String,
    },
    /// Graph removed a subscription (lifecycle `subscriptionRemoved`): recreate it, then resync.
    RecreateSubscription {
        binding_id: String,
        subscription_id: String,
    },
}

impl Hint {
    /// A changed task of a binding's remote side, Planner or To Do.
    pub fn remote_task(remote: RemoteKind, binding_id: &str, task_id: &str) -> Self {
        let (binding_id, task_id) = (binding_id.to_owned(), task_id.to_owned());
        match remote {
            RemoteKind::Planner => Hint::RemotePlannerTask {
                binding_id,
                task_id,
            },
            RemoteKind::Todo => Hint::RemoteTodoTask {
                binding_id,
                task_id,
            },
        }
    }

    /// The `kind` tag, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Hint::RemoteTodoTask { .. } => "remote_todo_task",
            Hint::RemotePlannerTask { .. } => "remote_planner_task",
            Hint::LocalTask { .. } => "local_task",
            Hint::ResyncBinding { .. } => "resync_binding",
            Hint::ReauthorizeSubscription { .. } => "reauthorize_subscription",
            Hint::RecreateSubscription { .. } => "recreate_subscription",
        }
    }
}

/// Why a message body could not be decoded. Each variant is a DLQ reason an operator can read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("message body is not a JSON object: {0}")]
    NotJson(String),
    #[error("message has no numeric \"v\" field")]
    MissingVersion,
    #[error("unsupported envelope version {0} (this build reads version {ENVELOPE_VERSION})")]
    UnsupportedVersion(u64),
    #[error("message's \"attempt\" field is not a small non-negative integer")]
    BadAttempt,
    #[error("message has no \"kind\" field")]
    MissingKind,
    #[error("unknown message kind {0:?}")]
    UnknownKind(String),
    #[error("message of kind {kind:?} is malformed: {reason}")]
    Malformed { kind: String, reason: String },
}

const KNOWN_KINDS: &[&str] = &[
    "remote_todo_task",
    "remote_planner_task",
    "local_task",
    "resync_binding",
    "reauthorize_subscription",
    "recreate_subscription",
];

/// The envelope field counting how many times the worker sent a throttled hint back to the queue
/// as a fresh message (absent on a first send). A fresh message starts its receive count again,
/// so this is what still tells how long a hint has been waiting for Graph.
pub const ATTEMPT_FIELD: &str = "attempt";

/// Encodes a hint as a version-1 envelope.
pub fn encode(hint: &Hint) -> String {
    encode_attempt(hint, 0)
}

/// Encodes a hint as a version-1 envelope carrying its attempt count (none when 0).
pub fn encode_attempt(hint: &Hint, attempt: u32) -> String {
    let mut value = serde_json::to_value(hint).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("v".to_owned(), serde_json::Value::from(ENVELOPE_VERSION));
        if attempt > 0 {
            map.insert(ATTEMPT_FIELD.to_owned(), serde_json::Value::from(attempt));
        }
    }
    value.to_string()
}

/// Decodes an envelope, telling apart a wrong version, an unknown kind and a malformed body.
pub fn decode(body: &str) -> Result<Hint, DecodeError> {
    decode_attempt(body).map(|(hint, _)| hint)
}

/// Decodes an envelope and its attempt count (0 when absent).
pub fn decode_attempt(body: &str) -> Result<(Hint, u32), DecodeError> {
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| DecodeError::NotJson(e.to_string()))?;
    let serde_json::Value::Object(mut map) = value else {
        return Err(DecodeError::NotJson("not an object".to_owned()));
    };
    let version = map
        .remove("v")
        .and_then(|v| v.as_u64())
        .ok_or(DecodeError::MissingVersion)?;
    if version != u64::from(ENVELOPE_VERSION) {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    let attempt = match map.remove(ATTEMPT_FIELD) {
        None => 0,
        Some(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or(DecodeError::BadAttempt)?,
    };
    let kind = map
        .get("kind")
        .and_then(|k| k.as_str())
        .ok_or(DecodeError::MissingKind)?
        .to_owned();
    if !KNOWN_KINDS.contains(&kind.as_str()) {
        return Err(DecodeError::UnknownKind(kind));
    }
    let hint = serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| {
        DecodeError::Malformed {
            kind,
            reason: e.to_string(),
        }
    })?;
    Ok((hint, attempt))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trips_every_kind() {
        let hints = [
            Hint::RemoteTodoTask {
                binding_id: "b".into(),
                task_id: "t".into(),
            },
            Hint::RemotePlannerTask {
                binding_id: "b".into(),
                task_id: "t".into(),
            },
            Hint::LocalTask {
                list_id: "l".into(),
                task_id: "t".into(),
            },
            Hint::ResyncBinding {
                binding_id: "b".into(),
                reason: "missed".into(),
            },
            Hint::ReauthorizeSubscription {
                binding_id: "b".into(),
                subscription_id: "s".into(),
            },
            Hint::RecreateSubscription {
                binding_id: "b".into(),
                subscription_id: "s".into(),
            },
        ];
        for hint in hints {
            let body = encode(&hint);
            assert!(body.contains("\"v\":1"), "{body}");
            assert!(KNOWN_KINDS.contains(&hint.kind()));
            assert_eq!(decode(&body), Ok(hint));
        }
    }

    #[test]
    fn tells_apart_the_ways_a_body_is_wrong() {
        assert!(matches!(decode("nope"), Err(DecodeError::NotJson(_))));
        assert!(matches!(decode("[1]"), Err(DecodeError::NotJson(_))));
        assert_eq!(
            decode(r#"{"kind":"local_task"}"#),
            Err(DecodeError::MissingVersion)
        );
        assert_eq!(
            decode(r#"{"v":2,"kind":"local_task"}"#),
            Err(DecodeError::UnsupportedVersion(2))
        );
        assert_eq!(decode(r#"{"v":1}"#), Err(DecodeError::MissingKind));
        assert_eq!(
            decode(r#"{"v":1,"kind":"explode"}"#),
            Err(DecodeError::UnknownKind("explode".into()))
        );
        assert!(matches!(
            decode(r#"{"v":1,"kind":"local_task","list_id":"l"}"#),
            Err(DecodeError::Malformed { .. })
        ));
    }

    #[test]
    fn the_attempt_count_travels_beside_the_hint() {
        let hint = Hint::LocalTask {
            list_id: "l".into(),
            task_id: "t".into(),
        };
        assert!(!encode(&hint).contains(ATTEMPT_FIELD));
        let body = encode_attempt(&hint, 3);
        assert!(body.contains("\"attempt\":3"), "{body}");
        assert_eq!(decode_attempt(&body), Ok((hint.clone(), 3)));
        assert_eq!(decode(&body), Ok(hint));
        assert_eq!(
            decode(r#"{"v":1,"kind":"local_task","list_id":"l","task_id":"t","attempt":-1}"#),
            Err(DecodeError::BadAttempt)
        );
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(body in ".*") {
            let _ = decode(&body);
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode(&String::from_utf8_lossy(&bytes));
        }
    }
}
