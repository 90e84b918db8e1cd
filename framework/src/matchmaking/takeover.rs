//! Taking rooms over from other nodes (design §7, §11: node loss, drain).
//!
//! Every `claim_every` a cluster node with a failover store asks for the
//! rooms of one lost node ([`Cluster::claim`]); for each it loads the
//! sessions seated there, takes them over ([`Sessions::adopt`]: parked for
//! the room's reconnect window, their replay logs rebuilt from the store),
//! and rebuilds the room from its portable form with those seats. The
//! clients then resume here: with their URL lists, through the load
//! balancer, or sent here by any node that finds where their session went.
//!
//! A room that cannot be rebuilt here (a type this node does not serve, the
//! room cap reached) is released at once so another node claims it at its
//! next scan; one whose saved state cannot be read is discarded.
//!
//! Draining is the other way round ([`Registry::hand_over_all`]): every
//! room is handed to another node, and its clients get `Shutdown` naming
//! the successor.

use super::{Registry, RegistryError};
use crate::backend::{session_key, Claimed, StoredSession};
use crate::protocol::RoomId;
use crate::room::PortableRoom;
use crate::session::{ConnEvent, Sessions};
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// How often a node checks whether a draining node released rooms.
const NUDGE: Duration = Duration::from_millis(100);

/// Most rooms one claim takes.
const CLAIM_AT_ONCE: usize = 8;

impl Registry {
    /// The server's sessions, which rooms taken over bring theirs into.
    pub fn set_sessions(&self, sessions: &Arc<Sessions>) {
        let _ = self.sessions.set(Arc::downgrade(sessions));
    }

    /// Claims and rebuilds lost nodes' rooms until the registry is dropped
    /// (spawn it on the server's runtime): a scan every `claim_every`, and
    /// at once (every [`NUDGE`]) while a draining node has released rooms
    /// or the last claim took as many as it could.
    ///
    /// A claim takes at most [`CLAIM_AT_ONCE`] rooms, so the rooms of a lost
    /// or draining node spread over the nodes that claim in turn instead of
    /// all going to the first.
    pub async fn run_claims(this: Weak<Self>) {
        let Some(every) = this.upgrade().and_then(|r| r.cluster.as_ref().map(|c| c.claim_every())) else {
            return;
        };
        let mut ticker = tokio::time::interval(NUDGE);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (mut last_scan, mut more) = (Instant::now(), false);
        loop {
            ticker.tick().await;
            let Some(reg) = this.upgrade() else { return };
            let Some(cluster) = reg.cluster.clone() else { return };
            if !more && last_scan.elapsed() < every && !cluster.handover_pending().await {
                continue;
            }
            last_scan = Instant::now();
            let claimed = cluster.claim(CLAIM_AT_ONCE).await;
            more = claimed.len() == CLAIM_AT_ONCE;
            for c in claimed {
                reg.take_over(c).await;
            }
        }
    }

