//! The `tasksync` operations tool.

fn main() {}
