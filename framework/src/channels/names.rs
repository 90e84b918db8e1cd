//! Channel names and subscription patterns.
//!
//! A name is dot-separated segments of `[A-Za-z0-9_-]` (`lobby`,
//! `chat.eu`), at most [`MAX_NAME_LEN`] bytes. A subscription may use `*`
//! as a whole segment, which matches exactly one segment (`chat.*` matches
//! `chat.eu`, not `chat` nor `chat.eu.north`). Publications go to concrete
//! names only.

/// Longest channel name or pattern, in bytes.
pub const MAX_NAME_LEN: usize = 128;

/// Why a name or pattern is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty name.
    #[error("empty channel name")]
    Empty,
    /// Longer than [`MAX_NAME_LEN`].
    #[error("channel name is {0} bytes; at most 128")]
    TooLong(usize),
    /// A segment that is empty or has a character outside `[A-Za-z0-9_-]`.
    #[error("channel segment {0:?} is not made of A-Z a-z 0-9 _ - (segments are separated by single dots)")]
    BadSegment(String),
    /// `*` where a concrete name is needed (publishing).
    #[error("publish to a concrete channel name, not a pattern")]
    Wildcard,
}

fn segment_ok(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Checks a subscription: a name or a pattern. Answers whether it is a
/// pattern (has a `*` segment).
pub fn check_pattern(name: &str) -> Result<bool, NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong(name.len()));
    }
    let mut pattern = false;
    for seg in name.split('.') {
        if seg == "*" {
            pattern = true;
        } else if !segment_ok(seg) {
            return Err(NameError::BadSegment(seg.to_string()));
        }
    }
    Ok(pattern)
}

/// Checks a concrete name (where one publishes).
pub fn check_name(name: &str) -> Result<(), NameError> {
    match check_pattern(name)? {
        true => Err(NameError::Wildcard),
        false => Ok(()),
    }
}

/// Whether `pattern` (a checked name or pattern) matches `name`. With a
/// pattern for `name`, whether `pattern` covers every channel it can
/// match: `chat.*` matches `chat.eu` and `chat.*`; `chat.eu` does not
/// match `chat.*`.
pub fn matches(pattern: &str, name: &str) -> bool {
    let (mut p, mut n) = (pattern.split('.'), name.split('.'));
    loop {
        match (p.next(), n.next()) {
            (None, None) => return true,
            (Some(ps), Some(ns)) if ps == "*" || ps == ns => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_patterns_are_checked_segment_by_segment() {
        assert_eq!(check_pattern("lobby"), Ok(false));
        assert_eq!(check_pattern("chat.eu-west_1"), Ok(false));
        assert_eq!(check_pattern("chat.*"), Ok(true));
        assert_eq!(check_pattern(""), Err(NameError::Empty));
        assert_eq!(check_pattern("chat..eu"), Err(NameError::BadSegment(String::new())));
        assert_eq!(check_pattern("chat.e*"), Err(NameError::BadSegment("e*".into())));
        assert_eq!(check_pattern("chat eu"), Err(NameError::BadSegment("chat eu".into())));
        assert_eq!(check_pattern(&"a".repeat(129)), Err(NameError::TooLong(129)));
        assert!(check_pattern(&"a".repeat(128)).is_ok());
        assert_eq!(check_name("chat.*"), Err(NameError::Wildcard));
        assert_eq!(check_name("chat.eu"), Ok(()));
    }

    #[test]
    fn a_star_matches_exactly_one_segment() {
        assert!(matches("chat.*", "chat.eu"));
        assert!(!matches("chat.*", "chat"));
        assert!(!matches("chat.*", "chat.eu.north"));
        assert!(matches("*.news", "eu.news"));
        assert!(matches("lobby", "lobby"));
        assert!(!matches("lobby", "lobby2"));
    }

    #[test]
    fn a_rule_covers_the_subscriptions_it_can_match() {
        assert!(matches("chat.*", "chat.*"));
        assert!(!matches("chat.eu", "chat.*"));
        assert!(!matches("chat.*", "lobby"));
    }
}
