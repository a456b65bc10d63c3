//! How a resync plan prints (`bindings add --dry-run`, `sync --dry-run`): one line per task with
//! its pairing and what would happen, then the totals. Graph ids run to 150 characters: the
//! table shows their last 12 (`--json` has them whole).

use tasksync::sync::{PairedBy, ResyncPlan};

use crate::output::table;

pub fn plan_table(plan: &ResyncPlan) -> String {
    let rows: Vec<Vec<String>> = plan
        .pairs
        .iter()
        .map(|p| {
            let fields = |side: &str, f: &[tasksync::sync::Field]| {
                (!f.is_empty()).then(|| {
                    format!(
                        "{side}: {}",
                        f.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(",")
                    )
                })
            };
            let detail: Vec<String> = [
                fields("local", &p.local_changes),
                fields("remote", &p.remote_changes),
                (!p.conflicts.is_empty()).then(|| format!("conflicts: {}", p.conflicts.join("; "))),
                p.why.clone(),
            ]
            .into_iter()
            .flatten()
            .collect();
            vec![
                short(&p.local_id),
                p.remote_id.as_deref().map_or_else(|| "-".to_owned(), short),
                p.title.clone(),
                p.paired_by.as_str().to_owned(),
                p.action.to_owned(),
                detail.join("; "),
            ]
        })
        .collect();
    let mut text = if rows.is_empty() {
        "No tasks on either side.\n".to_owned()
    } else {
        table(
            &["LOCAL", "REMOTE", "TITLE", "PAIRED BY", "ACTION", "DETAIL"],
            &rows,
        )
    };
    text.push_str(&format!(
        "Pairs: {} by mapping, {} by marker, {} by title. Creates: {} remote, {} local. Updates: {}. Links: {}. Deletes: {} remote, {} local{}. Skips: {}. Nothing to do: {}.\n",
        plan.paired(PairedBy::Mapping),
        plan.paired(PairedBy::Marker),
        plan.paired(PairedBy::Title),
        plan.count("create_remote"),
        plan.count("create_local"),
        plan.count("update"),
        plan.count("link"),
        plan.count("delete_remote"),
        plan.count("delete_local"),
        if plan.deletions_held {
            format!(" ({} held back by the mass-deletion guard)", plan.count("held"))
        } else {
            String::new()
        },
        plan.count("skip"),
        plan.count("nothing"),
    ));
    text
}

/// An id as the table shows it: whole when short, else `…` and its last 12 characters.
fn short(id: &str) -> String {
    let n = id.chars().count();
    if n <= 16 {
        return id.to_owned();
    }
    let tail: String = id.chars().skip(n - 12).collect();
    format!("…{tail}")
}
