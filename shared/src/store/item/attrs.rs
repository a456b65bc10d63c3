//! Reading and writing single attribute values, for every item type.
//!
//! [`Reader`] is the strict side: it reads an item that must follow its layout and names the item
//! kind and the attribute in every reason. [`ItemExt`] is the lenient side, for the adapters'
//! own bookkeeping (keys, revisions, index attributes), where an absent or odd value simply
//! does not match.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};

use super::Item;
use crate::ports::StoreError;

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn timestamp(at: &DateTime<Utc>) -> AttributeValue {
    // Full precision, so a read gives back exactly what was written.
    s(at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

pub(crate) fn string_list(values: &[String]) -> AttributeValue {
    AttributeValue::L(values.iter().map(s).collect())
}

/// An item built from `(name, value)` pairs.
pub(crate) fn item_of<const N: usize>(attributes: [(&str, AttributeValue); N]) -> Item {
    attributes
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect::<HashMap<_, _>>()
}

/// Lenient reads of one attribute: `None` when it is absent or not of the asked type.
pub(crate) trait ItemExt {
    /// The attribute as a string (S).
    fn text(&self, name: &str) -> Option<&str>;

    /// The attribute as a non-negative integer (N).
    fn whole_number(&self, name: &str) -> Option<u64>;
}

impl ItemExt for Item {
    fn text(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(AttributeValue::S(v)) => Some(v),
            _ => None,
        }
    }

    fn whole_number(&self, name: &str) -> Option<u64> {
        match self.get(name) {
            Some(AttributeValue::N(v)) => v.parse().ok(),
            _ => None,
        }
    }
}

/// Typed access to an item's attributes, with reasons that name the item kind and attribute.
/// A `NULL` attribute reads as an absent one.
pub(crate) struct Reader<'a> {
    item: &'a Item,
    kind: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(item: &'a Item, kind: &'static str) -> Self {
        Self { item, kind }
    }

    pub(crate) fn invalid(&self, reason: String) -> StoreError {
        StoreError::InvalidItem(format!("{} item: {reason}", self.kind))
    }

    pub(crate) fn type_error(&self, name: &str, expected: &str) -> StoreError {
        self.invalid(format!("attribute {name} is not {expected}"))
    }

    /// The attribute when present and not `NULL`.
    pub(crate) fn optional(&self, name: &str) -> Option<&'a AttributeValue> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => None,
            Some(value) => Some(value),
        }
    }

    fn get(&self, name: &str) -> Result<&'a AttributeValue, StoreError> {
        self.item
            .get(name)
            .ok_or_else(|| self.invalid(format!("attribute {name} is missing")))
    }

    pub(crate) fn string(&self, name: &str) -> Result<&'a str, StoreError> {
        match self.get(name)? {
            AttributeValue::S(v) => Ok(v),
            _ => Err(self.type_error(name, "a string (S)")),
        }
    }

    pub(crate) fn optional_string(&self, name: &str) -> Result<Option<&'a str>, StoreError> {
        match self.optional(name) {
            None => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v)),
            Some(_) => Err(self.type_error(name, "a string (S)")),
        }
    }

    pub(crate) fn optional_bool(&self, name: &str) -> Result<Option<bool>, StoreError> {
        match self.optional(name) {
            None => Ok(None),
            Some(AttributeValue::Bool(v)) => Ok(Some(*v)),
            Some(_) => Err(self.type_error(name, "a boolean (BOOL)")),
        }
    }

    pub(crate) fn number(&self, name: &str) -> Result<u64, StoreError> {
        match self.get(name)? {
            AttributeValue::N(v) => v.parse().map_err(|_| {
                self.invalid(format!(
                    "attribute {name} is not a non-negative integer: {v:?}"
                ))
            }),
            _ => Err(self.type_error(name, "a number (N)")),
        }
    }

    pub(crate) fn optional_number(&self, name: &str) -> Result<Option<u64>, StoreError> {
        match self.optional(name) {
            None => Ok(None),
            Some(_) => self.number(name).map(Some),
        }
    }

    /// A count kept as `u32`; a larger stored number reads as `u32::MAX`.
    pub(crate) fn count(&self, name: &str) -> Result<u32, StoreError> {
        Ok(u32::try_from(self.number(name)?).unwrap_or(u32::MAX))
    }

    pub(crate) fn timestamp(&self, name: &str) -> Result<DateTime<Utc>, StoreError> {
        let text = self.string(name)?;
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                self.invalid(format!(
                    "attribute {name} is not an RFC 3339 timestamp ({e}): {text:?}"
                ))
            })
    }

    pub(crate) fn optional_timestamp(
        &self,
        name: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.optional_string(name)? {
            None => Ok(None),
            Some(_) => self.timestamp(name).map(Some),
        }
    }

    /// A list of strings (L of S) or a string set (SS); absent is empty.
    pub(crate) fn string_set_or_list(&self, name: &str) -> Result<Vec<String>, StoreError> {
        match self.optional(name) {
            None => Ok(Vec::new()),
            Some(AttributeValue::Ss(values)) => Ok(values.clone()),
            Some(AttributeValue::L(values)) => values
                .iter()
                .map(|v| match v {
                    AttributeValue::S(text) => Ok(text.clone()),
                    _ => Err(self.type_error(name, "a list of strings (L of S)")),
                })
                .collect(),
            Some(_) => {
                Err(self.type_error(name, "a list of strings (L of S) or a string set (SS)"))
            }
        }
    }
}
