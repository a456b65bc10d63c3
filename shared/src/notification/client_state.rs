//! The `clientState` secret a notification carries.
//!
//! Graph echoes the value we gave at subscription creation (graph-facts §1.1, §1.6); it is the only
//! thing that tells a genuine notification from one anybody on the internet posted to the same
//! URL. So it must never be printed, and comparing it must not leak how many leading bytes were
//! right.

use subtle::ConstantTimeEq;

/// A `clientState` as received. Debug prints `<redacted>`; there is deliberately no `Display`
/// and no accessor, so the only thing code can do with it is compare it.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientState(String);

impl ClientState {
    pub fn new(value: impl Into<String>) -> Self {
        ClientState(value.into())
    }

    /// Compares with the stored secret in time independent of where the first difference is.
    ///
    /// The lengths are not hidden (`subtle` returns early on a length mismatch); the length of a
    /// random secret tells an attacker nothing useful.
    pub fn matches(&self, expected: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(expected.as_bytes()))
    }
}

impl std::fmt::Debug for ClientState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientState(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_exact_secret() {
        let state = ClientState::new("s3cret-value");
        assert!(state.matches("s3cret-value"));
        assert!(!state.matches("s3cret-valuE"));
        assert!(!state.matches("s3cret-valu"));
        assert!(!state.matches(""));
        assert!(!ClientState::new("").matches("x"));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let shown = format!("{:?}", ClientState::new("s3cret-value"));
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("redacted"));
    }
}
