//! Store adapters: DynamoDB and in-memory implementations of the store ports.
//!
//! Conversion between domain types and DynamoDB `AttributeValue`s happens only in `item`, and
//! both adapters share it. Item layouts: docs/aws-resources.md.

pub mod dynamodb;
pub mod item;
pub mod memory;

pub use dynamodb::{DynamoSyncStore, DynamoTaskStore};
pub use item::Item;
/// The scheduler's items under the name the tests and examples import them by.
pub use item::schedule as schedule_item;
pub use memory::MemoryStore;
