//! What a resync would do, pair by pair, for a person or a script to read before anything is
//! written (`tasksync sync --dry-run`, `tasksync bindings add --dry-run`). Built from the very
//! pairs and plans the resync decides (`resync::plan`), so the dry run and the run cannot
//! disagree on what to do.

use serde::Serialize;

use super::fields::{ALL_FIELDS, Field, FieldMap, local_fields};
use super::pair::Pair;
use super::plan::Plan;

/// How the two sides of a pair were found to belong together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PairedBy {
    /// A mapping recorded by an earlier sync.
    Mapping,
    /// The remote task carries this application's marker naming the local task.
    Marker,
    /// Cold-start matching: same normalised title, on the binding's first sync.
    Title,
    /// One side only, or an unrecorded pair of a remote-born task: no pairing to report.
    Unpaired,
}

impl PairedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            PairedBy::Mapping => "mapping",
            PairedBy::Marker => "marker",
            PairedBy::Title => "title",
            PairedBy::Unpaired => "-",
        }
    }
}

/// One pair of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedPair {
    pub local_id: String,
    pub remote_id: Option<String>,
    pub title: String,
    pub paired_by: PairedBy,
    /// One word for what happens: `nothing`, `skip`, `invalid`, `create_remote`,
    /// `create_local`, `link`, `update`, `delete_local`, `delete_remote`, `forget`, `held`.
    pub action: &'static str,
    /// The local fields the plan writes (changed values only).
    pub local_changes: Vec<Field>,
    /// The remote fields the plan sends.
    pub remote_changes: Vec<Field>,
    /// Fields both sides changed, with the winner (`field: winner (rule)`).
    pub conflicts: Vec<String>,
    /// Why nothing or a skip, in words.
    pub why: Option<String>,
    pub plan: Plan,
}

/// What a resync would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResyncPlan {
    pub pairs: Vec<PlannedPair>,
    /// The mass-deletion guard would hold back this resync's deletions.
    pub deletions_held: bool,
}

impl ResyncPlan {
    /// How many pairs would get `action`.
    pub fn count(&self, action: &str) -> usize {
        self.pairs.iter().filter(|p| p.action == action).count()
    }

    /// How many pairs were found by `by`.
    pub fn paired(&self, by: PairedBy) -> usize {
        self.pairs.iter().filter(|p| p.paired_by == by).count()
    }
}

impl PlannedPair {
    pub(crate) fn new(pair: &Pair, paired_by: PairedBy, plan: &Plan, deletions_held: bool) -> Self {
        let title = pair
            .local
            .task()
            .map(|t| t.title.clone())
            .or_else(|| {
                pair.remote
                    .as_ref()
                    .and_then(|r| r.fields.get(&Field::Title))
                    .and_then(|t| t.as_str().map(str::to_owned))
            })
            .unwrap_or_default();
        let current = pair.local.task().map(local_fields).unwrap_or_default();
        let (action, local_changes, remote_changes, conflicts, why) = match plan {
            Plan::Nothing { why } => ("nothing", vec![], vec![], vec![], Some((*why).to_owned())),
            Plan::Skip { why } => (
                "skip",
                vec![],
                vec![],
                vec![],
                Some(why.describe().to_owned()),
            ),
            Plan::RecordInvalid { reason } => {
                ("invalid", vec![], vec![], vec![], Some(reason.clone()))
            }
            Plan::CreateRemote { fields } => ("create_remote", vec![], keys(fields), vec![], None),
            Plan::CreateLocal { fields } => ("create_local", keys(fields), vec![], vec![], None),
            Plan::Merge(m) => (
                if m.link { "link" } else { "update" },
                m.local
                    .as_ref()
                    .map(|fields| changed(&current, fields))
                    .unwrap_or_default(),
                keys(&m.remote_patch),
                m.conflicts
                    .iter()
                    .map(|c| format!("{}: {:?} ({})", c.field.as_str(), c.winner, c.rule))
                    .collect(),
                None,
            ),
            Plan::DeleteLocal | Plan::DeleteRemote if deletions_held => (
                "held",
                vec![],
                vec![],
                vec![],
                Some("held back by the mass-deletion guard".to_owned()),
            ),
            Plan::DeleteLocal => ("delete_local", vec![], vec![], vec![], None),
            Plan::DeleteRemote => ("delete_remote", vec![], vec![], vec![], None),
            Plan::Forget => ("forget", vec![], vec![], vec![], None),
        };
        Self {
            local_id: pair.local_id.clone(),
            remote_id: pair.remote.as_ref().map(|r| r.id.clone()),
            title,
            paired_by,
            action,
            local_changes,
            remote_changes,
            conflicts,
            why,
            plan: plan.clone(),
        }
    }
}

fn keys(fields: &FieldMap) -> Vec<Field> {
    ALL_FIELDS
        .into_iter()
        .filter(|f| fields.contains_key(f))
        .collect()
}

fn changed(current: &FieldMap, next: &FieldMap) -> Vec<Field> {
    ALL_FIELDS
        .into_iter()
        .filter(|f| next.get(f).is_some_and(|v| current.get(f) != Some(v)))
        .collect()
}
