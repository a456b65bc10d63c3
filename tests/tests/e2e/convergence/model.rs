//! What the convergence test expects, kept beside the world: every task that was ever created,
//! who wrote which field, who deleted it. The checks compare the world with this record only
//! through rules that hold whatever the interleaving was, so a failure is a real defect.

use std::collections::BTreeMap;

/// Who acted: an agent on the tasks table or a person in Planner / To Do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Actor {
    Agent,
    Person,
}

impl Actor {
    pub fn letter(self) -> char {
        match self {
            Actor::Agent => 'a',
            Actor::Person => 'p',
        }
    }
}

/// The synced fields the test edits, with the value each write gave them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    Title,
    Notes,
    Completed,
}

/// The values the test compares on both sides of a pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub title: String,
    pub notes: String,
    pub completed: bool,
}

impl Observed {
    fn get(&self, field: Field) -> String {
        match field {
            Field::Title => self.title.clone(),
            Field::Notes => self.notes.clone(),
            Field::Completed => self.completed.to_string(),
        }
    }
}

/// One task as the test made it: a token its title always starts with, so both sides' copies
/// are found again after any rename.
#[derive(Debug, Clone)]
pub struct Entity {
    pub token: u32,
    pub created_by: Actor,
    /// Set when the agent created it, or once the sync imported it.
    pub local_id: Option<String>,
    /// Set when a person created it, or once the sync created it remotely.
    pub remote_id: Option<String>,
    pub writes: Vec<(Actor, Field, String)>,
    pub deleted_by: Option<Actor>,
}

impl Entity {
    pub fn new(token: u32, created_by: Actor) -> Self {
        Self {
            token,
            created_by,
            local_id: None,
            remote_id: None,
            writes: Vec::new(),
            deleted_by: None,
        }
    }

    pub fn record(&mut self, actor: Actor, field: Field, value: impl Into<String>) {
        self.writes.push((actor, field, value.into()));
    }

    /// Who edited `field` after the creation.
    fn writers_of(&self, field: Field) -> Vec<Actor> {
        let mut actors: Vec<Actor> = self
            .writes
            .iter()
            .skip(CREATION_WRITES)
            .filter(|(_, f, _)| *f == field)
            .map(|(a, _, _)| *a)
            .collect();
        actors.sort();
        actors.dedup();
        actors
    }

    fn last_write(&self, actor: Actor, field: Field) -> Option<&str> {
        self.writes
            .iter()
            .rev()
            .find(|(a, f, _)| *a == actor && *f == field)
            .map(|(_, _, v)| v.as_str())
    }

    fn values_of(&self, field: Field) -> Vec<&str> {
        self.writes
            .iter()
            .filter(|(_, f, _)| *f == field)
            .map(|(_, _, v)| v.as_str())
            .collect()
    }

    /// Did the test ever see both of its ids (through the mapping)?
    fn was_paired(&self) -> bool {
        self.local_id.is_some() && self.remote_id.is_some()
    }

    /// What happened to it, for a failure's message.
    pub fn history(&self) -> String {
        let writes: Vec<String> = self
            .writes
            .iter()
            .map(|(a, f, v)| format!("{a:?} {f:?}={v:?}"))
            .collect();
        format!(
            "created by {:?} (local {:?}, remote {:?}), deleted by {:?}, writes [{}]",
            self.created_by,
            self.local_id,
            self.remote_id,
            self.deleted_by,
            writes.join(", ")
        )
    }

    /// Did `actor` write anything after the entity was created (its creation aside)?
    fn edited_by(&self, actor: Actor) -> bool {
        let creation = usize::from(actor == self.created_by) * CREATION_WRITES;
        self.writes.iter().filter(|(a, _, _)| *a == actor).count() > creation
    }
}

/// A creation records title and notes (and not-completed): three writes.
pub const CREATION_WRITES: usize = 3;

/// The token a task's title starts with (`k17 a3` → 17).
pub fn token_of(title: &str) -> Option<u32> {
    title.strip_prefix('k')?.split(' ').next()?.parse().ok()
}

/// Both sides' live copies of one token.
#[derive(Debug, Default)]
pub struct Copies {
    pub local: Vec<Observed>,
    pub remote: Vec<Observed>,
}

