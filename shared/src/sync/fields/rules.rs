//! What one remote kind can represent, and how its values read back: `canon` says what the side
//! would show after being given a local value (or that it cannot hold the field at all), and
//! `absorb` merges a side's value into the local one without erasing what the side cannot
//! represent.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::*;
use crate::graph::models::CalendarZone;
use crate::model::RemoteKind;

/// What one remote kind can represent, and how its values read back.
#[derive(Debug, Clone)]
pub struct SideRules {
    pub kind: RemoteKind,
    pub zone: CalendarZone,
}

impl SideRules {
    pub fn new(kind: RemoteKind, zone: CalendarZone) -> Self {
        Self { kind, zone }
    }

    /// The value this side shows after being given local value `value`; `None` when the side
    /// has no such field (it is left alone there).
    pub fn canon(&self, field: Field, value: &Value) -> Option<Value> {
        match (self.kind, field) {
            (_, Field::Title | Field::Notes) => Some(value.clone()),
            (RemoteKind::Todo, Field::Progress) => {
                let (status, _) = progress_parts(value);
                Some(json!({"status": status.as_str()}))
            }
            (RemoteKind::Planner, Field::Progress) => {
                let (status, percent) = progress_parts(value);
                Some(progress_value(status, percent))
            }
            (RemoteKind::Todo, Field::Priority) => {
                let p = value.as_str().and_then(Priority::parse);
                Some(json!(todo_priority_read(todo_importance(
                    p.unwrap_or(Priority::Medium)
                ))))
            }
            (RemoteKind::Planner, Field::Priority) => Some(value.clone()),
            // To Do keeps days only, for the start as for the due date (docs/graph-behaviour.md §3.5).
            (RemoteKind::Todo, Field::Due | Field::Start) => Some(match date_of(value) {
                None => Value::Null,
                Some(TaskDate::Day(d)) => json!(TaskDate::Day(d).to_text()),
                Some(TaskDate::Instant(t)) => {
                    json!(TaskDate::Day(self.zone.calendar_day(t)).to_text())
                }
            }),
            (RemoteKind::Planner, Field::Due | Field::Start) => Some(match date_of(value) {
                None => Value::Null,
                Some(TaskDate::Day(d)) => json!(TaskDate::Day(d).to_text()),
                Some(TaskDate::Instant(t)) => json!(self.planner_date(t).to_text()),
            }),
            (RemoteKind::Todo, Field::Categories) => Some(value.clone()),
            (RemoteKind::Planner, Field::Categories) => {
                let kept: Vec<String> = strings_of(value)
                    .into_iter()
                    .filter(|c| is_planner_category(c))
                    .collect();
                Some(json!(kept))
            }
            (RemoteKind::Todo, Field::Checklist) => Some(todo_checklist_value(
                &checklist_entries(value)
                    .into_iter()
                    .map(|(_, title, checked)| (title, checked))
                    .collect::<Vec<_>>(),
            )),
            (RemoteKind::Todo, Field::Assignees | Field::Bucket) => None,
            (RemoteKind::Planner, Field::Assignees | Field::Checklist | Field::Bucket) => {
                Some(value.clone())
            }
        }
    }

    /// The local value after taking this side's value `remote` for a field whose local value is
    /// `local`: the remote value, except that what it cannot represent stays as it is locally.
    pub fn absorb(&self, field: Field, local: &Value, remote: &Value) -> Value {
        if self.canon(field, local).as_ref() == Some(remote) {
            return local.clone();
        }
        match (self.kind, field) {
            (RemoteKind::Todo, Field::Progress) => {
                let (status, _) = progress_parts(remote);
                progress_value(status, None)
            }
            (RemoteKind::Todo, Field::Checklist) => {
                let remote_items: Vec<(String, bool)> = checklist_entries(remote)
                    .into_iter()
                    .map(|(_, title, checked)| (title, checked))
                    .collect();
                checklist_value(&adopt_checklist(&checklist_of(local), &remote_items))
            }
            (RemoteKind::Planner, Field::Categories) => {
                let mut merged: Vec<String> = strings_of(local)
                    .into_iter()
                    .filter(|c| !is_planner_category(c))
                    .collect();
                merged.extend(strings_of(remote));
                string_set(&merged)
            }
            _ => remote.clone(),
        }
    }

