//! The task item of the tasks table: the public item schema other writers follow too.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::attrs::{Reader, item_of, n, s, string_list, timestamp};
use super::{Item, TASK_ID, TASK_LIST_ID};
use crate::model::{ChecklistItem, LocalTask, Origin, Priority, TaskDate, TaskStatus};
use crate::ports::StoreError;

/// Primary key of a task item.
pub fn task_key(list_id: &str, task_id: &str) -> Item {
    item_of([(TASK_LIST_ID, s(list_id)), (TASK_ID, s(task_id))])
}

pub fn origin_text(origin: &Origin) -> String {
    match origin {
        Origin::Sync => "sync".to_owned(),
        Origin::App(name) => format!("app:{name}"),
    }
}

fn parse_origin(text: &str) -> Option<Origin> {
    if text == "sync" {
        Some(Origin::Sync)
    } else {
        text.strip_prefix("app:")
            .map(|name| Origin::App(name.to_owned()))
    }
}

/// Field names a person may protect (`protected_fields`), as the README documents them.
pub const PROTECTABLE_FIELDS: &[&str] = &[
    "title",
    "notes",
    "status",
    "percent_complete",
    "priority",
    "due",
    "start",
    "assignees",
    "categories",
    "checklist",
    "bucket",
];

pub fn task_to_item(task: &LocalTask) -> Item {
    let mut item = task_key(&task.list_id, &task.id);
    item.insert("title".into(), s(&task.title));
    item.insert("notes".into(), s(&task.notes));
    item.insert("status".into(), s(task.status.as_str()));
    if let Some(p) = task.percent_complete {
        item.insert("percent_complete".into(), n(p));
    }
    item.insert("priority".into(), s(task.priority.as_str()));
    if let Some(due) = &task.due {
        item.insert("due".into(), s(due.to_text()));
    }
    if let Some(start) = &task.start {
        item.insert("start".into(), s(start.to_text()));
    }
    if let Some(at) = &task.completed_at {
        item.insert("completed_at".into(), timestamp(at));
    }
    item.insert("assignees".into(), string_list(&task.assignees));
    item.insert("categories".into(), string_list(&task.categories));
    item.insert(
        "checklist".into(),
        AttributeValue::L(
            task.checklist
                .iter()
                .map(|c| {
                    AttributeValue::M(HashMap::from([
                        ("id".to_owned(), s(&c.id)),
                        ("title".to_owned(), s(&c.title)),
                        ("checked".to_owned(), AttributeValue::Bool(c.checked)),
                    ]))
                })
                .collect(),
        ),
    );
    if let Some(bucket) = &task.bucket {
        item.insert("bucket".into(), s(bucket));
    }
    item.insert(
        "protected_fields".into(),
        string_list(&task.protected_fields),
    );
    item.insert("version".into(), n(task.version));
    item.insert("updated_at".into(), timestamp(&task.updated_at));
    item.insert("origin".into(), s(origin_text(&task.origin)));
    item.insert("deleted".into(), AttributeValue::Bool(task.deleted));
    item
}

/// Reads a task item. Only the key, `title`, `status`, `version`, `updated_at` and `origin` are
/// required; every other attribute may be absent (other writers omit them) and then takes its
/// default. A present attribute of the wrong type or with a value outside the contract makes the
/// whole item invalid, with a reason that names it.
pub fn task_from_item(item: &Item) -> Result<LocalTask, StoreError> {
    let r = Reader::new(item, "task");
    let status = r.string("status")?;
    let origin = r.string("origin")?;
    let priority = match r.optional_string("priority")? {
        None => Priority::Medium,
        Some(text) => Priority::parse(text).ok_or_else(|| {
            r.invalid(format!(
                "priority {text:?} is not one of \"urgent\", \"important\", \"medium\", \"low\""
            ))
        })?,
    };
    let percent_complete = match r.optional_number("percent_complete")? {
        None => None,
        Some(p) if p <= 100 => u8::try_from(p).ok(),
        Some(p) => {
            return Err(r.invalid(format!(
                "attribute percent_complete is {p}, outside 0 to 100"
            )));
        }
    };
    let protected_fields = r.string_set_or_list("protected_fields")?;
    if let Some(unknown) = protected_fields
        .iter()
        .find(|f| !PROTECTABLE_FIELDS.contains(&f.as_str()))
    {
        return Err(r.invalid(format!(
            "protected_fields names {unknown:?}, which is not a task field"
        )));
    }
    Ok(LocalTask {
        list_id: r.string(TASK_LIST_ID)?.to_owned(),
        id: r.string(TASK_ID)?.to_owned(),
        title: r.string("title")?.to_owned(),
        notes: r.optional_string("notes")?.unwrap_or_default().to_owned(),
        status: TaskStatus::parse(status).ok_or_else(|| {
            r.invalid(format!(
                "status {status:?} is not one of \"not_started\", \"in_progress\", \"completed\""
            ))
        })?,
        percent_complete,
        priority,
        due: task_date(&r, "due")?,
        start: task_date(&r, "start")?,
        completed_at: r.optional_timestamp("completed_at")?,
        assignees: r.string_set_or_list("assignees")?,
        categories: r.string_set_or_list("categories")?,
        checklist: checklist(&r, "checklist")?,
        bucket: r
            .optional_string("bucket")?
            .filter(|b| !b.is_empty())
            .map(str::to_owned),
        protected_fields,
        version: r.number("version")?,
        updated_at: r.timestamp("updated_at")?,
        origin: parse_origin(origin).ok_or_else(|| {
            r.invalid(format!(
                "origin {origin:?} is neither \"sync\" nor \"app:<name>\""
            ))
        })?,
        deleted: r.optional_bool("deleted")?.unwrap_or(false),
    })
}

