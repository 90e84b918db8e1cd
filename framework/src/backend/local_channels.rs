//! [`LocalChannels`]: the channel rules (offsets, epochs, history bounded by
//! count and age, expiring presence) as a plain struct driven with explicit
//! instants; [`LocalChannelStore`] serves it as a [`ChannelStore`] in one
//! process, handing each notice to the listening node directly.

use super::channels::{ChannelStore, History, HistoryLimits, Notice, NoticeSink, Position, Publication};
use super::BackendError;
use bytes::Bytes;
use futures_util::future::{self, BoxFuture, FutureExt};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Most channels kept in memory; past it the channel published on least
/// recently is forgotten (a subscriber recovering on it gets a new epoch:
/// `recovered: false`).
pub const MAX_LOCAL_CHANNELS: usize = 10_000;
/// Most presence entries per channel (a join past it is not recorded).
pub const MAX_PRESENCE_PER_CHANNEL: usize = 10_000;

#[derive(Debug)]
struct Channel {
    offset: u64,
    epoch: String,
    history: VecDeque<(Instant, Publication)>,
    touched: Instant,
}

/// Channels in memory. Every method takes `now`, so tests move time by hand.
#[derive(Debug, Default)]
pub struct LocalChannels {
    channels: HashMap<String, Channel>,
    /// channel → member → when the entry expires.
    presence: HashMap<String, HashMap<String, Instant>>,
}

fn fresh_epoch() -> String {
    format!("{:016x}", rand::random::<u64>())
}

impl LocalChannels {
    /// No channels.
    pub fn new() -> Self {
        Self::default()
    }

    fn channel(&mut self, name: &str, limits: HistoryLimits, now: Instant) -> &mut Channel {
        if !self.channels.contains_key(name) && self.channels.len() >= MAX_LOCAL_CHANNELS {
            let oldest = self.channels.iter().min_by_key(|(_, c)| c.touched).map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.channels.remove(&k);
            }
        }
        let c = self.channels.entry(name.to_string()).or_insert_with(|| Channel {
            offset: 0,
            epoch: fresh_epoch(),
            history: VecDeque::new(),
            touched: now,
        });
        c.touched = now;
        while c.history.front().is_some_and(|(at, _)| now.saturating_duration_since(*at) >= limits.age) {
            c.history.pop_front();
        }
        c
    }

    /// Publishes on `channel`; answers the publication (with its offset and
    /// epoch) for the listeners.
    pub fn publish(
        &mut self,
        channel: &str,
        payload: Bytes,
        publisher: &str,
        limits: HistoryLimits,
        now: Instant,
    ) -> Publication {
        let c = self.channel(channel, limits, now);
        c.offset += 1;
        let p = Publication {
            channel: channel.to_string(),
            offset: c.offset,
            epoch: c.epoch.clone(),
            payload,
            publisher: publisher.to_string(),
        };
        if limits.size > 0 {
            c.history.push_back((now, p.clone()));
            while c.history.len() > limits.size {
                c.history.pop_front();
            }
        }
        p
    }

    /// Where `channel` stands and what was published after `since` (see
    /// [`ChannelStore::history`]).
    pub fn history(&mut self, channel: &str, since: Option<&Position>, limits: HistoryLimits, now: Instant) -> History {
        let c = self.channel(channel, limits, now);
        let position = Position { offset: c.offset, epoch: c.epoch.clone() };
        let Some(since) = since.filter(|s| s.epoch == c.epoch && s.offset <= c.offset) else {
            return History { publications: Vec::new(), recovered: false, position };
        };
        let publications: Vec<Publication> =
            c.history.iter().map(|(_, p)| p).filter(|p| p.offset > since.offset).cloned().collect();
        let recovered = since.offset == c.offset || publications.first().is_some_and(|p| p.offset == since.offset + 1);
        History { publications, recovered, position }
    }

    fn expire(&mut self, channel: &str, now: Instant) -> Vec<String> {
        let Some(m) = self.presence.get_mut(channel) else { return Vec::new() };
        let mut gone: Vec<String> = m.iter().filter(|(_, until)| **until <= now).map(|(k, _)| k.clone()).collect();
        gone.sort();
        for g in &gone {
            m.remove(g);
        }
        if m.is_empty() {
            self.presence.remove(channel);
        }
        gone
    }

    /// Adds `member` until `now + ttl`; answers whether it is new, the
    /// members now, and the expired entries dropped on the way.
    pub fn presence_join(
        &mut self,
        channel: &str,
        member: &str,
        ttl: Duration,
        now: Instant,
    ) -> (bool, Vec<String>, Vec<String>) {
        let expired = self.expire(channel, now);
        let m = self.presence.entry(channel.to_string()).or_default();
        let new = !m.contains_key(member);
        if !new || m.len() < MAX_PRESENCE_PER_CHANNEL {
            m.insert(member.to_string(), now + ttl);
        }
        let mut members: Vec<String> = m.keys().cloned().collect();
        members.sort();
        (new, members, expired)
    }

    /// Removes `member`; true if it was there.
    pub fn presence_leave(&mut self, channel: &str, member: &str) -> bool {
        let Some(m) = self.presence.get_mut(channel) else { return false };
        let was = m.remove(member).is_some();
        if m.is_empty() {
            self.presence.remove(channel);
        }
        was
    }

    /// The members of `channel` whose entries have not expired, sorted.
    pub fn presence(&mut self, channel: &str, now: Instant) -> Vec<String> {
        self.expire(channel, now);
        let mut v: Vec<String> = self.presence.get(channel).map(|m| m.keys().cloned().collect()).unwrap_or_default();
        v.sort();
        v
    }

    /// Extends `entries` until `now + ttl` and drops the expired entries of
    /// their channels; answers the dropped ones per channel.
    pub fn presence_refresh(
        &mut self,
        entries: &[(String, String)],
        ttl: Duration,
        now: Instant,
    ) -> Vec<(String, Vec<String>)> {
        let mut dropped = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for (channel, member) in entries {
            if !seen.contains(&channel.as_str()) {
                seen.push(channel);
                let gone = self.expire(channel, now);
                if !gone.is_empty() {
                    dropped.push((channel.clone(), gone));
                }
            }
            if let Some(until) = self.presence.get_mut(channel).and_then(|m| m.get_mut(member)) {
                *until = now + ttl;
            }
        }
        dropped
    }
}

