//! Planner ETags (docs/graph-behaviour.md §2.4, §2.6): weak, one per resource (task and details
//! separately), changed on every write, shaped like the real ones (`W/"JzEtVGFzayAg..."`, base64
//! that starts with `'1-Task  `).
//!
//! Versions come from one counter shared by all Planner resources, so two resources never carry
//! the same ETag (a foreign ETag is always stale). The version is written in base 52 with the
//! digits `A-Z` then `a-z`, which are base64 characters in ascending ASCII order: ordinal
//! comparison of two ETags of the same resource tells which is newer, as §2.6 promises.

use base64::Engine;

/// What an ETag belongs to; each kind has its own base64 prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtagKind {
    Plan,
    Bucket,
    Task,
    TaskDetails,
}

impl EtagKind {
    /// base64 of `'1-Plan  `, `'1-Bucket`, `'1-Task  `, `'1-TaskDetails ` (whole 3-byte groups, so
    /// the version digits that follow are encoded independently of the prefix).
    fn prefix(self) -> &'static str {
        match self {
            EtagKind::Plan => "JzEtUGxhbiAg",
            EtagKind::Bucket => "JzEtQnVja2V0",
            EtagKind::Task => "JzEtVGFzayAg",
            EtagKind::TaskDetails => "JzEtVGFza0RldGFpbHMg",
        }
    }
}

/// Number of version digits: 52^12 versions is far beyond any emulator run.
const DIGITS: usize = 12;

pub fn etag(kind: EtagKind, version: u64) -> String {
    let mut digits = [b'A'; DIGITS];
    let mut v = version;
    for slot in digits.iter_mut().rev() {
        let d = u8::try_from(v % 52).unwrap_or(0);
        *slot = if d < 26 { b'A' + d } else { b'a' + (d - 26) };
        v /= 52;
    }
    let digits = String::from_utf8_lossy(&digits);
    format!("W/\"{}{digits}\"", kind.prefix())
}

/// How an `If-Match` value relates to a resource's current ETag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    Current,
    /// An ETag of this kind of resource, but not the current one (older, or another resource's).
    Stale,
    /// Not an ETag of this kind at all (e.g. the task's ETag sent to its details, or `*`).
    Invalid,
}

pub fn compare(given: &str, kind: EtagKind, version: u64) -> IfMatch {
    let current = etag(kind, version);
    let given = opaque(given);
    if given == opaque(&current) {
        return IfMatch::Current;
    }
    let well_formed = given.starts_with(kind.prefix())
        && base64::engine::general_purpose::STANDARD
            .decode(given)
            .is_ok();
    if well_formed {
        IfMatch::Stale
    } else {
        IfMatch::Invalid
    }
}

/// The opaque part of an ETag, accepting it with or without `W/` and quotes.
fn opaque(value: &str) -> &str {
    let v = value.trim();
    let v = v.strip_prefix("W/").unwrap_or(v);
    v.trim_matches('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_versions_compare_greater() {
        let mut previous = etag(EtagKind::Task, 0);
        for v in [
            1u64,
            25,
            26,
            51,
            52,
            53,
            2704,
            1_000_000,
            u64::from(u32::MAX),
        ] {
            let e = etag(EtagKind::Task, v);
            assert!(e > previous, "{e} > {previous}");
            previous = e;
        }
    }

    #[test]
    fn looks_like_planner_and_decodes() {
        let e = etag(EtagKind::Task, 7);
        assert!(e.starts_with("W/\"JzEtVGFzayAg"));
        let inner = e.trim_start_matches("W/").trim_matches('"');
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(inner)
            .unwrap();
        assert!(bytes.starts_with(b"'1-Task  "));
    }

    #[test]
    fn classifies_if_match() {
        let t = etag(EtagKind::Task, 5);
        assert_eq!(compare(&t, EtagKind::Task, 5), IfMatch::Current);
        assert_eq!(
            compare(t.trim_start_matches("W/"), EtagKind::Task, 5),
            IfMatch::Current
        );
        assert_eq!(compare(&t, EtagKind::Task, 6), IfMatch::Stale);
        assert_eq!(compare(&t, EtagKind::TaskDetails, 5), IfMatch::Invalid);
        assert_eq!(compare("*", EtagKind::Task, 5), IfMatch::Invalid);
    }
}
