//! Reading the To Do task id out of a notification's `resource` path.
//!
//! Graph gives the changed item as a path relative to `https://graph.microsoft.com` (docs/graph-behaviour.md
//! §1.6). For todoTask subscriptions (§1.9, §3.4) it is shaped like
//! `Users/{user}/todo/Lists/{list}/Tasks/{task}`; the casing varies between payloads (`Users` vs
//! `users`, `Lists` vs `lists`), a `me/` form is equivalent to `users/{id}/` (§1.1), the OData key
//! form `Tasks('{task}')` is used by some resources, and a `v1.0/` or `beta/` prefix or a leading
//! slash may appear. All of these are accepted; anything else is not a To Do task path.

/// The parts of a todoTask resource path the webhook cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodoTaskResource {
    /// The user segment as given (an id, a UPN, `{user}@{tenant}`), or `me`.
    pub user: String,
    pub list_id: String,
    pub task_id: String,
}

/// Longest id accepted; Graph's To Do ids are around 150 characters.
pub const MAX_ID_LEN: usize = 1024;

/// Parses a todoTask resource path; `None` when the path is not one.
pub fn parse_todo_task_resource(resource: &str) -> Option<TodoTaskResource> {
    let segments: Vec<&str> = resource.split('/').filter(|s| !s.is_empty()).collect();
    let mut rest: &[&str] = &segments;
    if let [version, tail @ ..] = rest
        && (version.eq_ignore_ascii_case("v1.0") || version.eq_ignore_ascii_case("beta"))
    {
        rest = tail;
    }
    let (user, rest) = match rest {
        [me, tail @ ..] if me.eq_ignore_ascii_case("me") => ("me".to_owned(), tail),
        [users, user, tail @ ..] if users.eq_ignore_ascii_case("users") => {
            (valid_id(user)?.to_owned(), tail)
        }
        [users_key, tail @ ..] => (keyed(users_key, "users")?.to_owned(), tail),
        [] => return None,
    };
    let (list_id, rest) = match rest {
        [todo, lists, list, tail @ ..]
            if todo.eq_ignore_ascii_case("todo") && lists.eq_ignore_ascii_case("lists") =>
        {
            (valid_id(list)?, tail)
        }
        [todo, lists_key, tail @ ..] if todo.eq_ignore_ascii_case("todo") => {
            (keyed(lists_key, "lists")?, tail)
        }
        _ => return None,
    };
    let task_id = match rest {
        [tasks, task] if tasks.eq_ignore_ascii_case("tasks") => valid_id(task)?,
        [tasks_key] => keyed(tasks_key, "tasks")?,
        _ => return None,
    };
    Some(TodoTaskResource {
        user,
        list_id: list_id.to_owned(),
        task_id: task_id.to_owned(),
    })
}

/// `Name('key')` (name matched case-insensitively) → `key`.
fn keyed<'a>(segment: &'a str, name: &str) -> Option<&'a str> {
    let prefix = segment.get(..name.len())?;
    if !prefix.eq_ignore_ascii_case(name) {
        return None;
    }
    let key = segment
        .get(name.len()..)?
        .strip_prefix("('")?
        .strip_suffix("')")?;
    valid_id(key)
}

/// An id segment worth passing on: non-empty, bounded, no control characters or quotes, and a
/// segment the Graph URL builder takes (not `.` or `..`, nothing percent-encoded that a hop could
/// decode into a slash or a dot). The worker puts it into a Graph URL path, so nothing here may
/// change the path's structure.
pub fn valid_id(id: &str) -> Option<&str> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && crate::graph::path_segment(id).is_ok()
        && !id.chars().any(|c| {
            c.is_control() || c.is_whitespace() || matches!(c, '/' | '\\' | '?' | '#' | '\'' | '"')
        });
    ok.then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task_id(resource: &str) -> Option<String> {
        parse_todo_task_resource(resource).map(|r| r.task_id)
    }

    #[test]
    fn reads_the_documented_shapes_in_any_case() {
        let parsed = parse_todo_task_resource("Users/u-1/todo/Lists/L1/Tasks/T1").unwrap();
        assert_eq!(
            parsed,
            TodoTaskResource {
                user: "u-1".into(),
                list_id: "L1".into(),
                task_id: "T1".into()
            }
        );
        assert_eq!(
            task_id("users/u-1/todo/lists/L1/tasks/T1").as_deref(),
            Some("T1")
        );
        assert_eq!(
            task_id("/users/u-1/TODO/LISTS/L1/TASKS/T1/").as_deref(),
            Some("T1")
        );
        assert_eq!(task_id("me/todo/lists/L1/tasks/T1").as_deref(), Some("T1"));
        assert_eq!(
            task_id("v1.0/users/u@t/todo/lists/L1/tasks/T1").as_deref(),
            Some("T1")
        );
        assert_eq!(
            task_id("Users('u-1')/todo/Lists('L1')/Tasks('AAMk=')").as_deref(),
            Some("AAMk=")
        );
    }

    #[test]
    fn refuses_other_paths() {
        for resource in [
            "",
            "/",
            "users/u/messages/m1",
            "users/u/todo/lists/L1",
            "users/u/todo/lists/L1/tasks",
            "users/u/todo/lists/L1/tasks/T1/linkedResources/x",
            "users/u/todo/lists/L1/tasks/T1/T2",
            "todo/lists/L1/tasks/T1",
            "users/u/todo/lists/L1/tasks('')",
            "users/u/todo/lists/L1/tasks('x",
            "users/u/todo/lists/L1/tasks/a b",
        ] {
            assert_eq!(task_id(resource), None, "{resource}");
        }
    }

    #[test]
    fn refuses_ids_that_could_bend_a_url() {
        assert_eq!(valid_id("AAMkAGI2T=-_"), Some("AAMkAGI2T=-_"));
        for bad in ["", "a?b", "a#b", "a\\b", "a\nb", "a'b", "a\"b"] {
            assert_eq!(valid_id(bad), None, "{bad:?}");
        }
        assert_eq!(valid_id(&"x".repeat(MAX_ID_LEN + 1)), None);
    }
}