/// [`LocalChannels`] as the [`ChannelStore`] of one process.
#[derive(Default)]
pub struct LocalChannelStore {
    state: Mutex<LocalChannels>,
    sinks: Mutex<Vec<NoticeSink>>,
}

impl LocalChannelStore {
    /// No channels, no listener.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hands `n` to every listener (never under the state lock).
    fn notify(&self, n: Notice) {
        let sinks = self.sinks.lock().clone();
        for s in sinks {
            s(n.clone());
        }
    }

    fn left(&self, channel: String, left: Vec<String>) {
        if !left.is_empty() {
            self.notify(Notice::Presence { channel, joined: Vec::new(), left });
        }
    }
}

impl ChannelStore for LocalChannelStore {
    fn publish(
        &self,
        channel: &str,
        payload: Bytes,
        publisher: &str,
        limits: HistoryLimits,
    ) -> BoxFuture<'static, Result<Position, BackendError>> {
        let p = self.state.lock().publish(channel, payload, publisher, limits, Instant::now());
        let pos = Position { offset: p.offset, epoch: p.epoch.clone() };
        self.notify(Notice::Publication(p));
        future::ready(Ok(pos)).boxed()
    }

    fn history(
        &self,
        channel: &str,
        since: Option<Position>,
        limits: HistoryLimits,
    ) -> BoxFuture<'static, Result<History, BackendError>> {
        let h = self.state.lock().history(channel, since.as_ref(), limits, Instant::now());
        future::ready(Ok(h)).boxed()
    }

    fn presence_join(
        &self,
        channel: &str,
        member: &str,
        ttl: Duration,
    ) -> BoxFuture<'static, Result<Vec<String>, BackendError>> {
        let (new, members, expired) = self.state.lock().presence_join(channel, member, ttl, Instant::now());
        self.left(channel.to_string(), expired);
        if new {
            let n = Notice::Presence { channel: channel.to_string(), joined: vec![member.to_string()], left: vec![] };
            self.notify(n);
        }
        future::ready(Ok(members)).boxed()
    }

    fn presence_leave(&self, channel: &str, member: &str) -> BoxFuture<'static, Result<(), BackendError>> {
        if self.state.lock().presence_leave(channel, member) {
            self.left(channel.to_string(), vec![member.to_string()]);
        }
        future::ready(Ok(())).boxed()
    }

    fn presence_refresh(
        &self,
        entries: Vec<(String, String)>,
        ttl: Duration,
    ) -> BoxFuture<'static, Result<(), BackendError>> {
        let dropped = self.state.lock().presence_refresh(&entries, ttl, Instant::now());
        for (channel, gone) in dropped {
            self.left(channel, gone);
        }
        future::ready(Ok(())).boxed()
    }

    fn listen(&self, sink: NoticeSink) {
        self.sinks.lock().push(sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: HistoryLimits = HistoryLimits { size: 3, age: Duration::from_secs(60) };

    fn pub_n(c: &mut LocalChannels, n: usize, now: Instant) -> Vec<Publication> {
        (0..n).map(|i| c.publish("lobby", Bytes::from(vec![i as u8]), "s1", L, now)).collect()
    }

    #[test]
    fn offsets_count_up_under_one_epoch_and_history_keeps_the_last_few() {
        let mut c = LocalChannels::new();
        let t0 = Instant::now();
        let ps = pub_n(&mut c, 5, t0);
        assert_eq!(ps.iter().map(|p| p.offset).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
        assert!(ps.iter().all(|p| p.epoch == ps[0].epoch));
        let epoch = ps[0].epoch.clone();
        // Missed 4 and 5: both in the history.
        let h = c.history("lobby", Some(&Position { offset: 3, epoch: epoch.clone() }), L, t0);
        assert!(h.recovered);
        assert_eq!(h.publications.iter().map(|p| p.offset).collect::<Vec<_>>(), vec![4, 5]);
        assert_eq!(h.position, Position { offset: 5, epoch: epoch.clone() });
        // Missed 2..5: 2 fell out of the 3-long history.
        let h = c.history("lobby", Some(&Position { offset: 1, epoch: epoch.clone() }), L, t0);
        assert!(!h.recovered);
        assert_eq!(h.publications.len(), 3);
        // Nothing missed.
        let h = c.history("lobby", Some(&Position { offset: 5, epoch }), L, t0);
        assert!(h.recovered && h.publications.is_empty());
    }

    #[test]
    fn another_epoch_or_an_offset_from_the_future_is_not_recovered() {
        let mut c = LocalChannels::new();
        let t0 = Instant::now();
        let ps = pub_n(&mut c, 2, t0);
        let h = c.history("lobby", Some(&Position { offset: 1, epoch: "other".into() }), L, t0);
        assert!(!h.recovered && h.publications.is_empty());
        assert_eq!(h.position.epoch, ps[0].epoch);
        let h = c.history("lobby", Some(&Position { offset: 9, epoch: ps[0].epoch.clone() }), L, t0);
        assert!(!h.recovered);
    }

    #[test]
    fn history_older_than_the_age_is_dropped() {
        let mut c = LocalChannels::new();
        let t0 = Instant::now();
        let ps = pub_n(&mut c, 2, t0);
        let later = t0 + Duration::from_secs(61);
        let since = Position { offset: 1, epoch: ps[0].epoch.clone() };
        let h = c.history("lobby", Some(&since), L, later);
        assert!(!h.recovered, "offset 2 aged out");
        assert!(h.publications.is_empty());
        assert_eq!(h.position.offset, 2, "the offset outlives the history");
    }

    #[test]
    fn a_new_channel_gets_an_epoch_on_first_read_and_keeps_it() {
        let mut c = LocalChannels::new();
        let t0 = Instant::now();
        let h = c.history("news", None, L, t0);
        assert_eq!(h.position.offset, 0);
        assert!(!h.position.epoch.is_empty());
        let p = c.publish("news", Bytes::new(), "", L, t0);
        assert_eq!(p.epoch, h.position.epoch);
    }

    #[test]
    fn presence_entries_expire_unless_refreshed() {
        let mut c = LocalChannels::new();
        let t0 = Instant::now();
        let ttl = Duration::from_secs(10);
        assert_eq!(c.presence_join("lobby", "a", ttl, t0), (true, vec!["a".into()], vec![]));
        assert!(c.presence_join("lobby", "b", ttl, t0).0);
        assert!(!c.presence_join("lobby", "b", ttl, t0).0, "already there");
        // a's node keeps refreshing; b's died.
        let dropped = c.presence_refresh(&[("lobby".into(), "a".into())], ttl, t0 + Duration::from_secs(5));
        assert!(dropped.is_empty());
        let dropped = c.presence_refresh(&[("lobby".into(), "a".into())], ttl, t0 + Duration::from_secs(11));
        assert_eq!(dropped, vec![("lobby".to_string(), vec!["b".to_string()])]);
        assert_eq!(c.presence("lobby", t0 + Duration::from_secs(12)), vec!["a".to_string()]);
        assert!(c.presence_leave("lobby", "a"));
        assert!(!c.presence_leave("lobby", "a"));
        assert!(c.presence("lobby", t0).is_empty());
    }

    #[test]
    fn the_store_tells_its_listener_about_publications_and_presence() {
        let store = LocalChannelStore::new();
        let heard = std::sync::Arc::new(Mutex::new(Vec::new()));
        let h = heard.clone();
        store.listen(std::sync::Arc::new(move |n| h.lock().push(n)));
        let pos = futures_util::FutureExt::now_or_never(store.publish("lobby", Bytes::from_static(b"x"), "s", L));
        assert_eq!(pos.and_then(Result::ok).map(|p| p.offset), Some(1));
        let _ = futures_util::FutureExt::now_or_never(store.presence_join("lobby", "s", Duration::from_secs(5)));
        let _ = futures_util::FutureExt::now_or_never(store.presence_leave("lobby", "s"));
        let heard = heard.lock();
        assert_eq!(heard.len(), 3);
        assert!(matches!(&heard[0], Notice::Publication(p) if p.offset == 1 && p.publisher == "s"));
        assert!(matches!(&heard[1], Notice::Presence { joined, .. } if joined == &["s".to_string()]));
        assert!(matches!(&heard[2], Notice::Presence { left, .. } if left == &["s".to_string()]));
    }
}
