//! Planner order hints (docs/graph-behaviour.md §2.5). Clients never send a stored hint: they send
//! `"<prev> <next>!"` naming the neighbours, and the server computes a value that sorts between
//! them by ordinal comparison. Sending back a value exactly as returned is a 400.
//!
//! Generated hints use only `'0'..='~'` and never end in `'0'`, so a hint strictly below any
//! generated hint always exists, and they never contain a space or `!`, so the input format
//! stays unambiguous.

/// Lowest generated character.
const LO: u8 = b'0';
/// Highest generated character.
const HI: u8 = b'~';

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderHintError {
    #[error(
        "The order hint '{0}' is not in the format '<previous> <next>!'; order hints returned by the service cannot be sent back as they are."
    )]
    Format(String),
    #[error("The order hint contains characters outside ordinals 32 to 126.")]
    Characters,
    #[error("The previous order hint must sort before the next one.")]
    Order,
    #[error("No order hint fits before '{0}'.")]
    NoRoom(String),
}

/// Parses `"<prev> <next>!"` into its neighbours (either may be empty).
pub fn parse_input(input: &str) -> Result<(&str, &str), OrderHintError> {
    if !input.bytes().all(|b| (32..=126).contains(&b)) {
        return Err(OrderHintError::Characters);
    }
    let inner = input
        .strip_suffix('!')
        .ok_or_else(|| OrderHintError::Format(input.to_owned()))?;
    let (prev, next) = inner
        .split_once(' ')
        .ok_or_else(|| OrderHintError::Format(input.to_owned()))?;
    if !prev.is_empty() && !next.is_empty() && prev >= next {
        return Err(OrderHintError::Order);
    }
    Ok((prev, next))
}

/// A hint strictly between `prev` and `next` (empty means unbounded on that side).
pub fn between(prev: &str, next: &str) -> Result<String, OrderHintError> {
    let a = prev.as_bytes();
    let b = (!next.is_empty()).then_some(next.as_bytes());
    let mut out: Vec<u8> = Vec::with_capacity(a.len() + 2);
    let mut upper = b;
    let mut i = 0usize;
    loop {
        let da = i32::from(a.get(i).copied().unwrap_or(LO - 1));
        let db = match upper {
            Some(b) => match b.get(i) {
                Some(&c) => i32::from(c),
                // `next` is used up while the result still equals it: `next` ended in the
                // lowest character, so nothing fits below it.
                None => return Err(OrderHintError::NoRoom(next.to_owned())),
            },
            None => i32::from(HI) + 1,
        };
        if da < i32::from(LO) && db == i32::from(LO) {
            // `prev` is used up and `next` has the lowest character here: follow `next`.
            out.push(LO);
            i += 1;
            continue;
        }
        if da == db {
            out.push(digit(da)?);
            i += 1;
            continue;
        }
        if da > db {
            return Err(OrderHintError::Order);
        }
        if db - da > 1 {
            let mid = (da + db) / 2;
            out.push(digit(mid)?);
            if mid > i32::from(LO) {
                return String::from_utf8(out).map_err(|_| OrderHintError::Characters);
            }
            // `mid` is the lowest character: a hint must not end in it, so keep going with no
            // upper bound (the prefix already sorts below `next`).
            upper = None;
            i += 1;
            continue;
        }
        // Adjacent characters (`prev`'s is real here, since `next`'s is above LO): keep
        // `prev`'s and continue with no upper bound.
        out.push(digit(da)?);
        upper = None;
        i += 1;
    }
}

fn digit(v: i32) -> Result<u8, OrderHintError> {
    u8::try_from(v).map_err(|_| OrderHintError::Characters)
}

/// Resolves a client-sent hint (docs/graph-behaviour.md §2.5 format) to the value to store.
/// Both sides empty (`" !"`) means "anywhere", which gets `fresh`, a unique default.
pub fn resolve(input: &str, fresh: impl FnOnce() -> String) -> Result<String, OrderHintError> {
    let (prev, next) = parse_input(input)?;
    if prev.is_empty() && next.is_empty() {
        return Ok(fresh());
    }
    between(prev, next)
}

/// A unique hint for item number `seq`, decreasing with `seq` so newer items sort first, as new
/// tasks appear at the top in the Planner app. Never ends in `'0'`.
pub fn fresh_for_seq(seq: u64) -> String {
    format!("{:020}P", u64::MAX - seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn echoing_a_computed_hint_is_rejected() {
        let hint = between("", "").unwrap();
        assert!(matches!(parse_input(&hint), Err(OrderHintError::Format(_))));
    }

    #[test]
    fn parses_both_sides() {
        assert_eq!(parse_input(" !").unwrap(), ("", ""));
        assert_eq!(parse_input("a b!").unwrap(), ("a", "b"));
        assert_eq!(parse_input("a !").unwrap(), ("a", ""));
        assert!(matches!(parse_input("b a!"), Err(OrderHintError::Order)));
    }

    #[test]
    fn fresh_hints_order_newest_first() {
        assert!(fresh_for_seq(2) < fresh_for_seq(1));
    }

    fn hint() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[0-~]{0,6}[1-~]").unwrap()
    }

    proptest! {
        #[test]
        fn between_sorts_strictly_between(a in hint(), b in hint()) {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            prop_assume!(lo != hi);
            let m = between(&lo, &hi).unwrap();
            prop_assert!(lo < m && m < hi, "{lo} < {m} < {hi}");
            prop_assert!(!m.ends_with('0'));
            let after = between(&hi, "").unwrap();
            prop_assert!(hi < after);
            let before = between("", &lo).unwrap();
            prop_assert!(before < lo);
        }
    }
}