/// A calendar date or an instant; absent or empty is none.
fn task_date(r: &Reader<'_>, name: &str) -> Result<Option<TaskDate>, StoreError> {
    match r.optional_string(name)? {
        None | Some("") => Ok(None),
        Some(text) => TaskDate::parse(text).map(Some).ok_or_else(|| {
            r.invalid(format!(
                "attribute {name} is neither a calendar date (YYYY-MM-DD) nor an RFC 3339 instant: {text:?}"
            ))
        }),
    }
}

fn checklist(r: &Reader<'_>, name: &str) -> Result<Vec<ChecklistItem>, StoreError> {
    let values = match r.optional(name) {
        None => return Ok(Vec::new()),
        Some(AttributeValue::L(values)) => values,
        Some(_) => return Err(r.type_error(name, "a list (L) of maps")),
    };
    values
        .iter()
        .map(|v| {
            let AttributeValue::M(m) = v else {
                return Err(r.type_error(name, "a list (L) of maps {id, title, checked}"));
            };
            let entry = Reader::new(m, "task checklist item");
            Ok(ChecklistItem {
                id: entry.string("id")?.to_owned(),
                title: entry.string("title")?.to_owned(),
                checked: entry.optional_bool("checked")?.unwrap_or(false),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn task() -> LocalTask {
        LocalTask {
            notes: "with numbers".into(),
            status: TaskStatus::InProgress,
            percent_complete: Some(40),
            priority: Priority::Important,
            due: Some(TaskDate::Day(
                chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            )),
            start: Some(TaskDate::Instant(
                Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
            )),
            assignees: vec!["u1".into()],
            categories: vec!["category2".into()],
            checklist: vec![ChecklistItem {
                id: "c1".into(),
                title: "step".into(),
                checked: true,
            }],
            bucket: Some("bucket-1".into()),
            protected_fields: vec!["title".into()],
            version: 7,
            updated_at: Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap(),
            ..LocalTask::new(
                "l1",
                "t1",
                "Write the report",
                Origin::App("planner-agent".into()),
            )
        }
    }

    #[test]
    fn task_items_round_trip_with_full_timestamp_precision() {
        let item = task_to_item(&task());
        assert_eq!(item.get("version"), Some(&AttributeValue::N("7".into())));
        assert_eq!(
            item.get("updated_at"),
            Some(&AttributeValue::S("2023-11-14T22:13:20.123456789Z".into()))
        );
        assert_eq!(task_from_item(&item).unwrap(), task());
    }

    #[test]
    fn other_writers_may_omit_notes_and_deleted() {
        let mut item = task_to_item(&task());
        item.remove("notes");
        item.remove("deleted");
        let read = task_from_item(&item).unwrap();
        assert_eq!(read.notes, "");
        assert!(!read.deleted);
    }

    #[test]
    fn invalid_task_items_name_the_attribute() {
        let cases: [(&str, Option<AttributeValue>, &str); 6] = [
            ("title", None, "title is missing"),
            (
                "status",
                Some(AttributeValue::S("done".into())),
                "status \"done\"",
            ),
            (
                "version",
                Some(AttributeValue::S("7".into())),
                "version is not a number",
            ),
            (
                "version",
                Some(AttributeValue::N("-1".into())),
                "version is not a non-negative",
            ),
            (
                "updated_at",
                Some(AttributeValue::S("yesterday".into())),
                "updated_at is not an RFC 3339",
            ),
            (
                "origin",
                Some(AttributeValue::S("someone".into())),
                "origin \"someone\"",
            ),
        ];
        for (name, value, expected) in cases {
            let mut item = task_to_item(&task());
            match value {
                Some(v) => item.insert(name.into(), v),
                None => item.remove(name),
            };
            match task_from_item(&item) {
                Err(StoreError::InvalidItem(reason)) => {
                    assert!(
                        reason.contains(expected),
                        "{reason} should contain {expected}"
                    )
                }
                other => panic!("{name}: expected InvalidItem, got {other:?}"),
            }
        }
    }
}
