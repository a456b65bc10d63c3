//! The `clientState` secret a notification carries.
//!
//! Graph echoes the value we gave at subscription creation (docs/graph-behaviour.md §1.1, §1.6); it
//! is the only thing that tells a genuine notification from one anybody on the internet posted to
//! the same URL. So it must never be printed, and comparing it must not leak how many leading bytes
//! were right.

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

/// How a stored or sent clientState shows in `Debug`: whether there is one, never its value.
pub(crate) trait HiddenInDebug {
    fn hidden(&self) -> &dyn std::fmt::Debug;
}

impl HiddenInDebug for String {
    fn hidden(&self) -> &dyn std::fmt::Debug {
        &"<redacted>"
    }
}

impl HiddenInDebug for Option<String> {
    fn hidden(&self) -> &dyn std::fmt::Debug {
        match self {
            Some(_) => &Some("<redacted>"),
            None => &None::<&str>,
        }
    }
}

/// `Debug` for a type that holds a clientState in a `client_state` field: the fields named, then
/// the clientState as `<redacted>`, so neither a log line nor a failed assertion can show it.
macro_rules! debug_hiding_client_state {
    ($type:ident { $($field:ident),+ $(,)? }) => {
        impl std::fmt::Debug for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                use $crate::notification::HiddenInDebug as _;
                f.debug_struct(stringify!($type))
                    $(.field(stringify!($field), &self.$field))+
                    .field("client_state", self.client_state.hidden())
                    .finish()
            }
        }
    };
}
pub(crate) use debug_hiding_client_state;

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

    struct Held {
        id: &'static str,
        client_state: Option<String>,
    }
    debug_hiding_client_state! { Held { id } }

    #[test]
    fn types_holding_a_client_state_show_only_whether_there_is_one() {
        let held = Held {
            id: "s1",
            client_state: Some("s3cret-value".into()),
        };
        assert_eq!(
            format!("{held:?}"),
            r#"Held { id: "s1", client_state: Some("<redacted>") }"#
        );
        let listed = Held {
            client_state: None,
            ..held
        };
        assert_eq!(
            format!("{listed:?}"),
            r#"Held { id: "s1", client_state: None }"#
        );
        assert_eq!(
            format!("{:?}", "s3cret-value".to_owned().hidden()),
            r#""<redacted>""#
        );
    }
}
