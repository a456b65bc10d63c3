//! Comparing a listing with the ETags the mapping recorded: what is new or changed, and what is
//! mapped but no longer listed.

use std::collections::{HashMap, HashSet};

use crate::ports::MappedEtags;

/// One remote task as listed: its ETags (details only for Planner).
#[derive(Debug, Clone)]
pub(super) struct Listed {
    pub id: String,
    pub etag: Option<String>,
    pub details_etag: Option<String>,
}

/// Differences between a listing and the mapping.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Diff {
    /// New, or ETag / details ETag differs from the recorded base.
    pub changed: Vec<String>,
    /// Mapped, but no longer listed.
    pub vanished: Vec<String>,
}

/// A recorded base without an ETag counts as different: better one hint too many than a change
/// never seen. (The reconcile engine records both ETags, docs/scheduler.md.)
fn differs(listed: &Listed, mapped: &MappedEtags, with_details: bool) -> bool {
    if listed.etag.is_none() || listed.etag != mapped.etag {
        return true;
    }
    with_details && (mapped.details_etag.is_none() || listed.details_etag != mapped.details_etag)
}

pub(super) fn diff(
    listed: &[Listed],
    mapped: &HashMap<String, MappedEtags>,
    with_details: bool,
) -> Diff {
    let mut seen = HashSet::with_capacity(listed.len());
    let mut out = Diff::default();
    for task in listed {
        if !seen.insert(task.id.as_str()) {
            continue;
        }
        match mapped.get(&task.id) {
            Some(base) if !differs(task, base, with_details) => {}
            _ => out.changed.push(task.id.clone()),
        }
    }
    let mut vanished: Vec<String> = mapped
        .keys()
        .filter(|id| !seen.contains(id.as_str()))
        .cloned()
        .collect();
    vanished.sort();
    out.vanished = vanished;
    out
}

/// The task's ETag is the one the mapping recorded: the listing echoes a state already synced.
pub(super) fn echoes(
    id: &str,
    etag: Option<&String>,
    mapped: &HashMap<String, MappedEtags>,
) -> bool {
    mapped
        .get(id)
        .is_some_and(|m| etag.is_some() && m.etag.as_ref() == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(id: &str, etag: &str, details: Option<&str>) -> Listed {
        Listed {
            id: id.into(),
            etag: Some(etag.into()),
            details_etag: details.map(Into::into),
        }
    }

    fn base(etag: &str, details: Option<&str>) -> MappedEtags {
        MappedEtags {
            etag: Some(etag.into()),
            details_etag: details.map(Into::into),
        }
    }

    #[test]
    fn only_differences_become_changes() {
        let mapped = HashMap::from([
            ("same".to_owned(), base("1", Some("d1"))),
            ("task".to_owned(), base("1", Some("d1"))),
            ("details".to_owned(), base("1", Some("d1"))),
            ("gone".to_owned(), base("1", Some("d1"))),
        ]);
        let listing = [
            listed("same", "1", Some("d1")),
            listed("task", "2", Some("d1")),
            listed("details", "1", Some("d2")),
            listed("new", "1", Some("d1")),
        ];
        let d = diff(&listing, &mapped, true);
        assert_eq!(d.changed, vec!["task", "details", "new"]);
        assert_eq!(d.vanished, vec!["gone"]);
        // To Do has no details ETag: only the task's counts.
        let d = diff(&[listed("details", "1", None)], &mapped, false);
        assert!(d.changed.is_empty());
    }
}
