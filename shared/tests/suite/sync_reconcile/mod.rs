//! The decision table of the reconcile engine, case by case, and property tests of the merge:
//! applying a plan and reconciling again gives "nothing"; an echo is nothing; a one-sided change
//! is never lost; a field both sides changed is settled by the policy and recorded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod decision_table;
mod properties;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};
use tasksync::graph::models::CalendarZone;
use tasksync::model::{
    Binding, ChecklistItem, ConflictPolicy, Direction, LocalTask, Origin, Priority, RemoteKind,
    TaskDate, TaskStatus,
};
use tasksync::sync::fields::{apply_to_local, local_fields};
use tasksync::sync::{
    ALL_FIELDS, Field, FieldMap, LocalState, Mapping, MappingState, Plan, RemoteTask, Side,
    SideRules, reconcile,
};

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).unwrap()
}

fn binding(kind: RemoteKind) -> Binding {
    match kind {
        RemoteKind::Todo => Binding::todo("b", "list", "user", "todo-list"),
        RemoteKind::Planner => Binding::planner("b", "list", "plan"),
    }
}

fn rules(kind: RemoteKind) -> SideRules {
    SideRules::new(kind, CalendarZone::utc())
}

fn task(title: &str) -> LocalTask {
    LocalTask {
        updated_at: at(1_000),
        ..LocalTask::new("list", "t1", title, Origin::App("agent".into()))
    }
}

/// The remote task as the side would show the given local fields.
fn remote_of(rules: &SideRules, fields: &FieldMap, etag: &str) -> RemoteTask {
    RemoteTask {
        id: "r1".into(),
        fields: fields
            .iter()
            .filter_map(|(f, v)| rules.canon(*f, v).map(|c| (*f, c)))
            .collect(),
        task_etag: Some(etag.into()),
        details_etag: None,
        last_modified: Some(at(500)),
        completed_at: None,
        marker: None,
        created_at: None,
        created_by_this_app: false,
    }
}

fn mapping_for(local: &LocalTask, remote: &RemoteTask) -> Mapping {
    Mapping {
        remote_id: Some(remote.id.clone()),
        task_etag: remote.task_etag.clone(),
        details_etag: remote.details_etag.clone(),
        local_version: local.version,
        base: local_fields(local),
        revision: 1,
        state: MappingState::Active,
        ..Mapping::claim("b", "list", &local.id, RemoteKind::Todo, at(0))
    }
}
