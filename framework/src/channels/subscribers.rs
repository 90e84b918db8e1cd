//! [`Subscribers`]: a node's local subscriptions as a plain struct — who
//! gets each publication, the publications held for a subscription whose
//! history read is under way, de-duplication against that history, and
//! how many local subscriptions each presence member has.

use super::names::matches;
use crate::backend::{History, Position, Publication};
use crate::protocol::{Codec, SessionId};
use crate::session::Outbox;
use std::collections::HashMap;
use std::sync::Arc;

/// Most publications held for one subscription while its history is read
/// (past it the subscription is answered with `recovered: false`).
pub const MAX_HELD: usize = 256;

/// Where one subscriber's messages go.
#[derive(Clone)]
pub struct Target {
    /// The subscriber's session outbox.
    pub outbox: Arc<Outbox>,
    /// The codec its connection speaks.
    pub codec: Codec,
}

struct Sub {
    target: Target,
    member: String,
    /// `Some` until the subscription is answered: publications that
    /// arrived meanwhile, and whether some had to be dropped.
    held: Option<(Vec<Publication>, bool)>,
    /// The last position delivered (concrete channels): a publication at
    /// or before it in the same epoch was already sent.
    last: Option<Position>,
}

/// Why a subscription is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddError {
    /// The session already has this subscription.
    #[error("already subscribed to {0:?}")]
    Already(String),
    /// The session has as many subscriptions as it may.
    #[error("at most {0} subscriptions per session")]
    TooMany(usize),
}

/// What a completed subscription's `Subscribed` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    /// The channel's position after `missed`.
    pub position: Position,
    /// Nothing after the client's offset is missing.
    pub recovered: bool,
    /// What the client missed, in order.
    pub missed: Vec<Publication>,
}

/// The local subscriptions of a node, by concrete channel and by pattern.
pub struct Subscribers {
    exact: HashMap<String, HashMap<SessionId, Sub>>,
    patterns: HashMap<String, HashMap<SessionId, Sub>>,
    per_session: HashMap<SessionId, usize>,
    /// channel → member → local subscriptions of that member.
    members: HashMap<String, HashMap<String, usize>>,
    max_per_session: usize,
}

impl Subscribers {
    /// No subscriptions; a session may hold at most `max_per_session`.
    pub fn new(max_per_session: usize) -> Self {
        Subscribers {
            exact: HashMap::new(),
            patterns: HashMap::new(),
            per_session: HashMap::new(),
            members: HashMap::new(),
            max_per_session,
        }
    }

    fn map(&mut self, key: &str) -> &mut HashMap<String, HashMap<SessionId, Sub>> {
        if key.contains('*') {
            &mut self.patterns
        } else {
            &mut self.exact
        }
    }

    /// Adds `session`'s subscription to `key` (a checked name or pattern),
    /// held until [`Subscribers::complete`]. Answers whether `member` is
    /// new on the channel at this node (a presence join to record; never
    /// for a pattern).
    pub fn add(&mut self, key: &str, session: SessionId, target: Target, member: &str) -> Result<bool, AddError> {
        let max = self.max_per_session;
        if self.map(key).get(key).is_some_and(|m| m.contains_key(&session)) {
            return Err(AddError::Already(key.to_string()));
        }
        let n = self.per_session.entry(session).or_default();
        if *n >= max {
            return Err(AddError::TooMany(max));
        }
        *n += 1;
        let sub = Sub { target, member: member.to_string(), held: Some((Vec::new(), false)), last: None };
        self.map(key).entry(key.to_string()).or_default().insert(session, sub);
        if key.contains('*') {
            return Ok(false);
        }
        let count = self.members.entry(key.to_string()).or_default().entry(member.to_string()).or_default();
        *count += 1;
        Ok(*count == 1)
    }

    /// Removes `session`'s subscription to `key`. `None`: there was none;
    /// `Some(Some(member))`: the member's last one here (a presence leave).
    pub fn remove(&mut self, key: &str, session: SessionId) -> Option<Option<String>> {
        let subs = self.map(key).get_mut(key)?;
        let sub = subs.remove(&session)?;
        if subs.is_empty() {
            self.map(key).remove(key);
        }
        if let Some(n) = self.per_session.get_mut(&session) {
            *n -= 1;
            if *n == 0 {
                self.per_session.remove(&session);
            }
        }
        if key.contains('*') {
            return Some(None);
        }
        let members = self.members.get_mut(key)?;
        let count = members.get_mut(&sub.member)?;
        *count -= 1;
        if *count > 0 {
            return Some(None);
        }
        members.remove(&sub.member);
        if members.is_empty() {
            self.members.remove(key);
        }
        Some(Some(sub.member))
    }

