//! Queue adapters: SQS and an in-memory queue, both implementing `ports::HintSend`.
//!
//! Bodies are the versioned envelopes of `queue_message`; both adapters carry them unchanged.

pub mod memory;
pub mod sqs;

pub use memory::MemoryHintQueue;
pub use sqs::{ReceivedMessage, SqsHintQueue};
