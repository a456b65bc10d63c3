//! Queue adapters: SQS and an in-memory queue, both implementing `ports::HintSend`.