    /// Rebuilds one claimed room here, with the sessions seated in it.
    async fn take_over(self: &Arc<Self>, c: Claimed) {
        let Some(cluster) = self.cluster.clone() else { return };
        let (id, epoch, claimed_at) = (c.record.id.clone(), c.record.epoch, Instant::now());
        let give_up = |why: &str| {
            tracing::warn!(room = %id, from = %c.from, why, "claimed room not taken over here; released for another node");
            cluster.give_up_claim(&id, epoch);
        };
        let Some(portable) = PortableRoom::decode(&c.state) else {
            tracing::error!(room = %id, from = %c.from, "claimed room's saved state does not decode; discarded");
            return cluster.discard_claim(&id, epoch);
        };
        let Some(factory) = self.types.get(&portable.room_type).cloned() else {
            return give_up("its type is not served here");
        };
        if self.rooms.contains_key(id.as_str()) {
            // This node's own old copy is still stopping: the lease runs
            // out unrenewed and the room is claimed again after.
            return;
        }
        let Some(sessions) = self.sessions.get().and_then(Weak::upgrade) else { return };
        let keys: Vec<String> = portable.seats.iter().map(|s| session_key(portable.node, s.session)).collect();
        let stored: HashMap<String, StoredSession> = match cluster.failover() {
            Some(store) if !keys.is_empty() => match store.load_sessions(keys).await {
                Ok(found) => found.into_iter().map(|s| (s.key.clone(), s)).collect(),
                Err(e) => return give_up(&format!("its sessions could not be loaded: {e}")),
            },
            _ => HashMap::new(),
        };
        let window = factory.spec().reconnect_window;
        let url = cluster.node().url;
        let now = Instant::now();
        let mut seats = Vec::new();
        let mut adopted = Vec::new();
        for seat in &portable.seats {
            let Some(s) = stored.get(&session_key(portable.node, seat.session)) else { continue };
            let Some(session) = sessions.adopt(s, window, &url, now) else { continue };
            seats.push((seat.clone(), session.outbox().clone()));
            adopted.push((session, seat.client_id()));
        }
        let slot = match self.caps.take(&portable.room_type) {
            Ok(slot) => slot,
            Err(e) => return give_up(&RegistryError::from(e).to_string()),
        };
        let handle = match factory.restore(self, RoomId::from(id.as_str()), &portable, seats, &self.place()) {
            Ok(h) => h,
            Err(e) => {
                for (session, _) in &adopted {
                    sessions.end(session);
                }
                return give_up(&format!("it could not be rebuilt: {e}"));
            }
        };
        slot.keep();
        self.rooms.insert(handle.id.clone(), handle.clone());
        cluster.adopt_claimed(&handle, epoch, claimed_at);
        cluster.figures().sessions_adopted.inc_by(adopted.len() as u64);
        for (session, client) in &adopted {
            sessions.seat_adopted(session, handle.clone(), *client);
        }
        tracing::info!(
            room = %id,
            room_type = %portable.room_type,
            from = %c.from,
            epoch,
            sessions = adopted.len(),
            seats = portable.seats.len(),
            "room taken over"
        );
    }

    /// Hands every room of this node to other nodes (a draining cluster
    /// node with a failover store), at most until `deadline`: each room's
    /// clients get `Shutdown` naming its successor. Answers how many were
    /// handed over; the others are left to the usual shutdown.
    ///
    /// In order: every room stops (last snapshot); the connections number
    /// and send what the rooms wrote last, and those frames reach the
    /// store; then the rooms' leases go and the successors, claiming them,
    /// read sessions that miss nothing. From then on this node writes
    /// nothing more of its sessions to the store (their successors own
    /// them).
    pub async fn hand_over_all(&self, reconnect_after_ms: u32, deadline: Instant) -> usize {
        let Some(cluster) = self.cluster.clone() else { return 0 };
        if cluster.failover().is_none() {
            return 0;
        }
        cluster.begin_drain();
        let rooms: Vec<_> = self.rooms.iter().map(|r| r.value().clone()).collect();
        let frozen = futures_util::future::join_all(rooms.iter().map(|h| {
            let cluster = cluster.clone();
            async move { cluster.freeze(h).await.map(|f| (h.clone(), f)) }
        }))
        .await;
        let sessions = self.sessions.get().and_then(Weak::upgrade);
        let log = sessions.as_ref().and_then(|s| s.durable().cloned());
        if let Some(log) = &log {
            // The connections drain their outboxes as soon as they are woken.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = tokio::time::timeout(Duration::from_secs(1), log.flush()).await;
        }
        let handed = futures_util::future::join_all(frozen.into_iter().flatten().map(|(h, (epoch, state))| {
            let (cluster, sessions) = (cluster.clone(), sessions.clone());
            async move {
                let url = cluster.release_to_successor(&h.id, epoch, state, deadline).await?;
                // The room's sessions learn where it went as soon as it is
                // claimed, not once every room is.
                for s in sessions.iter().flat_map(|s| s.seated_in(&h.id)) {
                    let notice = ConnEvent::Shutdown { reconnect_after_ms, url: url.clone() };
                    s.outbox().push_event(notice, Instant::now());
                }
                Some(())
            }
        }))
        .await;
        let n = handed.into_iter().flatten().count();
        if let Some(log) = &log {
            log.close();
        }
        n
    }
}
