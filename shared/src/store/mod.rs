//! Store adapters: DynamoDB and in-memory implementations of the store ports.
