//! Sessions that outlive their node (a cluster with a failover store):
//! recording a session in rooms, keeping its reliable frames in the store,
//! and taking over a lost node's session from what the store kept.
//!
//! A session is recorded from its first seat on ([`Sessions::make_durable`])
//! and again at every token generation (a resume, a reissue), so the
//! record always checks the client's newest token. Its frames go to its
//! stream as they are numbered, and the client's acks trim it.
//!
//! The node that claims a lost node's room adopts the sessions seated in it
//! ([`Sessions::adopt`]): a parked session with the same name, nonce,
//! generation, user and protocol, its replay log rebuilt from the stream,
//! known here by the (node tag, number) its token carries. It records
//! itself as the session's holder, so a resume with that token at any node
//! is sent here.

use super::{DurableIds, Parked, ReplayLog, RoomHandle, Session, SessionRecord, SessionState, Sessions};
use crate::backend::{session_key, SessionOp, StoredSession};
use crate::protocol::{ClientId, ConnId, SessionId};
use crate::session::parking::{Admission, Claim};
use crate::session::{DurableLog, Outbox, ParkLimits};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most keys a session taken over is known by (its lost node's and the
/// earlier ones, newest first): a client holds a token of the last node it
/// resumed at, so only a room that moved that many times while its client
/// stayed away outlives the oldest.
const MAX_ALIASES: usize = 16;

/// `<tag>-<id>` (hex) → (tag, id).
fn parse_key(key: &str) -> Option<(u64, u64)> {
    let (tag, id) = key.split_once('-')?;
    Some((u64::from_str_radix(tag, 16).ok()?, u64::from_str_radix(id, 16).ok()?))
}

impl Sessions {
    /// Keeps sessions in rooms in the failover store through `log` (a
    /// cluster node; see the module docs).
    pub fn with_durable(mut self, log: Arc<DurableLog>) -> Self {
        self.durable = Some(log);
        // Session numbers name records in the store: a node restarted under
        // the same id must not reuse its earlier incarnation's, whose
        // sessions may still be taken over. Milliseconds since the epoch,
        // shifted, grow from one start to the next.
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| (d.as_millis() as u64) << 16);
        self.next.store(start.max(1), Ordering::Relaxed);
        self
    }

    /// The failover store's writer, if sessions are kept there.
    pub fn durable(&self) -> Option<&Arc<DurableLog>> {
        self.durable.as_ref()
    }

    /// The session got a seat: from now on it is recorded (no-op without a
    /// failover store, or if it is already).
    pub fn make_durable(&self, session: &Session, st: &mut SessionState) {
        if self.durable.is_none() || st.durable.is_some() {
            return;
        }
        let key = session_key(self.config.node, session.id.0);
        st.durable = Some(DurableIds { key: key.clone(), stream: key });
        self.write_record(session, st);
    }

    /// Writes the session's record (its current token generation).
    pub(super) fn write_record(&self, session: &Session, st: &SessionState) {
        let (Some(log), Some(ids)) = (&self.durable, &st.durable) else { return };
        let record = Self::record_of(session, st);
        log.push(SessionOp::Record { key: ids.key.clone(), blob: record.encode(), stream: ids.stream.clone() });
    }

    /// What the store keeps of `session`: its current token generation,
    /// and the keys of its earlier incarnations if it was taken over.
    pub(super) fn record_of(session: &Session, st: &SessionState) -> SessionRecord {
        SessionRecord {
            name: session.name.clone(),
            nonce: session.nonce,
            generation: st.token_generation,
            user: st.user.clone(),
            protocol: session.protocol.clone(),
            aliases: st.aliases.iter().map(|(tag, num)| session_key(*tag, *num)).collect(),
        }
    }

    /// Reliable frame `seq` was written to the session's client.
    pub fn durable_append(&self, st: &SessionState, seq: u64, frame: &bytes::Bytes) {
        if let (Some(log), Some(ids)) = (&self.durable, &st.durable) {
            log.append(&ids.stream, seq, frame.clone());
        }
    }

    /// The client acknowledged every reliable frame up to `seq`.
    pub fn durable_ack(&self, st: &SessionState, seq: u64) {
        if let (Some(log), Some(ids)) = (&self.durable, &st.durable) {
            log.push(SessionOp::Trim { stream: ids.stream.clone(), upto: seq });
        }
    }

    /// The session ended: its record and stream go.
    pub(super) fn durable_end(&self, st: &mut SessionState) {
        st.adopted = None;
        for alias in std::mem::take(&mut st.aliases) {
            self.aliases.remove(&alias);
        }
        if let (Some(log), Some(ids)) = (&self.durable, st.durable.take()) {
            log.push(SessionOp::Delete { key: ids.key, stream: ids.stream });
        }
    }

    /// The session a lost node held under token tag `node` and number
    /// `id`, if this node took it over.
    pub(super) fn adopted(&self, node: u64, id: u64) -> Option<Arc<Session>> {
        let sid = *self.aliases.get(&(node, id))?;
        self.map.get(&sid).map(|s| s.clone())
    }

    /// Takes over a session a lost node held, from what the store kept:
    /// parked for `window` (the reconnect window of the room it is seated
    /// in), its log rebuilt, known here by its token's node tag and number
    /// — and by those of its earlier incarnations, if the lost node had
    /// itself taken it over (a room that moved twice before its client came
    /// back: the client's token may name any of them) — and recorded as
    /// held by this node (`url`) under every one of those keys, so a resume
    /// with any of its tokens is sent here. The same session adopted twice
    /// (seated in two rooms of the lost node) is the same session. `None`:
    /// the record is not one this version reads, or parking is full.
    pub fn adopt(&self, stored: &StoredSession, window: Duration, url: &str, now: Instant) -> Option<Arc<Session>> {
        let (tag, num) = parse_key(&stored.key)?;
        if let Some(s) = self.adopted(tag, num) {
            return Some(s);
        }
        let record = SessionRecord::decode(&stored.blob)?;
        // The lost node's key, then the earlier ones it knew the session by.
        let mut aliases = vec![(tag, num)];
        for key in &record.aliases {
            match parse_key(key) {
                Some(alias) if !aliases.contains(&alias) => aliases.push(alias),
                Some(_) => {}
                None => {
                    tracing::warn!(session = %record.name, key, "unreadable earlier key of a session taken over; ignored")
                }
            }
        }
        aliases.truncate(MAX_ALIASES);
        let id = SessionId(self.next.fetch_add(1, Ordering::Relaxed));
        let claim = Claim { session: id, address: None, user: record.user.as_deref(), roomless: false };
        let Admission::Park { ticket, evict } = self.parking.lock().admit(claim) else {
            tracing::warn!(session = %record.name, "parking is full; a lost node's session is not taken over");
            return None;
        };
        let log = ReplayLog::restored(&stored.frames, self.config.replay_max_messages, self.config.replay_max_bytes);
        let outbox = Arc::new(Outbox::new(id, self.outbox));
        outbox
            .park(ParkLimits { max_frames: self.config.replay_max_messages, max_bytes: self.config.replay_max_bytes });
        let session = Arc::new(Session {
            id,
            name: record.name,
            nonce: record.nonce,
            protocol: record.protocol,
            address: None,
            outbox,
            state: Mutex::new(SessionState {
                owner: None,
                parked: Some(Parked { until: now + window, ticket }),
                ended: false,
                rooms: HashMap::new(),
                pending: HashMap::new(),
                log,
                user: record.user,
                counted: false,
                token_generation: record.generation,
                durable: Some(DurableIds { key: session_key(self.config.node, id.0), stream: stored.stream.clone() }),
                adopted: Some((tag, num)),
                aliases: aliases.clone(),
            }),
        });
        self.map.insert(id, session.clone());
        for alias in &aliases {
            self.aliases.insert(*alias, id);
        }
        self.write_record(&session, &session.state.lock());
        if let Some(log) = &self.durable {
            for (tag, num) in aliases {
                log.push(SessionOp::Holder { key: session_key(tag, num), url: url.to_string() });
            }
        }
        for e in evict {
            self.evict(e);
        }
        Some(session)
    }

    /// Ends a session whose room went on at another node (this node lost
    /// the room's lease): its record and log are that node's now, so they
    /// stay in the store. Answers the connection attached to it, for the
    /// caller to close (the client then resumes where the room went).
    pub fn forget_moved(&self, session: &Session) -> Option<ConnId> {
        let mut st = session.state.lock();
        st.durable = None;
        let owner = st.owner;
        self.end_locked(session, &mut st);
        drop(st);
        self.map.remove(&session.id);
        owner
    }

    /// The sessions seated in room `room` (open or parked).
    pub fn seated_in(&self, room: &str) -> Vec<Arc<Session>> {
        self.map.iter().filter(|s| s.state.lock().rooms.contains_key(room)).map(|s| s.clone()).collect()
    }

    /// Seats an adopted session in a room restored here.
    pub fn seat_adopted(&self, session: &Session, handle: Arc<RoomHandle>, client: ClientId) {
        let mut st = session.state.lock();
        if !st.ended {
            st.rooms.insert(handle.id.clone(), (handle, client));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_back_to_tag_and_number() {
        assert_eq!(parse_key(&session_key(0xabc, 0x1f)), Some((0xabc, 0x1f)));
        assert_eq!(parse_key("nope"), None);
        assert_eq!(parse_key("zz-1"), None);
    }
}
