//! Placeholder until its owner fills it in.

#[derive(Default)]
pub struct FaultState {}

#[derive(Default)]
pub struct Counters {}
