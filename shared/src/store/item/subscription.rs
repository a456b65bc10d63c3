//! The subscription item of the sync table: a Graph change-notification subscription and the
//! secret its notifications must carry.

use super::attrs::{Reader, s, timestamp};
use super::{Item, listed_under, sync_key};
use crate::model::SubscriptionRecord;
use crate::ports::StoreError;

pub const SUBSCRIPTION_TYPE: &str = "subscription";

/// Primary key of a subscription item.
pub fn subscription_key(subscription_id: &str) -> Item {
    sync_key(SUBSCRIPTION_TYPE, subscription_id)
}

pub fn subscription_to_item(record: &SubscriptionRecord) -> Item {
    let mut item = subscription_key(&record.id);
    item.extend(listed_under(SUBSCRIPTION_TYPE, &record.id));
    item.insert("id".into(), s(&record.id));
    item.insert("binding_id".into(), s(&record.binding_id));
    item.insert("client_state".into(), s(&record.client_state));
    item.insert("tenant_id".into(), s(&record.tenant_id));
    item.insert("expires_at".into(), timestamp(&record.expires_at));
    item
}

pub fn subscription_from_item(item: &Item) -> Result<SubscriptionRecord, StoreError> {
    let r = Reader::new(item, "subscription");
    Ok(SubscriptionRecord {
        id: r.string("id")?.to_owned(),
        binding_id: r.string("binding_id")?.to_owned(),
        client_state: r.string("client_state")?.to_owned(),
        tenant_id: r.string("tenant_id")?.to_owned(),
        expires_at: r.timestamp("expires_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;
    use chrono::{TimeZone, Utc};

    #[test]
    fn invalid_subscription_reasons_never_quote_the_client_state() {
        let record = SubscriptionRecord {
            id: "s".into(),
            binding_id: "b".into(),
            client_state: "super-secret".into(),
            tenant_id: "t".into(),
            expires_at: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
        };
        let mut item = subscription_to_item(&record);
        assert_eq!(subscription_from_item(&item).unwrap(), record);
        item.insert("expires_at".into(), AttributeValue::N("1".into()));
        let err = subscription_from_item(&item).unwrap_err().to_string();
        assert!(!err.contains("super-secret"), "{err}");
        assert!(err.contains("expires_at"), "{err}");
    }
}
