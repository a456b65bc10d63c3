//! The webhook function's handler: Graph's front door.
