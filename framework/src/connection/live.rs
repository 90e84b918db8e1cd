//! [`LiveConnections`]: every open connection (by connection id) and the
//! outbox of the session it writes for, so that a
//! shutting-down server can reach each one with the `Shutdown` notice and
//! then close 1001.
//!
//! An entry exists from the connection's `started` to its `stopped`, so the
//! map is bounded by `max_connections`. A connection that starts while the
//! notice is going out could be missed by the sweep; [`LiveConnections::insert`]
//! and [`LiveConnections::notice_all`] each look at the other's side after
//! writing their own (the flag is `SeqCst`, the map's shards are locks), so
//! at least one of them delivers it. A connection may therefore see the
//! notice twice; it acts on the first.

use super::Closer;
use crate::protocol::CloseCode;
use crate::protocol::ConnId;
use crate::session::{ConnEvent, Outbox, Push};
use dashmap::DashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

struct Entry {
    outbox: Arc<Outbox>,
    /// Closes the connection (its actor's address).
    closer: Option<Closer>,
    /// The connection has written the `Shutdown` notice (or cannot any more).
    noticed: bool,
}

/// The open connections of a server.
#[derive(Default)]
pub struct LiveConnections {
    conns: DashMap<ConnId, Entry>,
    notice: AtomicBool,
    reconnect_after_ms: AtomicU32,
}

impl std::fmt::Debug for LiveConnections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveConnections").field("open", &self.conns.len()).finish_non_exhaustive()
    }
}

impl LiveConnections {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers an open connection. Returns the `reconnect_after_ms` of a
    /// shutdown notice the connection must write at once, if the server is
    /// already sending it.
    pub fn insert(&self, conn: ConnId, outbox: Arc<Outbox>, closer: Option<Closer>) -> Option<u32> {
        self.conns.insert(conn, Entry { outbox, closer, noticed: false });
        self.notice.load(Ordering::SeqCst).then(|| self.reconnect_after_ms.load(Ordering::SeqCst))
    }

    /// The connection `conn` now writes for another session (it resumed one).
    pub fn set_outbox(&self, conn: ConnId, outbox: Arc<Outbox>) {
        if let Some(mut e) = self.conns.get_mut(&conn) {
            e.outbox = outbox;
        }
    }

    /// Asks connection `conn` to close with `code` (false if it is gone or
    /// its mailbox is full; its session is no longer its to touch either way).
    pub fn close(&self, conn: ConnId, code: CloseCode, reason: &str) -> bool {
        let closer = self.conns.get(&conn).and_then(|e| e.closer.clone());
        closer.is_some_and(|c| c(code, reason))
    }

    /// The connection `id` stopped.
    pub fn remove(&self, id: ConnId) {
        self.conns.remove(&id);
    }

    /// The connection `id` wrote the shutdown notice.
    pub fn mark_noticed(&self, id: ConnId) {
        if let Some(mut e) = self.conns.get_mut(&id) {
            e.noticed = true;
        }
    }

    /// Queues the shutdown notice ([`ConnEvent::Shutdown`]) for every open
    /// connection, and for every one that opens from now on. A connection
    /// whose outbox is stalled cannot take it: it is closed with 1001 at once.
    pub fn notice_all(&self, reconnect_after_ms: u32, now: Instant) {
        self.reconnect_after_ms.store(reconnect_after_ms, Ordering::SeqCst);
        self.notice.store(true, Ordering::SeqCst);
        // Collected first: the outboxes wake their actors, never under a shard lock.
        let outboxes: Vec<Arc<Outbox>> = self.conns.iter().map(|e| e.outbox.clone()).collect();
        for o in outboxes {
            if o.push_event(ConnEvent::Shutdown { reconnect_after_ms, url: String::new() }, now) == Push::Stalled {
                o.kill(CloseCode::GoingAway, "server shutting down");
            }
        }
    }

    /// Open connections that have not written the notice yet and still can.
    pub fn unnoticed(&self) -> usize {
        self.conns.iter().filter(|e| !e.noticed && !e.outbox.is_closed()).count()
    }

    /// Queues a close with `code` for every open connection, after whatever
    /// it has queued already (a stalled one is closed at once).
    pub fn close_all(&self, code: CloseCode, reason: &str, now: Instant) {
        let outboxes: Vec<Arc<Outbox>> = self.conns.iter().map(|e| e.outbox.clone()).collect();
        for o in outboxes {
            o.close_with(code, reason, now);
        }
    }

    /// How many connections are open.
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// Whether no connection is open.
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::protocol::{ConnId, SessionId};
    use crate::session::{OutItem, OutboxLimits};
    use std::time::Duration;

    fn outbox(id: u64) -> Arc<Outbox> {
        Arc::new(Outbox::new(SessionId(id), OutboxLimits::default()))
    }

    fn events(o: &Outbox) -> Vec<ConnEvent> {
        o.drain()
            .reliable
            .into_iter()
            .filter_map(|i| match i {
                OutItem::Event(e) => Some(e),
                OutItem::Frame(_) => None,
            })
            .collect()
    }

    #[test]
    fn the_notice_reaches_every_open_connection_then_the_close_follows_it() {
        let live = LiveConnections::new();
        let (a, b) = (outbox(1), outbox(2));
        assert_eq!(live.insert(ConnId(1), a.clone(), None), None);
        assert_eq!(live.insert(ConnId(2), b.clone(), None), None);
        let now = Instant::now();
        live.notice_all(1500, now);
        assert_eq!(live.unnoticed(), 2);
        live.mark_noticed(ConnId(1));
        assert_eq!(live.unnoticed(), 1);
        live.close_all(CloseCode::GoingAway, "bye", now);
        for o in [&a, &b] {
            assert_eq!(
                events(o),
                vec![
                    ConnEvent::Shutdown { reconnect_after_ms: 1500, url: String::new() },
                    ConnEvent::Close { code: CloseCode::GoingAway, reason: "bye".into() }
                ]
            );
        }
        live.remove(ConnId(1));
        live.remove(ConnId(2));
        assert!(live.is_empty());
    }

    #[test]
    fn a_connection_that_opens_after_the_notice_went_out_is_told_to_write_it() {
        let live = LiveConnections::new();
        live.notice_all(250, Instant::now());
        assert_eq!(live.insert(ConnId(7), outbox(7), None), Some(250));
        assert_eq!(live.unnoticed(), 1);
    }

    #[test]
    fn a_stalled_connection_is_closed_with_1001_instead_of_waited_for() {
        let live = LiveConnections::new();
        let limits =
            OutboxLimits { max_reliable: 1, max_reliable_bytes: 1 << 20, stall_timeout: Duration::from_secs(60) };
        let o = Arc::new(Outbox::new(SessionId(3), limits));
        live.insert(ConnId(3), o.clone(), None);
        let now = Instant::now();
        o.push_frame(bytes::Bytes::from_static(b"unread"), now);
        live.notice_all(1000, now);
        assert!(o.is_closed());
        assert_eq!(o.take_killed(), Some(CloseCode::GoingAway));
        assert_eq!(live.unnoticed(), 0, "a closed connection is not waited for");
    }
}
