//! The worker function's handler: consumes SQS batches of hints and reconciles.
