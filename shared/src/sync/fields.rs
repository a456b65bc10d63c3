//! The normalised fields: the one vocabulary the three-way merge compares, and the field-mapping
//! table of docs/sync-engine.md in code.
//!
//! Every field value is a small JSON value in a canonical form (sorted sets, checklist sorted by
//! id, dates as `YYYY-MM-DD` or RFC 3339 UTC), so equality is plain `==` and the base can be
//! stored as it is in the mapping item.
//!
//! A side that cannot represent a field, or a value, is described by [`SideRules`]: `canon` says
//! what the side would show after being given a local value (or that it cannot hold the field at
//! all), and `absorb` merges a side's value into the local one without erasing what the side
//! cannot represent (e.g. local categories that are not Planner category labels).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::graph::models::CalendarZone;
use crate::model::{ChecklistItem, LocalTask, Priority, RemoteKind, TaskDate, TaskStatus};

/// A synced field. `status` and `percent_complete` travel together as `Progress`, because
/// Planner has only a percentage and To Do only a status: merging them apart could write a
/// completed status beside 50 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Title,
    Notes,
    Progress,
    Priority,
    Due,
    Start,
    Assignees,
    Categories,
    Checklist,
    Bucket,
}

pub const ALL_FIELDS: [Field; 10] = [
    Field::Title,
    Field::Notes,
    Field::Progress,
    Field::Priority,
    Field::Due,
    Field::Start,
    Field::Assignees,
    Field::Categories,
    Field::Checklist,
    Field::Bucket,
];

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Notes => "notes",
            Field::Progress => "progress",
            Field::Priority => "priority",
            Field::Due => "due",
            Field::Start => "start",
            Field::Assignees => "assignees",
            Field::Categories => "categories",
            Field::Checklist => "checklist",
            Field::Bucket => "bucket",
        }
    }

    /// The field a `protected_fields` entry of the task item protects.
    pub fn from_item_name(name: &str) -> Option<Field> {
        Some(match name {
            "title" => Field::Title,
            "notes" => Field::Notes,
            "status" | "percent_complete" => Field::Progress,
            "priority" => Field::Priority,
            "due" => Field::Due,
            "start" => Field::Start,
            "assignees" => Field::Assignees,
            "categories" => Field::Categories,
            "checklist" => Field::Checklist,
            "bucket" => Field::Bucket,
            _ => return None,
        })
    }
}

/// Field values by field. For the local side every field is present; for a remote side only the
/// fields it represents.
pub type FieldMap = BTreeMap<Field, Value>;

/// The percentage a status implies when none is given.
pub fn default_percent(status: TaskStatus) -> u8 {
    match status {
        TaskStatus::NotStarted => 0,
        TaskStatus::InProgress => 50,
        TaskStatus::Completed => 100,
    }
}

/// The status a Planner percentage means (graph-facts §2.1: 100 is completed).
pub fn status_of_percent(percent: u8) -> TaskStatus {
    match percent {
        0 => TaskStatus::NotStarted,
        100.. => TaskStatus::Completed,
        _ => TaskStatus::InProgress,
    }
}

/// `(status, percent)` made consistent: completed is 100, not started 0, in progress 1–99.
pub fn progress_value(status: TaskStatus, percent: Option<u8>) -> Value {
    let percent = match status {
        TaskStatus::NotStarted => 0,
        TaskStatus::Completed => 100,
        TaskStatus::InProgress => percent.map_or(50, |p| p.clamp(1, 99)),
    };
    json!({"status": status.as_str(), "percent": percent})
}

/// Reads a progress value (any side's form).
pub fn progress_parts(value: &Value) -> (TaskStatus, Option<u8>) {
    let status = value
        .get("status")
        .and_then(Value::as_str)
        .and_then(TaskStatus::parse)
        .unwrap_or(TaskStatus::NotStarted);
    let percent = value
        .get("percent")
        .and_then(Value::as_u64)
        .and_then(|p| u8::try_from(p.min(100)).ok());
    (status, percent)
}

pub fn date_value(date: Option<&TaskDate>) -> Value {
    date.map_or(Value::Null, |d| Value::String(d.to_text()))
}

pub fn date_of(value: &Value) -> Option<TaskDate> {
    value.as_str().and_then(TaskDate::parse)
}

