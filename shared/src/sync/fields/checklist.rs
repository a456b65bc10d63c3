//! Checklists across the sides: To Do's id-less items paired with the local ones by content.

use super::*;

// ---- To Do checklists ----
//
// To Do gives checklist items ids of its own (docs/graph-behaviour.md §3.1: "server generated") and has no
// place for ours, so the local item ids cannot key them as they key Planner's checklist. To Do's
// side of the field is therefore compared by content: the items as `(title, checked)`, sorted.
// Identity comes back through [`pair_checklists`], which pairs two lists so that a check-off, a
// rename, an addition or a removal each touch one item: used when a To Do value is taken into the
// local checklist (local ids survive) and when the local one is written to To Do (one request
// per changed item, none for the others).

/// A checklist in any of its forms (local items with ids, or To Do's id-less form) as
/// `(id, title, checked)`, in the value's order.
pub fn checklist_entries(value: &Value) -> Vec<(Option<String>, String, bool)> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| c.is_object())
                .map(|c| {
                    (
                        c.get("id").and_then(Value::as_str).map(str::to_owned),
                        c.get("title")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        c.get("checked").and_then(Value::as_bool).unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// To Do's form of a checklist: `{title, checked}` items sorted by title, then unchecked first.
pub fn todo_checklist_value(items: &[(String, bool)]) -> Value {
    let mut items: Vec<&(String, bool)> = items.iter().collect();
    items.sort();
    Value::Array(
        items
            .iter()
            .map(|(title, checked)| json!({"title": title, "checked": checked}))
            .collect(),
    )
}

/// How two checklists line up: `pairs` are `(current index, target index)` of the same item
/// (maybe renamed or checked differently), `added` the target items with no partner, `removed`
/// the current items with no partner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChecklistPairing {
    pub pairs: Vec<(usize, usize)>,
    pub added: Vec<usize>,
    pub removed: Vec<usize>,
}

/// Whether two `(title, checked)` items count as the same item in one pairing round.
type SameItem = fn(&(String, bool), &(String, bool)) -> bool;

/// Pairs `current` with `target` (both `(title, checked)`): identical items first, then items
/// with the same title (checked or unchecked since), then titles that hold one another
/// (renamed, keeping words), then the rest in order (renamed). Every
/// item ends in exactly one place, and the unpaired items are as few as the lengths allow, so a
/// diff built on it costs one write per item that really differs.
pub fn pair_checklists(current: &[(String, bool)], target: &[(String, bool)]) -> ChecklistPairing {
    let mut cur_free: Vec<bool> = vec![true; current.len()];
    let mut tgt_free: Vec<bool> = vec![true; target.len()];
    let mut pairs = Vec::new();
    let rounds: [SameItem; 4] = [
        |a, b| a == b,
        |a, b| a.0 == b.0,
        |a, b| related_titles(&a.0, &b.0),
        |_, _| true,
    ];
    for same in rounds {
        for (ti, t) in target.iter().enumerate() {
            if !tgt_free.get(ti).copied().unwrap_or(false) {
                continue;
            }
            let found = current
                .iter()
                .enumerate()
                .find(|(ci, c)| cur_free.get(*ci).copied().unwrap_or(false) && same(c, t));
            if let Some((ci, _)) = found {
                if let Some(f) = cur_free.get_mut(ci) {
                    *f = false;
                }
                if let Some(f) = tgt_free.get_mut(ti) {
                    *f = false;
                }
                pairs.push((ci, ti));
            }
        }
    }
    pairs.sort_unstable();
    ChecklistPairing {
        pairs,
        added: (0..target.len())
            .filter(|i| tgt_free.get(*i).copied().unwrap_or(false))
            .collect(),
        removed: (0..current.len())
            .filter(|i| cur_free.get(*i).copied().unwrap_or(false))
            .collect(),
    }
}

/// A rename that kept the old words ("eggs" → "free-range eggs"): one title holds the other.
fn related_titles(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim().to_lowercase(), b.trim().to_lowercase());
    !a.is_empty() && !b.is_empty() && (a.contains(&b) || b.contains(&a))
}

/// The local checklist after taking To Do's `remote` items: each remote item keeps the id of
/// the local item it pairs with; an item new in To Do gets an id derived from its content and
/// position (the decision is a pure function, so no random ids), unique in the list.
pub fn adopt_checklist(local: &[ChecklistItem], remote: &[(String, bool)]) -> Vec<ChecklistItem> {
    adopt_checklist_reserving(local, remote, std::collections::BTreeSet::new())
}

/// [`adopt_checklist`], never deriving an id in `reserved` (ids another list holds).
pub(super) fn adopt_checklist_reserving(
    local: &[ChecklistItem],
    remote: &[(String, bool)],
    mut used: std::collections::BTreeSet<String>,
) -> Vec<ChecklistItem> {
    let current: Vec<(String, bool)> = local.iter().map(|c| (c.title.clone(), c.checked)).collect();
    let pairing = pair_checklists(&current, remote);
    let mut out = Vec::with_capacity(remote.len());
    for (ci, ti) in &pairing.pairs {
        if let (Some(l), Some((title, checked))) = (local.get(*ci), remote.get(*ti)) {
            used.insert(l.id.clone());
            out.push(ChecklistItem {
                id: l.id.clone(),
                title: title.clone(),
                checked: *checked,
            });
        }
    }
    for ti in &pairing.added {
        if let Some((title, checked)) = remote.get(*ti) {
            let mut salt = *ti as u64;
            let id = loop {
                let candidate = format!("todo-{:016x}", fnv1a(title.as_bytes(), salt));
                if used.insert(candidate.clone()) {
                    break candidate;
                }
                salt = salt.wrapping_add(0x9e37_79b9);
            };
            out.push(ChecklistItem {
                id,
                title: title.clone(),
                checked: *checked,
            });
        }
    }
    out
}

/// FNV-1a (64 bit): a stable hash for derived ids (std's hasher may change between releases).
fn fnv1a(bytes: &[u8], salt: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::models::CalendarZone;
    use crate::model::RemoteKind;
    use serde_json::json;

    fn items(list: &[(&str, bool)]) -> Vec<(String, bool)> {
        list.iter().map(|(t, c)| ((*t).to_owned(), *c)).collect()
    }

    fn local_items(list: &[(&str, &str, bool)]) -> Vec<ChecklistItem> {
        list.iter()
            .map(|(id, title, checked)| ChecklistItem {
                id: (*id).to_owned(),
                title: (*title).to_owned(),
                checked: *checked,
            })
            .collect()
    }

    #[test]
    fn pairing_prefers_identical_items_then_titles_then_order() {
        let current = items(&[("milk", false), ("eggs", false), ("bread", false)]);
        let target = items(&[("bread", false), ("milk", true), ("oat milk", false)]);
        let p = pair_checklists(&current, &target);
        // bread is identical, milk was checked, eggs was renamed to oat milk.
        assert_eq!(p.pairs, vec![(0, 1), (1, 2), (2, 0)]);
        assert!(p.added.is_empty() && p.removed.is_empty());
        let p = pair_checklists(&current, &items(&[("milk", false)]));
        assert_eq!((p.pairs, p.removed), (vec![(0, 0)], vec![1, 2]));
    }

    #[test]
    fn a_todo_checklist_keeps_local_ids_through_check_offs_and_renames() {
        let rules = SideRules::new(RemoteKind::Todo, CalendarZone::utc());
        let local = checklist_value(&local_items(&[("a", "milk", false), ("b", "eggs", false)]));
        let canon = rules.canon(Field::Checklist, &local).unwrap();
        assert_eq!(
            canon,
            json!([{"title": "eggs", "checked": false}, {"title": "milk", "checked": false}])
        );
        // The person checks milk off, renames eggs and adds bread in To Do.
        let remote = todo_checklist_value(&items(&[
            ("milk", true),
            ("free-range eggs", false),
            ("bread", false),
        ]));
        let absorbed = rules.absorb(Field::Checklist, &local, &remote);
        let merged = checklist_of(&absorbed);
        let by_title = |t: &str| merged.iter().find(|c| c.title == t).cloned().unwrap();
        assert_eq!(by_title("milk").id, "a");
        assert!(by_title("milk").checked);
        assert_eq!(by_title("free-range eggs").id, "b");
        assert!(by_title("bread").id.starts_with("todo-"));
        assert_eq!(
            rules.canon(Field::Checklist, &absorbed),
            Some(remote.clone())
        );
        // Deterministic: the same inputs give the same ids (the decision is pure).
        assert_eq!(absorbed, rules.absorb(Field::Checklist, &local, &remote));
    }

    #[test]
    fn edits_of_different_checklist_items_on_both_sides_merge() {
        let base = checklist_value(&local_items(&[
            ("a", "milk", false),
            ("b", "eggs", false),
            ("c", "bread", false),
        ]));
        // Locally: milk checked off, bread removed, jam added.
        let local = checklist_value(&local_items(&[
            ("a", "milk", true),
            ("b", "eggs", false),
            ("d", "jam", false),
        ]));
        let expected_local_part = [("a", "milk", true), ("d", "jam", false)];
        for kind in [RemoteKind::Todo, RemoteKind::Planner] {
            let rules = SideRules::new(kind, CalendarZone::utc());
            // Remotely: eggs renamed, butter added.
            let remote_items = local_items(&[
                ("a", "milk", false),
                ("b", "free-range eggs", false),
                ("c", "bread", false),
                ("p", "butter", false),
            ]);
            let remote = rules
                .canon(Field::Checklist, &checklist_value(&remote_items))
                .unwrap();
            let merged = rules
                .merge_items(Field::Checklist, &base, &local, &remote)
                .expect("different items merge");
            let merged = checklist_of(&merged);
            let titles: Vec<(&str, bool)> = merged
                .iter()
                .map(|c| (c.title.as_str(), c.checked))
                .collect();
            assert_eq!(merged.len(), 4, "{kind:?}: {merged:?}");
            for (id, title, checked) in expected_local_part {
                assert!(
                    merged.contains(&local_items(&[(id, title, checked)])[0]),
                    "{kind:?}"
                );
            }
            assert!(titles.contains(&("free-range eggs", false)), "{kind:?}");
            assert!(titles.contains(&("butter", false)), "{kind:?}");
            assert!(!titles.iter().any(|(t, _)| *t == "bread"), "{kind:?}");
            assert_eq!(
                merged
                    .iter()
                    .find(|c| c.title == "free-range eggs")
                    .unwrap()
                    .id,
                "b",
                "{kind:?}: the renamed item keeps its id"
            );

            // The same item changed on both sides: the policy decides the field.
            let clash = rules
                .canon(
                    Field::Checklist,
                    &checklist_value(&local_items(&[
                        ("a", "oat milk", false),
                        ("b", "eggs", false),
                        ("c", "bread", false),
                    ])),
                )
                .unwrap();
            assert_eq!(
                rules.merge_items(Field::Checklist, &base, &local, &clash),
                None,
                "{kind:?}"
            );
        }
        let rules = SideRules::new(RemoteKind::Todo, CalendarZone::utc());
        assert_eq!(rules.merge_items(Field::Title, &base, &local, &base), None);
    }

    /// One side's edit of one item: 0 none, 1 toggle, 2 rename, 3 delete.
    fn edit_items(items: &[ChecklistItem], edits: &[u8], suffix: &str) -> Vec<ChecklistItem> {
        items
            .iter()
            .zip(edits)
            .filter_map(|(c, e)| match e {
                1 => Some(ChecklistItem {
                    checked: !c.checked,
                    ..c.clone()
                }),
                2 => Some(ChecklistItem {
                    title: format!("{} {suffix}", c.title),
                    ..c.clone()
                }),
                3 => None,
                _ => Some(c.clone()),
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn edits_of_different_items_always_merge_with_both_kept(
            todo in proptest::bool::ANY,
            checked in proptest::collection::vec(proptest::bool::ANY, 1..7),
            sides in proptest::collection::vec((0u8..4, proptest::bool::ANY), 7),
            local_adds in 0usize..3,
            remote_adds in 0usize..3,
        ) {
            let kind = if todo { RemoteKind::Todo } else { RemoteKind::Planner };
            let rules = SideRules::new(kind, CalendarZone::utc());
            let base: Vec<ChecklistItem> = checked
                .iter()
                .enumerate()
                .map(|(i, c)| ChecklistItem { id: format!("b{i}"), title: format!("t{i}"), checked: *c })
                .collect();
            // Each base item is edited by at most one side.
            let local_edits: Vec<u8> = sides.iter().map(|(e, local)| if *local { *e } else { 0 }).collect();
            let remote_edits: Vec<u8> = sides.iter().map(|(e, local)| if *local { 0 } else { *e }).collect();
            let mut local = edit_items(&base, &local_edits, "here");
            local.extend((0..local_adds).map(|j| ChecklistItem { id: format!("l{j}"), title: format!("mine{j}"), checked: false }));
            let mut remote = edit_items(&base, &remote_edits, "there");
            remote.extend((0..remote_adds).map(|j| ChecklistItem { id: format!("r{j}"), title: format!("theirs{j}"), checked: true }));
            let remote_value = rules.canon(Field::Checklist, &checklist_value(&remote)).unwrap();
            let merged = rules
                .merge_items(Field::Checklist, &checklist_value(&base), &checklist_value(&local), &remote_value)
                .expect("different items merge");
            let merged = checklist_of(&merged);
            // Every item either side edited or added is there as that side left it; every item
            // either side deleted is gone; the others are as they were.
            let mut expected: Vec<(String, bool)> = Vec::new();
            for (i, b) in base.iter().enumerate() {
                let edit = if local_edits[i] != 0 { &local } else { &remote };
                if let Some(c) = edit.iter().find(|c| c.id == b.id) {
                    expected.push((c.title.clone(), c.checked));
                }
            }
            expected.extend(local.iter().chain(&remote).filter(|c| !c.id.starts_with('b')).map(|c| (c.title.clone(), c.checked)));
            let got: Vec<(String, bool)> = merged.iter().map(|c| (c.title.clone(), c.checked)).collect();
            proptest::prop_assert_eq!(todo_checklist_value(&got), todo_checklist_value(&expected));
            // Local ids survive.
            for c in &local {
                if let Some(m) = merged.iter().find(|m| m.title == c.title && m.checked == c.checked) {
                    proptest::prop_assert_eq!(&m.id, &c.id);
                }
            }
        }

        #[test]
        fn adopting_a_todo_checklist_reads_back_as_it_with_unique_ids(
            local in proptest::collection::vec(("[a-c]{0,2}", proptest::bool::ANY), 0..6),
            remote in proptest::collection::vec(("[a-c]{0,2}", proptest::bool::ANY), 0..6),
        ) {
            let local: Vec<ChecklistItem> = local
                .into_iter()
                .enumerate()
                .map(|(i, (title, checked))| ChecklistItem { id: format!("l{i}"), title, checked })
                .collect();
            let adopted = adopt_checklist(&local, &remote);
            let mut ids: Vec<&String> = adopted.iter().map(|c| &c.id).collect();
            ids.sort();
            ids.dedup();
            proptest::prop_assert_eq!(ids.len(), adopted.len());
            let back: Vec<(String, bool)> =
                adopted.iter().map(|c| (c.title.clone(), c.checked)).collect();
            proptest::prop_assert_eq!(todo_checklist_value(&back), todo_checklist_value(&remote));
            // Every local item whose exact twin is still in To Do keeps its id.
            let kept = adopted.iter().filter(|c| c.id.starts_with('l')).count();
            proptest::prop_assert_eq!(kept, local.len().min(remote.len()));
        }
    }
}
