//! Store adapters: DynamoDB and in-memory implementations of the store ports.
//!
//! Conversion between domain types and DynamoDB `AttributeValue`s happens only here (`item`),
//! and both adapters share it. Item layouts: docs/aws-resources.md.

pub mod dynamodb_mapping;
pub mod dynamodb_schedule;
pub mod dynamodb_sync;
pub mod dynamodb_tasks;
pub mod item;
pub mod memory;
mod memory_schedule;
pub mod schedule_item;
mod sdk_error;

pub use dynamodb_sync::DynamoSyncStore;
pub use dynamodb_tasks::DynamoTaskStore;
pub use item::Item;
pub use memory::MemoryStore;