    /// For a field both sides changed since `base`: the local value that keeps both sides'
    /// edits when they touched different items of a checklist (one side checks an item off,
    /// the other renames another). `None` when the field is not a checklist, or when both sides
    /// changed or removed the same item: then the binding's conflict policy decides the field
    /// as a whole.
    pub fn merge_items(
        &self,
        field: Field,
        base: &Value,
        local: &Value,
        remote: &Value,
    ) -> Option<Value> {
        if field != Field::Checklist {
            return None;
        }
        let base = checklist_of(base);
        let local = checklist_of(local);
        let remote = match self.kind {
            // Planner's checklist is keyed by the local ids already.
            RemoteKind::Planner => checklist_of(remote),
            // To Do's items carry no local ids: pair them with the base's items first.
            RemoteKind::Todo => {
                let items: Vec<(String, bool)> = checklist_entries(remote)
                    .into_iter()
                    .map(|(_, title, checked)| (title, checked))
                    .collect();
                let reserved = local.iter().map(|c| c.id.clone()).collect();
                checklist::adopt_checklist_reserving(&base, &items, reserved)
            }
        };
        let find = |list: &[ChecklistItem], id: &str| list.iter().find(|c| c.id == id).cloned();
        let mut ids: Vec<&String> = base
            .iter()
            .chain(&local)
            .chain(&remote)
            .map(|c| &c.id)
            .collect();
        ids.sort();
        ids.dedup();
        let mut merged = Vec::with_capacity(ids.len());
        for id in ids {
            let (b, l, r) = (find(&base, id), find(&local, id), find(&remote, id));
            let kept = if l == r {
                l
            } else if l == b {
                r
            } else if r == b {
                l
            } else {
                return None;
            };
            merged.extend(kept);
        }
        Some(checklist_value(&merged))
    }

    /// A Planner instant as a local date: a day when it is the start of a day in the binding's
    /// zone (what the apps write for a due day), else the instant.
    pub fn planner_date(&self, instant: DateTime<Utc>) -> TaskDate {
        let day = self.zone.calendar_day(instant);
        if self.zone.start_of_day(day) == instant {
            TaskDate::Day(day)
        } else {
            TaskDate::Instant(instant)
        }
    }

    /// The instant Planner stores for a date value.
    pub fn planner_instant(&self, value: &Value) -> Option<DateTime<Utc>> {
        match date_of(value)? {
            TaskDate::Day(d) => Some(self.zone.start_of_day(d)),
            TaskDate::Instant(t) => Some(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absorb_keeps_what_planner_cannot_hold() {
        let rules = SideRules::new(RemoteKind::Planner, CalendarZone::utc());
        let local = json!(["category2", "customer-x"]);
        let remote = json!(["category5"]);
        let merged = rules.absorb(Field::Categories, &local, &remote);
        assert_eq!(merged, json!(["category5", "customer-x"]));
        assert_eq!(rules.canon(Field::Categories, &merged), Some(remote));
    }

    #[test]
    fn todo_start_is_a_day_like_due() {
        let rules = SideRules::new(
            RemoteKind::Todo,
            CalendarZone::parse("Europe/Berlin").unwrap(),
        );
        assert_eq!(
            rules.canon(Field::Start, &json!("2026-03-29T22:30:00Z")),
            Some(json!("2026-03-30"))
        );
        assert_eq!(
            rules.canon(Field::Start, &json!("2026-03-29")),
            Some(json!("2026-03-29"))
        );
        assert_eq!(rules.canon(Field::Start, &Value::Null), Some(Value::Null));
    }
}