/// Checks the converged world against the record: each violation as one line.
pub fn violations(entities: &[Entity], world: &BTreeMap<u32, Copies>) -> Vec<String> {
    let mut found = Vec::new();
    for token in world.keys() {
        if !entities.iter().any(|e| e.token == *token) {
            found.push(format!("k{token}: a task nobody created"));
        }
    }
    let empty = Copies::default();
    for entity in entities {
        let token = entity.token;
        let copies = world.get(&token).unwrap_or(&empty);
        if copies.local.len() > 1 || copies.remote.len() > 1 {
            found.push(format!(
                "k{token}: duplicated: {} local, {} remote",
                copies.local.len(),
                copies.remote.len()
            ));
            continue;
        }
        let (local, remote) = (copies.local.first(), copies.remote.first());
        match (local, remote) {
            (None, None) => {
                if entity.deleted_by.is_none() {
                    found.push(format!(
                        "k{token}: lost: nobody deleted it; {}",
                        entity.history()
                    ));
                }
                continue;
            }
            (Some(only), None) | (None, Some(only)) if only.completed && !entity.was_paired() => {
                // Completed before its first sync: not imported (`import_completed` off).
                continue;
            }
            (Some(_), None) | (None, Some(_)) => {
                found.push(format!(
                    "k{token}: one-sided: local {}, remote {}; {}",
                    local.is_some(),
                    remote.is_some(),
                    entity.history()
                ));
                continue;
            }
            (Some(_), Some(_)) => {}
        }
        let (Some(local), Some(remote)) = (local, remote) else {
            continue;
        };
        if let Some(deleter) = entity.deleted_by {
            let other = match deleter {
                Actor::Agent => Actor::Person,
                Actor::Person => Actor::Agent,
            };
            if !entity.edited_by(other) {
                found.push(format!(
                    "k{token}: came back: deleted by {deleter:?}, never edited by {other:?}; {}",
                    entity.history()
                ));
            }
        }
        if local != remote {
            found.push(format!(
                "k{token}: sides disagree: local {local:?}, remote {remote:?}"
            ));
            continue;
        }
        for field in [Field::Title, Field::Notes, Field::Completed] {
            let value = local.get(field);
            let writers = entity.writers_of(field);
            let sole = match writers.as_slice() {
                [] => Some(entity.created_by),
                [only] => Some(*only),
                _ => None,
            };
            if let Some(only) = sole {
                let expected = entity.last_write(only, field).unwrap_or_default();
                if value != expected {
                    found.push(format!(
                        "k{token}: {field:?} lost {only:?}'s edit: {value:?}, expected {expected:?}"
                    ));
                }
            } else if !entity.values_of(field).contains(&value.as_str()) {
                found.push(format!(
                    "k{token}: {field:?} is {value:?}, which nobody wrote"
                ));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(title: &str, notes: &str, completed: bool) -> Observed {
        Observed {
            title: title.into(),
            notes: notes.into(),
            completed,
        }
    }

    fn created(token: u32, by: Actor) -> Entity {
        let mut e = Entity::new(token, by);
        e.record(by, Field::Title, format!("k{token} {}0", by.letter()));
        e.record(by, Field::Notes, "");
        e.record(by, Field::Completed, "false");
        e
    }

    #[test]
    fn a_one_sided_edit_must_survive_and_a_duplicate_is_found() {
        let mut e = created(1, Actor::Agent);
        e.record(Actor::Person, Field::Notes, "n1");
        let mut world = BTreeMap::new();
        world.insert(
            1,
            Copies {
                local: vec![seen("k1 a0", "", false)],
                remote: vec![seen("k1 a0", "", false)],
            },
        );
        assert_eq!(violations(std::slice::from_ref(&e), &world).len(), 1);
        if let Some(c) = world.get_mut(&1) {
            c.local[0].notes = "n1".into();
            c.remote[0].notes = "n1".into();
        }
        assert!(violations(std::slice::from_ref(&e), &world).is_empty());
        if let Some(c) = world.get_mut(&1) {
            c.remote.push(seen("k1 a0", "n1", false));
        }
        assert_eq!(violations(&[e], &world).len(), 1);
    }

    #[test]
    fn a_deleted_task_may_not_come_back_unless_the_other_side_edited_it() {
        let mut e = created(2, Actor::Person);
        e.deleted_by = Some(Actor::Agent);
        let mut world = BTreeMap::new();
        world.insert(
            2,
            Copies {
                local: vec![seen("k2 p0", "", false)],
                remote: vec![seen("k2 p0", "", false)],
            },
        );
        assert_eq!(violations(std::slice::from_ref(&e), &world).len(), 1);
        e.record(Actor::Person, Field::Title, "k2 p1");
        if let Some(c) = world.get_mut(&2) {
            c.local[0].title = "k2 p1".into();
            c.remote[0].title = "k2 p1".into();
        }
        assert!(violations(&[e], &world).is_empty());
        assert_eq!(token_of("k17 a3"), Some(17));
        assert_eq!(token_of("x17"), None);
    }
}
