//! From a remote task to its pair: the mapping that names the remote task, or else the marker's
//! local id (a create whose record was lost), or else the remote id itself (a remote-born task,
//! whose local item takes the remote id). One resolver serves the hint path and the resync.

use super::failure::SyncFailure;
use super::mapping::Mapping;
use super::scope::Scope;
use crate::ports::MappingStore;

pub(crate) struct Resolved {
    pub local_id: String,
    pub mapping: Option<Mapping>,
    /// A by-remote mapping item names this remote task (its pair is recorded).
    pub mapped: bool,
}

// Returned once per remote task and taken apart at once.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Resolution {
    Pair(Resolved),
    /// The local task of that id is paired with another remote task: this one is a stray copy
    /// (e.g. a create whose record was lost), left alone.
    MapsElsewhere,
}

pub(crate) async fn resolve_remote<S: MappingStore, T>(
    scope: &Scope<'_, S, T>,
    remote_id: &str,
    marker: Option<&str>,
) -> Result<Resolution, SyncFailure> {
    let by_remote = scope
        .sync
        .mapping_by_remote(scope.binding.remote, remote_id)
        .await?;
    if let Some(m) = by_remote {
        return Ok(Resolution::Pair(Resolved {
            local_id: m.local_id.clone(),
            mapping: Some(m),
            mapped: true,
        }));
    }
    let local_id = marker.unwrap_or(remote_id).to_owned();
    // A claim (creating, no remote id yet) exists only under the local key.
    let mapping = scope
        .sync
        .mapping_by_local(&scope.binding.local_list_id, &local_id)
        .await?;
    if mapping
        .as_ref()
        .is_some_and(|m| m.remote_id.as_ref().is_some_and(|id| id != remote_id))
    {
        tracing::warn!(
            remote_id,
            local_id,
            "remote task whose local task maps elsewhere: left alone"
        );
        return Ok(Resolution::MapsElsewhere);
    }
    Ok(Resolution::Pair(Resolved {
        local_id,
        mapping,
        mapped: false,
    }))
}
