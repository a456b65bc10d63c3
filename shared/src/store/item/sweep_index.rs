//! The scheduler's index on the by-remote mapping items (docs/scheduler.md): the attributes that
//! let a sweep read a binding's remote ETags with one gsi1 Query.

use super::attrs::{ItemExt, item_of, s};
use super::{GSI1_PK, GSI1_SK, Item};
use crate::ports::{MappedEtags, StoreError};

/// gsi1 partition of the mapping items of one binding (the remote-keyed item only).
pub fn mapping_partition(binding_id: &str) -> String {
    format!("mapping#{binding_id}")
}

/// Attribute names on a mapping item that the sweep reads (docs/scheduler.md).
pub const MAPPING_REMOTE_ID: &str = "remote_id";
pub const MAPPING_REMOTE_ETAG: &str = "remote_etag";
pub const MAPPING_REMOTE_DETAILS_ETAG: &str = "remote_details_etag";

/// The attributes the reconcile engine adds to the **remote-keyed** mapping item
/// (`pk=remote#{kind}#{remote_id}`, `sk=mapping`) so the sweep sees it: the gsi1 keys and the
/// ETags recorded as base. Merge them into the item on every mapping write.
pub fn mapping_index_attributes(
    binding_id: &str,
    remote_id: &str,
    etag: Option<&str>,
    details_etag: Option<&str>,
) -> Item {
    let mut item = item_of([
        (GSI1_PK, s(mapping_partition(binding_id))),
        (GSI1_SK, s(remote_id)),
        (MAPPING_REMOTE_ID, s(remote_id)),
    ]);
    if let Some(etag) = etag {
        item.insert(MAPPING_REMOTE_ETAG.to_owned(), s(etag));
    }
    if let Some(details) = details_etag {
        item.insert(MAPPING_REMOTE_DETAILS_ETAG.to_owned(), s(details));
    }
    item
}

/// Reads the sweep's view of a mapping item found under `mapping#{binding}`.
pub fn mapped_etags_from_item(item: &Item) -> Result<(String, MappedEtags), StoreError> {
    let id = match item.get(MAPPING_REMOTE_ID).or_else(|| item.get(GSI1_SK)) {
        Some(aws_sdk_dynamodb::types::AttributeValue::S(id)) if !id.is_empty() => id.clone(),
        _ => {
            return Err(StoreError::InvalidItem(
                "mapping item: attribute remote_id is missing".to_owned(),
            ));
        }
    };
    let text = |name: &str| item.text(name).map(str::to_owned);
    Ok((
        id,
        MappedEtags {
            etag: text(MAPPING_REMOTE_ETAG),
            details_etag: text(MAPPING_REMOTE_DETAILS_ETAG),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_index_attributes_read_back() {
        let item = mapping_index_attributes("b", "r1", Some("W/\"1\""), None);
        let (id, etags) = mapped_etags_from_item(&item).unwrap();
        assert_eq!(id, "r1");
        assert_eq!(etags.etag.as_deref(), Some("W/\"1\""));
        assert_eq!(etags.details_etag, None);
    }
}
