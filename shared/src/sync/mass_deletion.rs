//! The mass-deletion guard of docs/architecture.md principle 6, one rule for every path that can delete
//! in bulk (the worker's resync of a binding, the scheduler's sweep): many tasks vanishing at
//! once looks like a broken listing, an emptied table or a wrong binding, not people deleting,
//! so those deletions are held back and reported instead of carried out.

/// Holds back a batch of deletions when it is both larger than `min_deletions` and more than
/// `max_share` of the binding's mapped tasks. Both conditions: a small binding may lose a few
/// tasks at once, a big one may lose many, but not most of either.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MassDeletionGuard {
    pub max_share: f64,
    pub min_deletions: usize,
}

impl Default for MassDeletionGuard {
    fn default() -> Self {
        Self {
            max_share: 0.5,
            min_deletions: 5,
        }
    }
}

impl MassDeletionGuard {
    /// True when `deletions` of `mapped` tasks must wait for an operator.
    pub fn blocks(&self, deletions: usize, mapped: usize) -> bool {
        deletions > self.min_deletions && (deletions as f64) > self.max_share * (mapped as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_needs_both_a_share_and_a_count() {
        let guard = MassDeletionGuard::default();
        assert!(!guard.blocks(5, 6), "a few deletions always pass");
        assert!(guard.blocks(6, 10));
        assert!(!guard.blocks(6, 100));
        assert!(!guard.blocks(50, 100), "exactly half is allowed");
        assert!(guard.blocks(51, 100));
        assert!(
            guard.blocks(6, 0),
            "deleting what is not mapped is never routine"
        );
    }
}
