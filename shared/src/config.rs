//! Configuration from environment variables (documented in the README's table).
