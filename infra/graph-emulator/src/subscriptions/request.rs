//! Reading a subscription request (docs/graph-behaviour.md §1.1, §1.2, §1.9): the change types,
//! the endpoint URLs, the lifetime, and the watched resource, which must exist.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{
    MAX_CLIENT_STATE_CHARS, MIN_LIFETIME, ResourceKind, Result, Subscription, SubscriptionError,
    bad,
};
use crate::state::{AppState, lock};
use crate::todo::ChangeKind;

fn parse_change_type(text: &str) -> Result<Vec<ChangeKind>> {
    let mut kinds = Vec::new();
    for part in text.split(',') {
        let kind = match part.trim() {
            "created" => ChangeKind::Created,
            "updated" => ChangeKind::Updated,
            "deleted" => ChangeKind::Deleted,
            other => {
                return Err(bad(format!(
                    "Invalid changeType '{other}': use a comma-separated list of created, updated, deleted."
                )));
            }
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

/// HTTPS is required (§1.1); plain `http://` is accepted for loopback only, so local runs and
/// tests need no certificates.
pub fn check_endpoint_url(field: &str, text: &str) -> Result<()> {
    let parsed =
        url::Url::parse(text).map_err(|_| bad(format!("{field} is not a valid absolute URL.")))?;
    let loopback = matches!(
        parsed.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    );
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(bad(format!(
            "{field} must be an https URL (the emulator also accepts http on loopback)."
        ))),
    }
}

/// Raises short lifetimes to 45 minutes and rejects ones beyond the resource's maximum (§1.9).
pub(super) fn effective_expiration(
    value: &Value,
    kind: ResourceKind,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>> {
    let text = value
        .as_str()
        .ok_or_else(|| bad("expirationDateTime must be a DateTimeOffset string."))?;
    let requested = DateTime::parse_from_rfc3339(text)
        .map_err(|_| {
            bad(format!(
                "expirationDateTime '{text}' is not a valid DateTimeOffset."
            ))
        })?
        .with_timezone(&Utc);
    let max = kind.max_lifetime_minutes();
    if requested > now + chrono::TimeDelta::minutes(max) {
        return Err(SubscriptionError::TooLong(max));
    }
    Ok(requested.max(now + MIN_LIFETIME))
}

/// The task collection a resource path names. `/me` needs a signed-in user, which app-only
/// tokens do not have.
fn parse_resource(resource: &str) -> Result<(ResourceKind, String, String)> {
    let path = resource.trim().trim_start_matches('/');
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        [users, user, todo, lists, list, tasks]
            if users.eq_ignore_ascii_case("users")
                && todo.eq_ignore_ascii_case("todo")
                && lists.eq_ignore_ascii_case("lists")
                && tasks.eq_ignore_ascii_case("tasks")
                && !user.is_empty()
                && !list.is_empty() =>
        {
            Ok((
                ResourceKind::TodoTask,
                user.to_ascii_lowercase(),
                (*list).to_owned(),
            ))
        }
        [me, ..] if me.eq_ignore_ascii_case("me") => Err(bad(
            "/me request is only valid with delegated authentication flow.",
        )),
        _ => Err(bad(format!(
            "The resource '{resource}' is not supported; the emulator accepts users/{{id}}/todo/lists/{{listId}}/tasks."
        ))),
    }
}

fn ensure_resource_exists(state: &AppState, user: &str, list_id: &str) -> Result<()> {
    if !user.eq_ignore_ascii_case(&state.config.user_id) {
        return Err(SubscriptionError::ResourceNotFound(
            "The user of the resource was not found.".into(),
        ));
    }
    let mut todo = lock(&state.todo);
    todo.ensure_default_list(user);
    todo.list(user, list_id).map(|_| ()).map_err(|_| {
        SubscriptionError::ResourceNotFound("The list of the resource was not found.".into())
    })
}

fn required_str<'a>(body: &'a Map<String, Value>, key: &str) -> Result<&'a str> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad(format!("{key} is required.")))
}

/// Reads and checks a create body into a subscription that is not stored yet.
pub(super) fn new_subscription(
    state: &AppState,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Subscription> {
    for (key, value) in body {
        match key.as_str() {
            "changeType"
            | "notificationUrl"
            | "lifecycleNotificationUrl"
            | "resource"
            | "expirationDateTime"
            | "clientState"
            | "latestSupportedTlsVersion"
            | "notificationQueryOptions"
            | "notificationUrlAppId"
            | "id" => {}
            "includeResourceData" if value.as_bool() != Some(true) => {}
            "includeResourceData" => {
                return Err(bad(
                    "Rich notifications (includeResourceData) are not supported for todoTask.",
                ));
            }
            "vapidPublicKey" | "webPushEncryptionP256dhPublicKey" | "webPushEncryptionSecret" => {
                return Err(bad(format!(
                    "{key} is only valid on Web Push subscriptions."
                )));
            }
            k if k.starts_with('@') => {}
            other => {
                return Err(bad(format!(
                    "The property '{other}' does not exist on type 'microsoft.graph.subscription'."
                )));
            }
        }
    }
    let change_type = required_str(body, "changeType")?;
    let change_kinds = parse_change_type(change_type)?;
    let notification_url = required_str(body, "notificationUrl")?;
    check_endpoint_url("notificationUrl", notification_url)?;
    let lifecycle_notification_url = match body.get("lifecycleNotificationUrl") {
        None | Some(Value::Null) => None,
        Some(Value::String(url)) => {
            check_endpoint_url("lifecycleNotificationUrl", url)?;
            Some(url.clone())
        }
        Some(_) => return Err(bad("lifecycleNotificationUrl must be a string.")),
    };
    let resource = required_str(body, "resource")?;
    let (kind, user, list_id) = parse_resource(resource)?;
    let expiration = effective_expiration(
        body.get("expirationDateTime")
            .ok_or_else(|| bad("expirationDateTime is required."))?,
        kind,
        now,
    )?;
    let client_state = match body.get("clientState") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= MAX_CLIENT_STATE_CHARS => Some(s.clone()),
        Some(Value::String(_)) => {
            return Err(bad(format!(
                "clientState must be at most {MAX_CLIENT_STATE_CHARS} characters."
            )));
        }
        Some(_) => return Err(bad("clientState must be a string.")),
    };
    let tls = match body
        .get("latestSupportedTlsVersion")
        .and_then(Value::as_str)
    {
        None => "v1_2".to_owned(),
        Some(v @ ("v1_0" | "v1_1" | "v1_2" | "v1_3")) => v.to_owned(),
        Some(other) => return Err(bad(format!("Invalid latestSupportedTlsVersion '{other}'."))),
    };
    ensure_resource_exists(state, &user, &list_id)?;
    Ok(Subscription {
        id: uuid::Uuid::new_v4().to_string(),
        resource: resource.to_owned(),
        kind,
        user,
        list_id,
        change_type: change_kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(","),
        change_kinds,
        notification_url: notification_url.to_owned(),
        lifecycle_notification_url,
        expiration,
        client_state,
        latest_supported_tls_version: tls,
        last_authorized: now,
    })
}
