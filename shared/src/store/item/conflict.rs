//! The conflict history's items: one per settled conflict, under its pair's partition
//! (`pk = conflict#{binding}#{list}#{task}`, so a pair's history is one Query when it is pruned)
//! and listed through gsi1 (`gsi1pk = conflict`, sorted by time). `expires_at` (epoch seconds) is
//! the sync table's TTL attribute: DynamoDB removes a record some time after it passes.

use chrono::{DateTime, Duration, Utc};

use super::attrs::{Reader, item_of, n, s, timestamp};
use super::{Item, PK, SK, listed_under};
use crate::ports::{CONFLICT_RETENTION_DAYS, StoreError};
use crate::sync::records::ConflictRecord;
use crate::sync::{Field, Side};

pub const CONFLICT_TYPE: &str = "conflict";
/// The sync table's TTL attribute (template.yaml's `TimeToLiveSpecification`).
pub const EXPIRES_AT: &str = "expires_at";

/// A fixed-width instant, so that sort keys order as the instants do.
fn sortable(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

/// The partition of one pair's conflicts.
pub fn conflict_pair_pk(binding_id: &str, list_id: &str, task_id: &str) -> String {
    format!("{CONFLICT_TYPE}#{binding_id}#{list_id}#{task_id}")
}

pub fn conflict_key(record: &ConflictRecord) -> Item {
    item_of([
        (
            PK,
            s(conflict_pair_pk(
                &record.binding_id,
                &record.list_id,
                &record.task_id,
            )),
        ),
        (
            SK,
            s(format!(
                "{CONFLICT_TYPE}#{}#{}",
                sortable(&record.at),
                record.field.as_str()
            )),
        ),
    ])
}

pub fn conflict_to_item(record: &ConflictRecord) -> Item {
    let mut item = conflict_key(record);
    item.extend(listed_under(
        CONFLICT_TYPE,
        format!(
            "{}#{}#{}#{}#{}",
            sortable(&record.at),
            record.binding_id,
            record.list_id,
            record.task_id,
            record.field.as_str()
        ),
    ));
    item.insert("binding_id".into(), s(&record.binding_id));
    item.insert("list_id".into(), s(&record.list_id));
    item.insert("task_id".into(), s(&record.task_id));
    if let Some(id) = &record.remote_id {
        item.insert("remote_id".into(), s(id));
    }
    item.insert("field".into(), s(record.field.as_str()));
    item.insert("local".into(), s(record.local.to_string()));
    item.insert("remote".into(), s(record.remote.to_string()));
    item.insert("winner".into(), s(side_text(record.winner)));
    item.insert("rule".into(), s(&record.rule));
    item.insert("at".into(), timestamp(&record.at));
    let expires = record.at + Duration::days(CONFLICT_RETENTION_DAYS);
    item.insert(EXPIRES_AT.into(), n(expires.timestamp()));
    item
}

fn side_text(side: Side) -> &'static str {
    match side {
        Side::Local => "local",
        Side::Remote => "remote",
    }
}

pub fn conflict_from_item(item: &Item) -> Result<ConflictRecord, StoreError> {
    let r = Reader::new(item, "conflict");
    let field_text = r.string("field")?;
    let field: Field = serde_json::from_value(serde_json::Value::String(field_text.to_owned()))
        .map_err(|_| r.invalid(format!("field {field_text:?} is unknown")))?;
    let winner = match r.string("winner")? {
        "local" => Side::Local,
        "remote" => Side::Remote,
        other => return Err(r.invalid(format!("winner {other:?} is not local or remote"))),
    };
    let value = |name: &str| -> Result<serde_json::Value, StoreError> {
        serde_json::from_str(r.string(name)?)
            .map_err(|e| r.invalid(format!("attribute {name} is not JSON: {e}")))
    };
    Ok(ConflictRecord {
        binding_id: r.string("binding_id")?.to_owned(),
        list_id: r.string("list_id")?.to_owned(),
        task_id: r.string("task_id")?.to_owned(),
        remote_id: r.optional_string("remote_id")?.map(str::to_owned),
        field,
        local: value("local")?,
        remote: value("remote")?,
        winner,
        rule: r.string("rule")?.to_owned(),
        at: r.timestamp("at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_reads_back_as_written_and_expires() {
        let at = DateTime::from_timestamp(1_763_000_000, 5).unwrap();
        let record = ConflictRecord {
            binding_id: "b".into(),
            list_id: "team".into(),
            task_id: "T-1".into(),
            remote_id: Some("r-1".into()),
            field: Field::Title,
            local: serde_json::json!("Local title"),
            remote: serde_json::json!("Remote title"),
            winner: Side::Remote,
            rule: "remote_wins".into(),
            at,
        };
        let item = conflict_to_item(&record);
        assert_eq!(conflict_from_item(&item).unwrap(), record);
        let expires = item.get(EXPIRES_AT).and_then(|v| v.as_n().ok()).unwrap();
        assert_eq!(
            expires.parse::<i64>().unwrap(),
            1_763_000_000 + CONFLICT_RETENTION_DAYS * 86_400
        );
    }
}
