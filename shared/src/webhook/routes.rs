//! The webhook's URL paths, in one place so the template, the subscription creator and the tests
//! agree on them.

use http::Method;

/// Where Graph posts change notifications (`notificationUrl`).
pub const NOTIFICATION_PATH: &str = "/notifications";
/// Where Graph posts lifecycle notifications (`lifecycleNotificationUrl`, docs/graph-behaviour.md
/// §1.8).
pub const LIFECYCLE_PATH: &str = "/lifecycle";

/// Which of the two endpoints a request addressed.
///
/// Both endpoints behave the same: a payload item says by itself whether it is a change or a
/// lifecycle notification (the two are mutually exclusive, §1.6), and Graph may be given the same
/// URL for both (§1.1). The distinction is kept for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Notifications,
    Lifecycle,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Notifications => "notifications",
            Endpoint::Lifecycle => "lifecycle",
        }
    }
}

/// Maps a request path to an endpoint. A trailing slash and a leading API Gateway stage segment
/// (`/prod/notifications`, when the request names that stage) are tolerated; nothing else is.
pub fn endpoint_for(path: &str, stage: Option<&str>) -> Option<Endpoint> {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let unstaged = stage
        .filter(|s| !s.is_empty() && *s != "$default")
        .and_then(|s| path.strip_prefix('/')?.strip_prefix(s))
        .filter(|rest| rest.starts_with('/'));
    [Some(path), unstaged]
        .into_iter()
        .flatten()
        .find_map(|candidate| match candidate {
            NOTIFICATION_PATH => Some(Endpoint::Notifications),
            LIFECYCLE_PATH => Some(Endpoint::Lifecycle),
            _ => None,
        })
}

/// Methods a Graph endpoint accepts: POST for everything, GET for the validation handshake only
/// (some tooling probes with GET; Graph itself uses POST, §1.3).
pub fn method_allowed(method: &Method) -> bool {
    method == Method::POST || method == Method::GET
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_endpoints_with_and_without_stage() {
        assert_eq!(
            endpoint_for("/notifications", None),
            Some(Endpoint::Notifications)
        );
        assert_eq!(endpoint_for("/lifecycle/", None), Some(Endpoint::Lifecycle));
        assert_eq!(
            endpoint_for("/prod/notifications", Some("prod")),
            Some(Endpoint::Notifications)
        );
        assert_eq!(
            endpoint_for("/notifications", Some("prod")),
            Some(Endpoint::Notifications)
        );
        assert_eq!(
            endpoint_for("/notifications", Some("$default")),
            Some(Endpoint::Notifications)
        );
    }

    #[test]
    fn refuses_everything_else() {
        for (path, stage) in [
            ("/", None),
            ("", None),
            ("/prod/notifications", None),
            ("/prod/notifications", Some("dev")),
            ("/prodnotifications", Some("prod")),
            ("/notifications/x", None),
            ("/NOTIFICATIONS", None),
            ("//", None),
        ] {
            assert_eq!(endpoint_for(path, stage), None, "{path} {stage:?}");
        }
    }
}