    /// Routes publication `p`: `each` gets every answered subscription's
    /// target that has not had it yet; subscriptions still waiting for
    /// their history hold it. Answers how many targets got it.
    pub fn route(&mut self, p: &Publication, mut each: impl FnMut(&Target)) -> usize {
        let mut n = 0;
        let mut pats =
            self.patterns.iter_mut().filter(|(k, _)| matches(k, &p.channel)).flat_map(|(_, v)| v.iter_mut()).peekable();
        // A session subscribed to the channel and to a pattern covering it
        // (or to two such patterns) gets each publication once: only then
        // is there anything to remember.
        let mut delivered: Option<std::collections::HashSet<SessionId>> = pats.peek().map(|_| Default::default());
        for (session, sub) in self.exact.get_mut(&p.channel).into_iter().flat_map(|m| m.iter_mut()).chain(pats) {
            if let Some((held, dropped)) = &mut sub.held {
                if held.len() < MAX_HELD {
                    held.push(p.clone());
                } else {
                    *dropped = true;
                }
                continue;
            }
            if let Some(last) = &mut sub.last {
                if last.epoch == p.epoch && p.offset <= last.offset {
                    continue;
                }
                last.offset = p.offset;
                if last.epoch != p.epoch {
                    last.epoch = p.epoch.clone();
                }
            }
            if delivered.as_mut().is_some_and(|d| !d.insert(*session)) {
                continue;
            }
            each(&sub.target);
            n += 1;
        }
        n
    }

    /// Answers `session`'s subscription to `key` with `history` (read after
    /// [`Subscribers::add`]; `None` for a pattern), merged with what
    /// arrived meanwhile; from now on it gets publications as they come.
    /// `None`: the subscription is gone (unsubscribed meanwhile).
    pub fn complete(&mut self, key: &str, session: SessionId, history: Option<History>) -> Option<(Target, Completed)> {
        let sub = self.map(key).get_mut(key)?.get_mut(&session)?;
        let (held, dropped) = sub.held.take()?;
        let Some(h) = history else {
            let done = Completed { position: Position::default(), recovered: false, missed: held };
            return Some((sub.target.clone(), done));
        };
        let mut missed = h.publications;
        let mut offset = h.position.offset.max(missed.last().map_or(0, |p| p.offset));
        for p in held {
            if p.epoch == h.position.epoch && p.offset > offset {
                offset = p.offset;
                missed.push(p);
            }
        }
        let position = Position { offset, epoch: h.position.epoch };
        sub.last = Some(position.clone());
        Some((sub.target.clone(), Completed { position, recovered: h.recovered && !dropped, missed }))
    }

    /// Where `session`'s subscription to `key` sends, if it has one.
    pub fn target(&mut self, key: &str, session: SessionId) -> Option<Target> {
        self.map(key).get(key)?.get(&session).map(|s| s.target.clone())
    }

    /// The targets of `channel`'s answered concrete subscriptions (for
    /// presence changes).
    pub fn presence_targets(&self, channel: &str) -> Vec<Target> {
        let subs = self.exact.get(channel).into_iter().flat_map(|m| m.values());
        subs.filter(|s| s.held.is_none()).map(|s| s.target.clone()).collect()
    }

    /// This node's presence entries: (channel, member).
    pub fn presence_entries(&self) -> Vec<(String, String)> {
        let each = self.members.iter().flat_map(|(c, m)| m.keys().map(move |k| (c.clone(), k.clone())));
        each.collect()
    }

    /// Drops the subscriptions whose session has ended (its outbox is
    /// closed); answers the presence leaves that makes.
    pub fn sweep_closed(&mut self) -> Vec<(String, String)> {
        let mut gone = Vec::new();
        for map in [&self.exact, &self.patterns] {
            for (k, subs) in map {
                gone.extend(subs.iter().filter(|(_, s)| s.target.outbox.is_closed()).map(|(id, _)| (k.clone(), *id)));
            }
        }
        gone.into_iter().filter_map(|(k, id)| Some((k.clone(), self.remove(&k, id)??))).collect()
    }

