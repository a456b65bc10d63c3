//! Recognising the sync's own writes (a write that comes back through the stream or a
//! notification must reconcile to nothing and never bounce back), and deciding when a local
//! change needs no look at the remote side at all. Pure functions, beside `reconcile`, so the
//! decision-table tests cover them.

use super::local_state::LocalState;
use super::mapping::{Mapping, MappingState};
use super::remote::RemoteTask;
use crate::model::Origin;

/// The sync wrote this local item and nobody wrote it since.
pub fn local_is_echo(local: &LocalState, m: &Mapping) -> bool {
    match local {
        LocalState::Present(t) => t.origin == Origin::Sync && t.version == m.local_version,
        _ => false,
    }
}

/// The remote task is exactly as the sync last wrote or read it.
pub fn remote_is_echo(remote: &RemoteTask, m: &Mapping) -> bool {
    remote.task_etag.is_some()
        && remote.task_etag == m.task_etag
        && (remote.details_etag.is_none() || remote.details_etag == m.details_etag)
}

/// For a hint about a local task: `Some(why)` when the local side alone shows there is nothing
/// to do, so the remote side is not read (no Graph call). Two cases:
/// - the item is at the version the sync last synced, the pair is settled (not a create in
///   progress, no recorded failure to retry): the sync's own write coming back through the
///   stream, or a duplicate hint. A remote change arrives with its own hint (notification or
///   sweep), so nothing is lost by not looking;
/// - the item was soft-deleted before it was ever mapped: there is no remote task to delete.
pub fn local_hint_needs_no_remote_read(
    local: &LocalState,
    mapping: Option<&Mapping>,
) -> Option<&'static str> {
    match (mapping, local) {
        (Some(m), LocalState::Present(task))
            if m.state != MappingState::Creating
                && task.version == m.local_version
                && m.last_error.is_none() =>
        {
            Some("echo of the sync's own local write")
        }
        (None, LocalState::Present(task)) if task.deleted => {
            Some("deleted before it was ever synced")
        }
        _ => None,
    }
}
