//! The DynamoDB item layouts (docs/aws-resources.md) and their conversion to and from the domain
//! types, one module per item type. The in-memory store keeps the very same items, so both
//! adapters accept and reject exactly the same data.
//!
//! Reasons in `InvalidItem` name the attribute and what is wrong with it; they quote a value only
//! for enumerations and timestamps (never a subscription's `clientState`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

pub(crate) mod attrs;
mod binding;
mod conflict;
mod mapping;
mod records;
pub mod schedule;
mod subscription;
mod sweep_index;
mod task;

pub use binding::{
    BINDING_TYPE, BREAKER, FIRST_SYNC_COMPLETED_AT, FIRST_SYNC_PENDING, HINT_WHILE_PAUSED_AT,
    PAUSED_AT, binding_from_item, binding_key, binding_to_item, breaker_to_attribute,
    remote_kind_text,
};
pub use conflict::{
    CONFLICT_TYPE, EXPIRES_AT, conflict_from_item, conflict_key, conflict_pair_pk, conflict_to_item,
};
pub(crate) use mapping::MappingWrite;
pub use mapping::{MAPPING_SK, mapping_from_item, mapping_local_key, mapping_remote_key};
pub(crate) use records::readable_records;
pub use records::{
    DLQ_TYPE, ISSUE_TYPE, dead_letter_from_item, dead_letter_key, dead_letter_to_item,
    issue_from_item, issue_key, issue_to_item,
};
pub use subscription::{
    SUBSCRIPTION_TYPE, subscription_from_item, subscription_key, subscription_to_item,
};
pub use task::{PROTECTABLE_FIELDS, origin_text, task_from_item, task_key, task_to_item};

pub type Item = HashMap<String, AttributeValue>;

// Tasks table attributes (the public item schema).
pub const TASK_LIST_ID: &str = "list_id";
pub const TASK_ID: &str = "id";

// Sync table key attributes.
pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";

/// Primary key of a sync-table item: `pk={item_type}#{id}`, `sk={item_type}`.
fn sync_key(item_type: &str, id: &str) -> Item {
    attrs::item_of([
        (PK, attrs::s(format!("{item_type}#{id}"))),
        (SK, attrs::s(item_type)),
    ])
}

/// The gsi1 keys that put an item in the `partition` listing (gsi1pk), at `sort` (gsi1sk).
fn listed_under(partition: &str, sort: impl Into<String>) -> Item {
    attrs::item_of([(GSI1_PK, attrs::s(partition)), (GSI1_SK, attrs::s(sort))])
}
