//! Support for the local run and the tests (feature `local`): never part of a Lambda binary.