fn string_set(values: &[String]) -> Value {
    let mut v: Vec<&String> = values.iter().filter(|s| !s.is_empty()).collect();
    v.sort();
    v.dedup();
    json!(v)
}

pub fn strings_of(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

pub fn checklist_value(items: &[ChecklistItem]) -> Value {
    let mut items: Vec<&ChecklistItem> = items.iter().collect();
    items.sort_by(|a, b| a.id.cmp(&b.id));
    items.dedup_by(|a, b| a.id == b.id);
    Value::Array(
        items
            .iter()
            .map(|c| json!({"id": c.id, "title": c.title, "checked": c.checked}))
            .collect(),
    )
}

pub fn checklist_of(value: &Value) -> Vec<ChecklistItem> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| {
                    Some(ChecklistItem {
                        id: c.get("id")?.as_str()?.to_owned(),
                        title: c
                            .get("title")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        checked: c.get("checked").and_then(Value::as_bool).unwrap_or(false),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every field of a local task, normalised.
pub fn local_fields(task: &LocalTask) -> FieldMap {
    FieldMap::from([
        (Field::Title, json!(task.title)),
        (Field::Notes, json!(task.notes)),
        (
            Field::Progress,
            progress_value(task.status, task.percent_complete),
        ),
        (Field::Priority, json!(task.priority.as_str())),
        (Field::Due, date_value(task.due.as_ref())),
        (Field::Start, date_value(task.start.as_ref())),
        (Field::Assignees, string_set(&task.assignees)),
        (Field::Categories, string_set(&task.categories)),
        (Field::Checklist, checklist_value(&task.checklist)),
        (
            Field::Bucket,
            task.bucket
                .as_ref()
                .map_or(Value::Null, |b| Value::String(b.clone())),
        ),
    ])
}

/// Writes merged field values into a local task (fields absent from `fields` are kept).
/// `completed_at` follows the status: kept or taken from `remote_completed_at` (or now) when the
/// task is completed, cleared when it is not.
pub fn apply_to_local(
    task: &mut LocalTask,
    fields: &FieldMap,
    remote_completed_at: Option<DateTime<Utc>>,
) {
    for (field, value) in fields {
        match field {
            Field::Title => task.title = value.as_str().unwrap_or_default().to_owned(),
            Field::Notes => task.notes = value.as_str().unwrap_or_default().to_owned(),
            Field::Progress => {
                let (status, percent) = progress_parts(value);
                task.status = status;
                task.percent_complete = Some(percent.unwrap_or(default_percent(status)));
            }
            Field::Priority => {
                task.priority = value
                    .as_str()
                    .and_then(Priority::parse)
                    .unwrap_or(Priority::Medium)
            }
            Field::Due => task.due = date_of(value),
            Field::Start => task.start = date_of(value),
            Field::Assignees => task.assignees = strings_of(value),
            Field::Categories => task.categories = strings_of(value),
            Field::Checklist => task.checklist = checklist_of(value),
            Field::Bucket => task.bucket = value.as_str().map(str::to_owned),
        }
    }
    if task.status == TaskStatus::Completed {
        if task.completed_at.is_none() {
            task.completed_at = Some(remote_completed_at.unwrap_or_else(Utc::now));
        }
    } else {
        task.completed_at = None;
    }
}

/// A Planner category label: `category1` to `category25` (graph-facts §2.3).
pub fn is_planner_category(name: &str) -> bool {
    name.strip_prefix("category")
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| (1..=25).contains(&n))
        && !name.starts_with("category0")
}

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
            // To Do keeps days only, for the start as for the due date (graph-facts §3.5).
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
                adopt_checklist_reserving(&base, &items, reserved)
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

// ---- To Do checklists ----
//
// To Do gives checklist items ids of its own (graph-facts §3.1: "server generated") and has no
// place for ours, so the local item ids cannot key them as they key Planner's checklist. To Do's
// side of the field is therefore compared by content: the items as `(title, checked)`, sorted.
// Identity comes back through [`pair_checklists`], which pairs two lists so that a check-off, a
// rename, an addition or a removal each touch one item: used when a To Do value is taken into the
// local checklist (local ids survive) and when the local one is written to To Do (one request
// per changed item, none for the others).

/// A checklist in any of its forms (local items with ids, or To Do's id-less form) as
/// `(id, title, checked)`, in the value's order.
pub fn checklist_entries(value: &Value) -> Vec<(Option<String>, String, bool)> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| c.is_object())
                .map(|c| {
                    (
                        c.get("id").and_then(Value::as_str).map(str::to_owned),
                        c.get("title")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        c.get("checked").and_then(Value::as_bool).unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// To Do's form of a checklist: `{title, checked}` items sorted by title, then unchecked first.
pub fn todo_checklist_value(items: &[(String, bool)]) -> Value {
    let mut items: Vec<&(String, bool)> = items.iter().collect();
    items.sort();
    Value::Array(
        items
            .iter()
            .map(|(title, checked)| json!({"title": title, "checked": checked}))
            .collect(),
    )
}

/// How two checklists line up: `pairs` are `(current index, target index)` of the same item
/// (maybe renamed or checked differently), `added` the target items with no partner, `removed`
/// the current items with no partner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChecklistPairing {
    pub pairs: Vec<(usize, usize)>,
    pub added: Vec<usize>,
    pub removed: Vec<usize>,
}

/// Whether two `(title, checked)` items count as the same item in one pairing round.
type SameItem = fn(&(String, bool), &(String, bool)) -> bool;

/// Pairs `current` with `target` (both `(title, checked)`): identical items first, then items
/// with the same title (checked or unchecked since), then titles that hold one another
/// (renamed, keeping words), then the rest in order (renamed). Every
/// item ends in exactly one place, and the unpaired items are as few as the lengths allow, so a
/// diff built on it costs one write per item that really differs.
pub fn pair_checklists(current: &[(String, bool)], target: &[(String, bool)]) -> ChecklistPairing {
    let mut cur_free: Vec<bool> = vec![true; current.len()];
    let mut tgt_free: Vec<bool> = vec![true; target.len()];
    let mut pairs = Vec::new();
    let rounds: [SameItem; 4] = [
        |a, b| a == b,
        |a, b| a.0 == b.0,
        |a, b| related_titles(&a.0, &b.0),
        |_, _| true,
    ];
    for same in rounds {
        for (ti, t) in target.iter().enumerate() {
            if !tgt_free.get(ti).copied().unwrap_or(false) {
                continue;
            }
            let found = current
                .iter()
                .enumerate()
                .find(|(ci, c)| cur_free.get(*ci).copied().unwrap_or(false) && same(c, t));
            if let Some((ci, _)) = found {
                if let Some(f) = cur_free.get_mut(ci) {
                    *f = false;
                }
                if let Some(f) = tgt_free.get_mut(ti) {
                    *f = false;
                }
                pairs.push((ci, ti));
            }
        }
    }
    pairs.sort_unstable();
    ChecklistPairing {
        pairs,
        added: (0..target.len())
            .filter(|i| tgt_free.get(*i).copied().unwrap_or(false))
            .collect(),
        removed: (0..current.len())
            .filter(|i| cur_free.get(*i).copied().unwrap_or(false))
            .collect(),
    }
}

/// A rename that kept the old words ("eggs" → "free-range eggs"): one title holds the other.
fn related_titles(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim().to_lowercase(), b.trim().to_lowercase());
    !a.is_empty() && !b.is_empty() && (a.contains(&b) || b.contains(&a))
}

/// The local checklist after taking To Do's `remote` items: each remote item keeps the id of
/// the local item it pairs with; an item new in To Do gets an id derived from its content and
/// position (the decision is a pure function, so no random ids), unique in the list.
pub fn adopt_checklist(local: &[ChecklistItem], remote: &[(String, bool)]) -> Vec<ChecklistItem> {
    adopt_checklist_reserving(local, remote, std::collections::BTreeSet::new())
}

/// [`adopt_checklist`], never deriving an id in `reserved` (ids another list holds).
fn adopt_checklist_reserving(
    local: &[ChecklistItem],
    remote: &[(String, bool)],
    mut used: std::collections::BTreeSet<String>,
) -> Vec<ChecklistItem> {
    let current: Vec<(String, bool)> = local.iter().map(|c| (c.title.clone(), c.checked)).collect();
    let pairing = pair_checklists(&current, remote);
    let mut out = Vec::with_capacity(remote.len());
    for (ci, ti) in &pairing.pairs {
        if let (Some(l), Some((title, checked))) = (local.get(*ci), remote.get(*ti)) {
            used.insert(l.id.clone());
            out.push(ChecklistItem {
                id: l.id.clone(),
                title: title.clone(),
                checked: *checked,
            });
        }
    }
    for ti in &pairing.added {
        if let Some((title, checked)) = remote.get(*ti) {
            let mut salt = *ti as u64;
            let id = loop {
                let candidate = format!("todo-{:016x}", fnv1a(title.as_bytes(), salt));
                if used.insert(candidate.clone()) {
                    break candidate;
                }
                salt = salt.wrapping_add(0x9e37_79b9);
            };
            out.push(ChecklistItem {
                id,
                title: title.clone(),
                checked: *checked,
            });
        }
    }
    out
}

/// FNV-1a (64 bit): a stable hash for derived ids (std's hasher may change between releases).
fn fnv1a(bytes: &[u8], salt: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// To Do `importance` for a priority: urgent and important are both `high`.
pub fn todo_importance(priority: Priority) -> &'static str {
    match priority {
        Priority::Urgent | Priority::Important => "high",
        Priority::Medium => "normal",
        Priority::Low => "low",
    }
}

/// The priority a To Do `importance` reads as.
pub fn todo_priority_read(importance: &str) -> &'static str {
    match importance {
        "high" => Priority::Important.as_str(),
        "low" => Priority::Low.as_str(),
        _ => Priority::Medium.as_str(),
    }
}

/// Planner's 0–10 priority for a local priority (what the Planner app writes: 1, 3, 5, 9).
pub fn planner_priority(priority: Priority) -> i32 {
    match priority {
        Priority::Urgent => 1,
        Priority::Important => 3,
        Priority::Medium => 5,
        Priority::Low => 9,
    }
}

/// The local priority of a Planner 0–10 value: 0–1 urgent, 2–4 important, 5–7 medium, 8–10 low.
pub fn priority_of_planner(value: i32) -> Priority {
    match value {
        i32::MIN..=1 => Priority::Urgent,
        2..=4 => Priority::Important,
        5..=7 => Priority::Medium,
        _ => Priority::Low,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planner_categories_are_the_25_labels() {
        assert!(is_planner_category("category1"));
        assert!(is_planner_category("category25"));
        assert!(!is_planner_category("category26"));
        assert!(!is_planner_category("category0"));
        assert!(!is_planner_category("category01"));
        assert!(!is_planner_category("urgent"));
    }

    #[test]
    fn priorities_round_trip_through_planner_and_collapse_in_todo() {
        for p in [
            Priority::Urgent,
            Priority::Important,
            Priority::Medium,
            Priority::Low,
        ] {
            assert_eq!(priority_of_planner(planner_priority(p)), p);
        }
        assert_eq!(
            todo_priority_read(todo_importance(Priority::Urgent)),
            "important"
        );
    }

    #[test]
    fn absorb_keeps_what_planner_cannot_hold() {
        let rules = SideRules::new(RemoteKind::Planner, CalendarZone::utc());
        let local = json!(["category2", "customer-x"]);
        let remote = json!(["category5"]);
        let merged = rules.absorb(Field::Categories, &local, &remote);
        assert_eq!(merged, json!(["category5", "customer-x"]));
        assert_eq!(rules.canon(Field::Categories, &merged), Some(remote));
    }

    fn items(list: &[(&str, bool)]) -> Vec<(String, bool)> {
        list.iter().map(|(t, c)| ((*t).to_owned(), *c)).collect()
    }

    fn local_items(list: &[(&str, &str, bool)]) -> Vec<ChecklistItem> {
        list.iter()
            .map(|(id, title, checked)| ChecklistItem {
                id: (*id).to_owned(),
                title: (*title).to_owned(),
                checked: *checked,
            })
            .collect()
    }

    #[test]
    fn pairing_prefers_identical_items_then_titles_then_order() {
        let current = items(&[("milk", false), ("eggs", false), ("bread", false)]);
        let target = items(&[("bread", false), ("milk", true), ("oat milk", false)]);
        let p = pair_checklists(&current, &target);
        // bread is identical, milk was checked, eggs was renamed to oat milk.
        assert_eq!(p.pairs, vec![(0, 1), (1, 2), (2, 0)]);
        assert!(p.added.is_empty() && p.removed.is_empty());
        let p = pair_checklists(&current, &items(&[("milk", false)]));
        assert_eq!((p.pairs, p.removed), (vec![(0, 0)], vec![1, 2]));
    }

    #[test]
    fn a_todo_checklist_keeps_local_ids_through_check_offs_and_renames() {
        let rules = SideRules::new(RemoteKind::Todo, CalendarZone::utc());
        let local = checklist_value(&local_items(&[("a", "milk", false), ("b", "eggs", false)]));
        let canon = rules.canon(Field::Checklist, &local).unwrap();
        assert_eq!(
            canon,
            json!([{"title": "eggs", "checked": false}, {"title": "milk", "checked": false}])
        );
        // The person checks milk off, renames eggs and adds bread in To Do.
        let remote = todo_checklist_value(&items(&[
            ("milk", true),
            ("free-range eggs", false),
            ("bread", false),
        ]));
        let absorbed = rules.absorb(Field::Checklist, &local, &remote);
        let merged = checklist_of(&absorbed);
        let by_title = |t: &str| merged.iter().find(|c| c.title == t).cloned().unwrap();
        assert_eq!(by_title("milk").id, "a");
        assert!(by_title("milk").checked);
        assert_eq!(by_title("free-range eggs").id, "b");
        assert!(by_title("bread").id.starts_with("todo-"));
        assert_eq!(
            rules.canon(Field::Checklist, &absorbed),
            Some(remote.clone())
        );
        // Deterministic: the same inputs give the same ids (the decision is pure).
        assert_eq!(absorbed, rules.absorb(Field::Checklist, &local, &remote));
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

    #[test]
    fn edits_of_different_checklist_items_on_both_sides_merge() {
        let base = checklist_value(&local_items(&[
            ("a", "milk", false),
            ("b", "eggs", false),
            ("c", "bread", false),
        ]));
        // Locally: milk checked off, bread removed, jam added.
        let local = checklist_value(&local_items(&[
            ("a", "milk", true),
            ("b", "eggs", false),
            ("d", "jam", false),
        ]));
        let expected_local_part = [("a", "milk", true), ("d", "jam", false)];
        for kind in [RemoteKind::Todo, RemoteKind::Planner] {
            let rules = SideRules::new(kind, CalendarZone::utc());
            // Remotely: eggs renamed, butter added.
            let remote_items = local_items(&[
                ("a", "milk", false),
                ("b", "free-range eggs", false),
                ("c", "bread", false),
                ("p", "butter", false),
            ]);
            let remote = rules
                .canon(Field::Checklist, &checklist_value(&remote_items))
                .unwrap();
            let merged = rules
                .merge_items(Field::Checklist, &base, &local, &remote)
                .expect("different items merge");
            let merged = checklist_of(&merged);
            let titles: Vec<(&str, bool)> = merged
                .iter()
                .map(|c| (c.title.as_str(), c.checked))
                .collect();
            assert_eq!(merged.len(), 4, "{kind:?}: {merged:?}");
            for (id, title, checked) in expected_local_part {
                assert!(
                    merged.contains(&local_items(&[(id, title, checked)])[0]),
                    "{kind:?}"
                );
            }
            assert!(titles.contains(&("free-range eggs", false)), "{kind:?}");
            assert!(titles.contains(&("butter", false)), "{kind:?}");
            assert!(!titles.iter().any(|(t, _)| *t == "bread"), "{kind:?}");
            assert_eq!(
                merged
                    .iter()
                    .find(|c| c.title == "free-range eggs")
                    .unwrap()
                    .id,
                "b",
                "{kind:?}: the renamed item keeps its id"
            );

            // The same item changed on both sides: the policy decides the field.
            let clash = rules
                .canon(
                    Field::Checklist,
                    &checklist_value(&local_items(&[
                        ("a", "oat milk", false),
                        ("b", "eggs", false),
                        ("c", "bread", false),
                    ])),
                )
                .unwrap();
            assert_eq!(
                rules.merge_items(Field::Checklist, &base, &local, &clash),
                None,
                "{kind:?}"
            );
        }
        let rules = SideRules::new(RemoteKind::Todo, CalendarZone::utc());
        assert_eq!(rules.merge_items(Field::Title, &base, &local, &base), None);
    }

    /// One side's edit of one item: 0 none, 1 toggle, 2 rename, 3 delete.
    fn edit_items(items: &[ChecklistItem], edits: &[u8], suffix: &str) -> Vec<ChecklistItem> {
        items
            .iter()
            .zip(edits)
            .filter_map(|(c, e)| match e {
                1 => Some(ChecklistItem {
                    checked: !c.checked,
                    ..c.clone()
                }),
                2 => Some(ChecklistItem {
                    title: format!("{} {suffix}", c.title),
                    ..c.clone()
                }),
                3 => None,
                _ => Some(c.clone()),
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn edits_of_different_items_always_merge_with_both_kept(
            todo in proptest::bool::ANY,
            checked in proptest::collection::vec(proptest::bool::ANY, 1..7),
            sides in proptest::collection::vec((0u8..4, proptest::bool::ANY), 7),
            local_adds in 0usize..3,
            remote_adds in 0usize..3,
        ) {
            let kind = if todo { RemoteKind::Todo } else { RemoteKind::Planner };
            let rules = SideRules::new(kind, CalendarZone::utc());
            let base: Vec<ChecklistItem> = checked
                .iter()
                .enumerate()
                .map(|(i, c)| ChecklistItem { id: format!("b{i}"), title: format!("t{i}"), checked: *c })
                .collect();
            // Each base item is edited by at most one side.
            let local_edits: Vec<u8> = sides.iter().map(|(e, local)| if *local { *e } else { 0 }).collect();
            let remote_edits: Vec<u8> = sides.iter().map(|(e, local)| if *local { 0 } else { *e }).collect();
            let mut local = edit_items(&base, &local_edits, "here");
            local.extend((0..local_adds).map(|j| ChecklistItem { id: format!("l{j}"), title: format!("mine{j}"), checked: false }));
            let mut remote = edit_items(&base, &remote_edits, "there");
            remote.extend((0..remote_adds).map(|j| ChecklistItem { id: format!("r{j}"), title: format!("theirs{j}"), checked: true }));
            let remote_value = rules.canon(Field::Checklist, &checklist_value(&remote)).unwrap();
            let merged = rules
                .merge_items(Field::Checklist, &checklist_value(&base), &checklist_value(&local), &remote_value)
                .expect("different items merge");
            let merged = checklist_of(&merged);
            // Every item either side edited or added is there as that side left it; every item
            // either side deleted is gone; the others are as they were.
            let mut expected: Vec<(String, bool)> = Vec::new();
            for (i, b) in base.iter().enumerate() {
                let edit = if local_edits[i] != 0 { &local } else { &remote };
                if let Some(c) = edit.iter().find(|c| c.id == b.id) {
                    expected.push((c.title.clone(), c.checked));
                }
            }
            expected.extend(local.iter().chain(&remote).filter(|c| !c.id.starts_with('b')).map(|c| (c.title.clone(), c.checked)));
            let got: Vec<(String, bool)> = merged.iter().map(|c| (c.title.clone(), c.checked)).collect();
            proptest::prop_assert_eq!(todo_checklist_value(&got), todo_checklist_value(&expected));
            // Local ids survive.
            for c in &local {
                if let Some(m) = merged.iter().find(|m| m.title == c.title && m.checked == c.checked) {
                    proptest::prop_assert_eq!(&m.id, &c.id);
                }
            }
        }

        #[test]
        fn adopting_a_todo_checklist_reads_back_as_it_with_unique_ids(
            local in proptest::collection::vec(("[a-c]{0,2}", proptest::bool::ANY), 0..6),
            remote in proptest::collection::vec(("[a-c]{0,2}", proptest::bool::ANY), 0..6),
        ) {
            let local: Vec<ChecklistItem> = local
                .into_iter()
                .enumerate()
                .map(|(i, (title, checked))| ChecklistItem { id: format!("l{i}"), title, checked })
                .collect();
            let adopted = adopt_checklist(&local, &remote);
            let mut ids: Vec<&String> = adopted.iter().map(|c| &c.id).collect();
            ids.sort();
            ids.dedup();
            proptest::prop_assert_eq!(ids.len(), adopted.len());
            let back: Vec<(String, bool)> =
                adopted.iter().map(|c| (c.title.clone(), c.checked)).collect();
            proptest::prop_assert_eq!(todo_checklist_value(&back), todo_checklist_value(&remote));
            // Every local item whose exact twin is still in To Do keeps its id.
            let kept = adopted.iter().filter(|c| c.id.starts_with('l')).count();
            proptest::prop_assert_eq!(kept, local.len().min(remote.len()));
        }
    }
}
