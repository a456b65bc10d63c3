//! To Do lists (docs/graph-behaviour.md §3.2): the default "Tasks" list every mailbox has, and
//! lists a user creates, renames and deletes.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use super::fields::{is_ignorable, unknown_property};
use super::{TodoError, TodoList, TodoState, bad, exchange_id, new_etag};

impl TodoState {
    /// Every mailbox has a default "Tasks" list; it is made on first use of the user's To Do.
    pub fn ensure_default_list(&mut self, owner: &str) {
        let owner = owner.to_ascii_lowercase();
        if self.seeded_users.insert(owner.clone()) {
            self.insert_list(&owner, "Tasks", "defaultList");
        }
    }

    pub fn create_list(
        &mut self,
        owner: &str,
        body: &Map<String, Value>,
    ) -> Result<&TodoList, TodoError> {
        let name = list_name(body)?.ok_or_else(|| bad("displayName is required."))?;
        let owner = owner.to_ascii_lowercase();
        let id = self.insert_list(&owner, &name, "none");
        self.lists.get(&id).ok_or(TodoError::ListNotFound)
    }

    /// Renames a list (its only writable property); the list gets a new ETag.
    pub fn update_list(
        &mut self,
        owner: &str,
        list_id: &str,
        body: &Map<String, Value>,
    ) -> Result<&TodoList, TodoError> {
        self.list(owner, list_id)?;
        let name = list_name(body)?;
        let list = self.list_mut(list_id)?;
        if let Some(name) = name {
            list.display_name = name;
        }
        list.etag = new_etag();
        Ok(list)
    }

    /// Deletes a list with its tasks. The default list cannot be deleted (the To Do app refuses).
    pub fn delete_list(&mut self, owner: &str, list_id: &str) -> Result<(), TodoError> {
        if self.list(owner, list_id)?.wellknown_list_name == "defaultList" {
            return Err(bad("The default list cannot be deleted."));
        }
        self.lists.remove(list_id);
        Ok(())
    }

    fn insert_list(&mut self, owner: &str, name: &str, wellknown: &'static str) -> String {
        let id = exchange_id(64);
        self.lists.insert(
            id.clone(),
            TodoList {
                id: id.clone(),
                owner: owner.to_owned(),
                display_name: name.to_owned(),
                wellknown_list_name: wellknown,
                etag: new_etag(),
                tasks: BTreeMap::new(),
                ordinal_by_id: HashMap::new(),
                changes: BTreeMap::new(),
            },
        );
        id
    }

    /// Lists of `owner`: the default list first, then by name (and id) for a stable answer.
    pub fn lists_of(&self, owner: &str) -> Vec<&TodoList> {
        let mut lists: Vec<&TodoList> = self
            .lists
            .values()
            .filter(|l| l.owner.eq_ignore_ascii_case(owner))
            .collect();
        lists.sort_by(|a, b| {
            (
                a.wellknown_list_name != "defaultList",
                &a.display_name,
                &a.id,
            )
                .cmp(&(
                    b.wellknown_list_name != "defaultList",
                    &b.display_name,
                    &b.id,
                ))
        });
        lists
    }

    /// A list of `owner`; another user's list id is "not found" for this user.
    pub fn list(&self, owner: &str, list_id: &str) -> Result<&TodoList, TodoError> {
        self.lists
            .get(list_id)
            .filter(|l| l.owner.eq_ignore_ascii_case(owner))
            .ok_or(TodoError::ListNotFound)
    }

    /// The list by id alone (the control API and subscriptions name lists without their owner).
    pub fn list_any_owner(&self, list_id: &str) -> Result<&TodoList, TodoError> {
        self.lists.get(list_id).ok_or(TodoError::ListNotFound)
    }

    pub(super) fn list_mut(&mut self, list_id: &str) -> Result<&mut TodoList, TodoError> {
        self.lists.get_mut(list_id).ok_or(TodoError::ListNotFound)
    }
}

/// The new `displayName` of a list body, if it gives one; the other list properties are
/// read-only and ignored, anything else is a 400.
fn list_name(body: &Map<String, Value>) -> Result<Option<String>, TodoError> {
    let mut name = None;
    for (key, value) in body {
        match key.as_str() {
            "displayName" => {
                name = Some(
                    value
                        .as_str()
                        .filter(|s| !s.trim().is_empty())
                        .ok_or_else(|| bad("displayName must be a non-empty string."))?
                        .to_owned(),
                )
            }
            k if is_ignorable(k)
                || k == "id"
                || k == "isOwner"
                || k == "isShared"
                || k == "wellknownListName" => {}
            other => return Err(unknown_property(other, "todoTaskList")),
        }
    }
    Ok(name)
}

pub fn list_json(list: &TodoList) -> Value {
    json!({
        "@odata.etag": list.etag,
        "displayName": list.display_name,
        "isOwner": true,
        "isShared": false,
        "wellknownListName": list.wellknown_list_name,
        "id": list.id,
    })
}
