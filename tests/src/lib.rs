//! The test kit: starts moto and the Graph emulator for end-to-end tests.
