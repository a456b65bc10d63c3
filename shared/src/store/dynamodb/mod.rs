//! The store ports on DynamoDB: the tasks table and the single-table sync table
//! (docs/aws-resources.md). Items are built and read by `store::item`, shared with the
//! in-memory adapter.

mod binding_admin;
mod conflict;
mod mapping;
mod records;
mod recovery;
mod schedule;
mod sdk_error;
mod sync;
mod table;
mod tasks;

pub use sync::DynamoSyncStore;
pub use tasks::DynamoTaskStore;
