//! The mapping items of the sync table: two per pair, one found by the local id and one by the
//! remote id, holding the same attributes (docs/sync-engine.md).

use super::attrs::{Reader, item_of, n, s, timestamp};
use super::binding::{parse_remote_kind, remote_kind_text};
use super::sweep_index::mapping_index_attributes;
use super::{Item, PK, SK};
use crate::model::RemoteKind;
use crate::ports::StoreError;
use crate::sync::{Mapping, MappingState};

pub const MAPPING_SK: &str = "mapping";

/// Key of the mapping item found by the local id.
pub fn mapping_local_key(list_id: &str, task_id: &str) -> Item {
    item_of([
        (PK, s(format!("local#{list_id}#{task_id}"))),
        (SK, s(MAPPING_SK)),
    ])
}

/// Key of the mapping item found by the remote id.
pub fn mapping_remote_key(kind: RemoteKind, remote_id: &str) -> Item {
    item_of([
        (
            PK,
            s(format!("remote#{}#{remote_id}", remote_kind_text(kind))),
        ),
        (SK, s(MAPPING_SK)),
    ])
}

/// What one `save_mapping` writes and deletes. Both adapters build it here, so the items they
/// store for a pair are the same; each applies it with its own conditions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MappingWrite {
    /// The revision written: one more than the one read, 1 for a new pair.
    pub revision: u64,
    /// The by-local item.
    pub local: Item,
    /// The by-remote item, when the mapping has a remote id (a claim before the create has not).
    pub remote: Option<Item>,
    /// Key of the by-remote item of the remote id the pair had before (a re-created remote
    /// task), deleted with the write; only beside a by-remote item of another id.
    pub replaced: Option<Item>,
}

impl MappingWrite {
    pub(crate) fn new(
        mapping: &Mapping,
        expected_revision: Option<u64>,
        replaced_remote_id: Option<&str>,
    ) -> Self {
        let revision = expected_revision.map_or(1, |r| r + 1);
        let mut written = mapping.clone();
        written.revision = revision;
        let attributes = mapping_attributes(&written);
        let mut local = attributes.clone();
        local.extend(mapping_local_key(&mapping.local_list_id, &mapping.local_id));
        let remote = mapping
            .remote_id
            .as_deref()
            .map(|id| mapping_remote_item(&written, &attributes, id));
        let replaced = match (mapping.remote_id.as_deref(), replaced_remote_id) {
            (Some(current), Some(old)) if old != current => {
                Some(mapping_remote_key(mapping.remote_kind, old))
            }
            _ => None,
        };
        Self {
            revision,
            local,
            remote,
            replaced,
        }
    }
}

/// The mapping's attributes without a key (both items of a pair hold the same).
fn mapping_attributes(m: &Mapping) -> Item {
    let mut item = Item::new();
    item.insert("binding_id".into(), s(&m.binding_id));
    item.insert("local_list_id".into(), s(&m.local_list_id));
    item.insert("local_id".into(), s(&m.local_id));
    item.insert("remote_kind".into(), s(remote_kind_text(m.remote_kind)));
    if let Some(id) = &m.remote_id {
        item.insert("remote_id".into(), s(id));
    }
    if let Some(etag) = &m.task_etag {
        item.insert("task_etag".into(), s(etag));
    }
    if let Some(etag) = &m.details_etag {
        item.insert("details_etag".into(), s(etag));
    }
    item.insert("local_version".into(), n(m.local_version));
    item.insert(
        "base".into(),
        s(serde_json::to_string(&m.base).unwrap_or_else(|_| "{}".to_owned())),
    );
    item.insert("revision".into(), n(m.revision));
    item.insert("state".into(), s(m.state.as_str()));
    item.insert("created_at".into(), timestamp(&m.created_at));
    item.insert("updated_at".into(), timestamp(&m.updated_at));
    if let Some(e) = &m.last_error {
        item.insert("last_error".into(), s(e));
    }
    if !m.last_conflicts.is_empty() {
        item.insert(
            "last_conflicts".into(),
            s(serde_json::to_string(&m.last_conflicts).unwrap_or_else(|_| "[]".to_owned())),
        );
    }
    item
}

/// The by-remote item of a pair: the mapping plus the scheduler's sweep index (gsi1
/// `mapping#{binding}`, the remote ETags, `sweep_index::mapping_index_attributes`), so a sweep
/// lists a binding's mapped ETags with one Query. A deleted pair leaves the index.
fn mapping_remote_item(m: &Mapping, attributes: &Item, remote_id: &str) -> Item {
    let mut item = attributes.clone();
    if m.state != MappingState::Deleted {
        item.extend(mapping_index_attributes(
            &m.binding_id,
            remote_id,
            m.task_etag.as_deref(),
            m.details_etag.as_deref(),
        ));
    }
    item.extend(mapping_remote_key(m.remote_kind, remote_id));
    item
}

pub fn mapping_from_item(item: &Item) -> Result<Mapping, StoreError> {
    let r = Reader::new(item, "mapping");
    let kind = r.string("remote_kind")?;
    let state = r.string("state")?;
    let base_text = r.string("base")?;
    Ok(Mapping {
        binding_id: r.string("binding_id")?.to_owned(),
        local_list_id: r.string("local_list_id")?.to_owned(),
        local_id: r.string("local_id")?.to_owned(),
        remote_kind: parse_remote_kind(kind)
            .ok_or_else(|| r.invalid(format!("remote_kind {kind:?} is unknown")))?,
        remote_id: r.optional_string("remote_id")?.map(str::to_owned),
        task_etag: r.optional_string("task_etag")?.map(str::to_owned),
        details_etag: r.optional_string("details_etag")?.map(str::to_owned),
        local_version: r.number("local_version")?,
        base: serde_json::from_str(base_text)
            .map_err(|e| r.invalid(format!("attribute base is not a field map: {e}")))?,
        revision: r.number("revision")?,
        state: MappingState::parse(state)
            .ok_or_else(|| r.invalid(format!("state {state:?} is unknown")))?,
        created_at: r.timestamp("created_at")?,
        updated_at: r.timestamp("updated_at")?,
        last_error: r.optional_string("last_error")?.map(str::to_owned),
        last_conflicts: match r.optional_string("last_conflicts")? {
            None => Vec::new(),
            Some(text) => serde_json::from_str(text).map_err(|e| {
                r.invalid(format!(
                    "attribute last_conflicts is not a conflict list: {e}"
                ))
            })?,
        },
    })
}
