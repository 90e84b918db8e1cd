//! [`UserSessions`]: how many sessions each authenticated user holds,
//! against the per-user cap (`ServerConfig::max_sessions_per_user`). A
//! session counts from its first join (see `Sessions::count_user`) until it
//! ends; a user with none is not kept.

use dashmap::DashMap;

/// A user holds as many sessions as allowed already.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("user already holds {0} sessions, the most allowed")]
pub struct TooManySessions(pub usize);

/// Sessions held, by user.
#[derive(Debug, Default)]
pub(super) struct UserSessions {
    held: DashMap<String, usize>,
    /// Most sessions per user (0: no cap).
    max: usize,
}

impl UserSessions {
    /// No sessions counted, at most `max` per user (0: no cap).
    pub(super) fn new(max: usize) -> Self {
        UserSessions { held: DashMap::new(), max }
    }

    /// Sessions `user` holds.
    pub(super) fn held(&self, user: &str) -> usize {
        self.held.get(user).map_or(0, |n| *n)
    }

    /// Counts one more session for `user`; past the cap, counts nothing.
    pub(super) fn count(&self, user: String) -> Result<(), TooManySessions> {
        let mut n = self.held.entry(user).or_insert(0);
        if self.max != 0 && *n >= self.max {
            return Err(TooManySessions(self.max));
        }
        *n += 1;
        Ok(())
    }

    /// One of `user`'s counted sessions ended.
    pub(super) fn release(&self, user: &str) {
        self.held.remove_if_mut(user, |_, n| {
            *n = n.saturating_sub(1);
            *n == 0
        });
    }
}