    /// Subscriptions held in all.
    pub fn len(&self) -> usize {
        self.per_session.values().sum()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.per_session.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::OutboxLimits;
    use bytes::Bytes;

    fn target(id: u64) -> Target {
        Target { outbox: Arc::new(Outbox::new(SessionId(id), OutboxLimits::default())), codec: Codec::Proto }
    }

    fn publ(channel: &str, offset: u64, epoch: &str) -> Publication {
        Publication {
            channel: channel.into(),
            offset,
            epoch: epoch.into(),
            payload: Bytes::new(),
            publisher: String::new(),
        }
    }

    fn pos(offset: u64, epoch: &str) -> Position {
        Position { offset, epoch: epoch.into() }
    }

    #[test]
    fn publications_reach_answered_subscriptions_and_patterns_once_each() {
        let mut s = Subscribers::new(8);
        assert_eq!(s.add("lobby", SessionId(1), target(1), "a"), Ok(true));
        assert_eq!(s.add("chat.*", SessionId(2), target(2), "b"), Ok(false));
        let h = History { publications: vec![], recovered: false, position: pos(0, "e") };
        assert!(s.complete("lobby", SessionId(1), Some(h)).is_some());
        assert!(s.complete("chat.*", SessionId(2), None).is_some());
        assert_eq!(s.route(&publ("lobby", 1, "e"), |_| {}), 1);
        assert_eq!(s.route(&publ("lobby", 1, "e"), |_| {}), 0, "already delivered");
        assert_eq!(s.route(&publ("chat.eu", 1, "x"), |_| {}), 1);
        assert_eq!(s.route(&publ("chat", 1, "x"), |_| {}), 0);
    }

    #[test]
    fn a_session_with_overlapping_subscriptions_gets_a_publication_once() {
        let mut s = Subscribers::new(8);
        for key in ["chat.eu", "chat.*", "*.eu"] {
            s.add(key, SessionId(1), target(1), "a").expect("added");
            let h =
                (key == "chat.eu").then(|| History { publications: vec![], recovered: false, position: pos(0, "e") });
            assert!(s.complete(key, SessionId(1), h).is_some());
        }
        s.add("chat.*", SessionId(2), target(2), "b").expect("added");
        assert!(s.complete("chat.*", SessionId(2), None).is_some());
        assert_eq!(s.route(&publ("chat.eu", 1, "e"), |_| {}), 2, "once per session");
        assert_eq!(s.route(&publ("chat.us", 1, "e"), |_| {}), 2, "session 1 through chat.*, session 2");
    }

    #[test]
    fn publications_during_the_history_read_are_merged_without_duplicates() {
        let mut s = Subscribers::new(8);
        s.add("lobby", SessionId(1), target(1), "a").unwrap();
        // 4 and 5 arrive live while the history (up to 4) is read.
        assert_eq!(s.route(&publ("lobby", 4, "e"), |_| {}), 0);
        assert_eq!(s.route(&publ("lobby", 5, "e"), |_| {}), 0);
        let h = History {
            publications: vec![publ("lobby", 3, "e"), publ("lobby", 4, "e")],
            recovered: true,
            position: pos(4, "e"),
        };
        let (_, done) = s.complete("lobby", SessionId(1), Some(h)).unwrap();
        assert!(done.recovered);
        assert_eq!(done.missed.iter().map(|p| p.offset).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert_eq!(done.position, pos(5, "e"));
        // 5 arriving late (it was read in the history too) is not sent again.
        assert_eq!(s.route(&publ("lobby", 5, "e"), |_| {}), 0);
        assert_eq!(s.route(&publ("lobby", 6, "e"), |_| {}), 1);
    }

    #[test]
    fn a_held_queue_that_overflowed_is_not_recovered() {
        let mut s = Subscribers::new(8);
        s.add("lobby", SessionId(1), target(1), "a").unwrap();
        for o in 1..=(MAX_HELD as u64 + 1) {
            s.route(&publ("lobby", o, "e"), |_| {});
        }
        let h = History { publications: vec![], recovered: true, position: pos(0, "e") };
        let (_, done) = s.complete("lobby", SessionId(1), Some(h)).unwrap();
        assert!(!done.recovered);
        assert_eq!(done.missed.len(), MAX_HELD);
    }

    #[test]
    fn presence_counts_each_member_once_per_node_and_limits_hold() {
        let mut s = Subscribers::new(2);
        assert_eq!(s.add("lobby", SessionId(1), target(1), "ann"), Ok(true));
        assert_eq!(s.add("lobby", SessionId(2), target(2), "ann"), Ok(false), "ann is here already");
        assert_eq!(s.add("lobby", SessionId(1), target(1), "ann"), Err(AddError::Already("lobby".into())));
        assert_eq!(s.add("news", SessionId(1), target(1), "ann"), Ok(true));
        assert_eq!(s.add("more", SessionId(1), target(1), "ann"), Err(AddError::TooMany(2)));
        assert_eq!(s.presence_entries().len(), 2);
        assert_eq!(s.remove("lobby", SessionId(1)), Some(None), "ann has another session here");
        assert_eq!(s.remove("lobby", SessionId(2)), Some(Some("ann".into())));
        assert_eq!(s.remove("lobby", SessionId(2)), None);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn subscriptions_of_ended_sessions_are_swept() {
        let mut s = Subscribers::new(8);
        let t = target(1);
        s.add("lobby", SessionId(1), t.clone(), "a").unwrap();
        s.add("chat.*", SessionId(1), t.clone(), "a").unwrap();
        s.add("lobby", SessionId(2), target(2), "b").unwrap();
        t.outbox.close();
        assert_eq!(s.sweep_closed(), vec![("lobby".to_string(), "a".to_string())]);
        assert_eq!(s.len(), 1);
    }
}
