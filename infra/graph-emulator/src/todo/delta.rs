//! Delta for To Do tasks (docs/graph-behaviour.md §3.3): a first round pages through the current
//! state with `$skiptoken`s and ends with a `$deltatoken`; later rounds return what changed since.
//!
//! Tokens are opaque to clients but simply encode a cursor into the list's change log (see
//! `model`), the epoch they were issued in and when they were issued. A token from an older epoch
//! (`POST /_emulator/todo/delta/expire`) or older than the retention answers **410 Gone** with a
//! `Location` holding an empty `$deltatoken` URL and the code `syncStateNotFound` (§3.3 names both
//! that code and the 410 form; the emulator combines them so either client check works).

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::model::{Change, Expand, TodoList, TodoState, task_json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// First round: tasks after `after_ordinal`, then a delta token at `snapshot_seq`.
    Full {
        snapshot_seq: u64,
        after_ordinal: u64,
    },
    /// Later rounds: changes after `after_seq`.
    Incremental { after_seq: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub epoch: u64,
    pub issued_ms: i64,
    pub cursor: Cursor,
    pub list_id: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeltaError {
    #[error("the delta or skip token is malformed")]
    Malformed,
    #[error("the delta or skip token belongs to another list")]
    WrongList,
    #[error("the sync state is no longer available")]
    Expired,
}

impl Token {
    pub fn encode(&self) -> String {
        let cursor = match self.cursor {
            Cursor::Full {
                snapshot_seq,
                after_ordinal,
            } => format!("f|{snapshot_seq}|{after_ordinal}"),
            Cursor::Incremental { after_seq } => format!("i|{after_seq}|0"),
        };
        let text = format!(
            "v1|{}|{}|{cursor}|{}",
            self.epoch, self.issued_ms, self.list_id
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    pub fn decode(token: &str) -> Result<Token, DeltaError> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim())
            .map_err(|_| DeltaError::Malformed)?;
        let text = String::from_utf8(bytes).map_err(|_| DeltaError::Malformed)?;
        let parts: Vec<&str> = text.splitn(7, '|').collect();
        let [version, epoch, issued, kind, a, b, list_id] = parts.as_slice() else {
            return Err(DeltaError::Malformed);
        };
        if *version != "v1" || list_id.is_empty() {
            return Err(DeltaError::Malformed);
        }
        let number = |s: &str| s.parse::<u64>().map_err(|_| DeltaError::Malformed);
        let cursor = match *kind {
            "f" => Cursor::Full {
                snapshot_seq: number(a)?,
                after_ordinal: number(b)?,
            },
            "i" => Cursor::Incremental {
                after_seq: number(a)?,
            },
            _ => return Err(DeltaError::Malformed),
        };
        Ok(Token {
            epoch: number(epoch)?,
            issued_ms: issued.parse::<i64>().map_err(|_| DeltaError::Malformed)?,
            cursor,
            list_id: (*list_id).to_owned(),
        })
    }
}

/// Which token the request carried.
pub enum Request<'a> {
    Start,
    Skip(&'a str),
    Delta(&'a str),
}

/// One page of a round: items plus either a next `$skiptoken` or a final `$deltatoken`.
pub struct Page {
    pub items: Vec<Value>,
    pub next: NextLink,
}

pub enum NextLink {
    Skip(String),
    Delta(String),
}

/// Checks a token against the list, the current epoch and the retention.
fn validate(
    state: &TodoState,
    list_id: &str,
    raw: &str,
    now: DateTime<Utc>,
) -> Result<Cursor, DeltaError> {
    let token = Token::decode(raw)?;
    if token.list_id != list_id {
        return Err(DeltaError::WrongList);
    }
    let retention_ms = i64::try_from(state.delta_retention().as_millis()).unwrap_or(i64::MAX);
    if token.epoch != state.delta_epoch
        || now.timestamp_millis().saturating_sub(token.issued_ms) > retention_ms
    {
        return Err(DeltaError::Expired);
    }
    Ok(token.cursor)
}

pub fn page(
    state: &TodoState,
    list: &TodoList,
    request: Request<'_>,
    page_size: usize,
    now: DateTime<Utc>,
) -> Result<Page, DeltaError> {
    let cursor = match request {
        Request::Start => Cursor::Full {
            snapshot_seq: state.last_seq,
            after_ordinal: 0,
        },
        Request::Skip(raw) => validate(state, &list.id, raw, now)?,
        Request::Delta(raw) => match validate(state, &list.id, raw, now)? {
            c @ Cursor::Incremental { .. } => c,
            Cursor::Full { .. } => return Err(DeltaError::Malformed),
        },
    };
    let page_size = page_size.max(1);
    let token = |cursor| {
        Token {
            epoch: state.delta_epoch,
            issued_ms: now.timestamp_millis(),
            cursor,
            list_id: list.id.clone(),
        }
        .encode()
    };
    match cursor {
        Cursor::Full {
            snapshot_seq,
            after_ordinal,
        } => {
            let mut rows = list.tasks.range(after_ordinal.saturating_add(1)..);
            let items: Vec<(u64, Value)> = rows
                .by_ref()
                .take(page_size)
                .map(|(o, t)| (*o, task_json(t, Expand::default())))
                .collect();
            let more = rows.next().is_some();
            let last = items.last().map_or(after_ordinal, |(o, _)| *o);
            let next = if more {
                NextLink::Skip(token(Cursor::Full {
                    snapshot_seq,
                    after_ordinal: last,
                }))
            } else {
                NextLink::Delta(token(Cursor::Incremental {
                    after_seq: snapshot_seq,
                }))
            };
            Ok(Page {
                items: items.into_iter().map(|(_, v)| v).collect(),
                next,
            })
        }
        Cursor::Incremental { after_seq } => {
            let mut rows = list.changes.range(after_seq.saturating_add(1)..);
            let mut items = Vec::new();
            let mut last = after_seq;
            for (seq, change) in rows.by_ref().take(page_size) {
                last = *seq;
                items.push(match change {
                    Change::Upserted(id) => match list.task(id) {
                        Ok(task) => task_json(task, Expand::default()),
                        // The log and the tasks are updated together; a miss would be a bug, and
                        // reporting the id as removed is the safe answer.
                        Err(_) => removed(id),
                    },
                    Change::Deleted(id) => removed(id),
                });
            }
            let next = if rows.next().is_some() {
                NextLink::Skip(token(Cursor::Incremental { after_seq: last }))
            } else {
                NextLink::Delta(token(Cursor::Incremental {
                    after_seq: state.last_seq.max(last),
                }))
            };
            Ok(Page { items, next })
        }
    }
}

fn removed(id: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.todoTask", "id": id, "@removed": {"reason": "deleted"}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let t = Token {
            epoch: 3,
            issued_ms: 1_700_000_000_000,
            cursor: Cursor::Full {
                snapshot_seq: 9,
                after_ordinal: 4,
            },
            list_id: "AAMkAG-x_y=".to_owned(),
        };
        assert_eq!(Token::decode(&t.encode()).unwrap(), t);
        assert_eq!(Token::decode("not a token!"), Err(DeltaError::Malformed));
        let bogus = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("v1|x|1|i|1|0|L");
        assert_eq!(Token::decode(&bogus), Err(DeltaError::Malformed));
    }
}
