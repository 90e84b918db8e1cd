//! The failover side of [`Cluster`]: saving this node's rooms to the
//! failover store, owning rooms claimed from a lost node, handing rooms
//! over while draining, and finding where a lost node's session went.
//!
//! Saves of one room are sent one at a time, newest wins: a state that
//! comes while one is on its way waits, and a newer one replaces it. A
//! state over `max_state_bytes` is refused whole (logged, counted); the
//! store keeps the last that fitted, so a failover rolls the room back
//! further instead of restoring half a state.

use super::{Cluster, Owned};
use crate::backend::{node_tag, Claimed, FailoverStore, Fence};
use crate::connection::SessionPlace;
use crate::protocol::RoomId;
use crate::session::{Persister, RoomHandle};
use bytes::Bytes;
use futures_util::future::{BoxFuture, FutureExt};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a resume waiting for a lost node's session to be claimed
/// asks the store again.
const LOCATE_EVERY: Duration = Duration::from_millis(200);

impl Cluster {
    /// The failover store, if the backend keeps one.
    pub fn failover(&self) -> Option<&Arc<dyn FailoverStore>> {
        self.failover.as_ref()
    }

    /// How often this node looks for rooms to claim.
    pub fn claim_every(&self) -> Duration {
        self.config.claim_every
    }

    /// The cluster's figures.
    pub(crate) fn figures(&self) -> &crate::metrics::ClusterMetrics {
        &self.metrics
    }

    /// Live nodes other than this one, as of the last renewal.
    pub fn peers(&self) -> usize {
        let me = self.node_tag();
        self.by_tag.read().keys().filter(|t| **t != me).count()
    }

    /// Live nodes other than this one, asked of the store now; the last
    /// renewal's count ([`Cluster::peers`]) if the store does not answer.
    /// A drain decides on it: the last renewal's view may be a period old,
    /// and in a rolling restart the peer that just started (the previous
    /// node having left the live nodes on its way out) may not be in it
    /// yet, which would make the drain shut its rooms down instead of
    /// handing them over.
    pub async fn live_peers(&self) -> usize {
        match self.backend.nodes().await {
            Ok(nodes) => nodes.iter().filter(|(n, _)| n.id != self.config.node.id).count(),
            Err(_) => self.peers(),
        }
    }

    /// This node's resume-token tag.
    pub fn node_tag(&self) -> u64 {
        node_tag(&self.config.node.id)
    }

    /// Whether this node is handing its rooms over (it claims none).
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Saves `handle`'s room through this cluster from now on.
    pub(super) fn persist(&self, handle: &RoomHandle) {
        if self.failover.is_none() {
            return;
        }
        let (this, id) = (self.weak.clone(), handle.id.clone());
        let save = Box::new(move |state: Bytes| {
            if let Some(c) = this.upgrade() {
                c.save(&id, state);
            }
        });
        handle.set_persister(Persister { node: self.node_tag(), save });
    }

    /// Room `id` has a new state to save.
    pub(super) fn save(&self, id: &RoomId, state: Bytes) {
        if self.failover.is_none() {
            return;
        }
        if state.len() > self.config.max_state_bytes {
            self.metrics.states_refused.inc();
            tracing::error!(
                room = %id,
                bytes = state.len(),
                max = self.config.max_state_bytes,
                "room state over max_state_bytes: not saved; a failover would restore the last one that fitted"
            );
            return;
        }
        if let Some(o) = self.owned.lock().get_mut(id) {
            o.pending = Some(state);
        }
        self.save_pending(id);
    }

    /// Sends room `id`'s pending state, unless a save is on its way or the
    /// room is not registered yet.
    pub(super) fn save_pending(&self, id: &RoomId) {
        let Some(store) = &self.failover else { return };
        let (epoch, state) = {
            let mut owned = self.owned.lock();
            let Some(o) = owned.get_mut(id) else { return };
            let Some(epoch) = o.epoch.filter(|_| !o.saving) else { return };
            let Some(state) = o.pending.take() else { return };
            o.saving = true;
            (epoch, state)
        };
        let fut = store.save_room(id, &self.config.node.id, epoch, state);
        let (this, id) = (self.weak.clone(), id.clone());
        actix_rt::spawn(async move {
            let r = fut.await;
            let Some(c) = this.upgrade() else { return };
            match r {
                Ok(true) => {
                    c.metrics.states_saved.inc();
                }
                // Fenced out: the room is no longer this node's (the next
                // renewal stops it).
                Ok(false) => tracing::debug!(room = %id, "room state not saved: the lease is not this node's"),
                Err(e) => tracing::warn!(room = %id, error = %e, "could not save a room state"),
            }
            if let Some(o) = c.owned.lock().get_mut(&id) {
                o.saving = false;
            }
            c.save_pending(&id);
        });
    }

    /// A room this node claimed (`claimed`, at `epoch`) and restored, as of
    /// `claimed_at`: fenced for one lease from then, renewed like the
    /// others, saved from now on.
    pub(crate) fn adopt_claimed(&self, handle: &Arc<RoomHandle>, epoch: u64, claimed_at: Instant) {
        let fence = Arc::new(Fence::until(claimed_at + self.config.fence_span()));
        handle.set_fence(fence.clone());
        self.persist(handle);
        let owned = Owned {
            handle: Arc::downgrade(handle),
            fence,
            epoch: Some(epoch),
            registering: false,
            saving: false,
            pending: None,
        };
        self.owned.lock().insert(handle.id.clone(), owned);
        self.metrics.rooms_owned.inc();
        self.metrics.rooms_claimed.inc();
    }

    /// Whether a draining node released rooms to be claimed now.
    pub(crate) async fn handover_pending(&self) -> bool {
        match &self.failover {
            Some(store) if !self.draining() => store.handover_pending().await.unwrap_or(false),
            _ => false,
        }
    }

    /// Claims up to `max` rooms of one lost (or draining) node: nothing
    /// while draining, while the store is unreachable, or without a
    /// failover store.
    pub(crate) async fn claim(&self, max: usize) -> Vec<Claimed> {
        let Some(store) = &self.failover else { return Vec::new() };
        if self.draining() || !self.healthy() {
            return Vec::new();
        }
        match store.claim(&self.node(), self.config.lease, max).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "could not look for rooms to claim");
                Vec::new()
            }
        }
    }

    /// A claimed room could not be restored here: its lease goes at once
    /// (its state stays), so another node claims it at its next scan.
    pub(crate) fn give_up_claim(&self, id: &str, epoch: u64) {
        let Some(store) = &self.failover else { return };
        let fut = store.release_quietly(id, &self.config.node.id, epoch);
        actix_rt::spawn(async move {
            let _ = fut.await;
        });
    }

    /// A claimed room whose saved state no node of this version can read:
    /// its record and state go, so it is not claimed again and again.
    pub(crate) fn discard_claim(&self, id: &str, epoch: u64) {
        let fut = self.backend.remove(id, &self.config.node.id, epoch);
        actix_rt::spawn(async move {
            let _ = fut.await;
        });
    }

    /// Starts draining: no more claims from this node.
    pub(crate) fn begin_drain(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Stops room `handle` here for a hand-over: it takes a last snapshot
    /// and stops without a word to its clients; answers its epoch and
    /// portable state (`None`: it was not this node's, or was gone).
    pub(crate) async fn freeze(&self, handle: &Arc<RoomHandle>) -> Option<(u64, Bytes)> {
        self.failover.as_ref()?;
        let owned = self.owned.lock().remove(&handle.id)?;
        self.metrics.rooms_owned.dec();
        let epoch = owned.epoch?;
        let state = handle.port()?.hand_over(self.node_tag()).await?;
        Some((epoch, state))
    }

    /// Gives a frozen room to whichever node claims it first: its state
    /// saved, its lease released, then a wait (until `deadline`) for the
    /// claim. Answers the successor's URL (`None`: not handed over in time;
    /// the room is claimed later all the same, when a node looks again).
    pub(crate) async fn release_to_successor(
        &self,
        id: &RoomId,
        epoch: u64,
        state: Bytes,
        deadline: Instant,
    ) -> Option<String> {
        let store = self.failover.clone()?;
        let node = self.config.node.id.clone();
        if state.len() > self.config.max_state_bytes {
            self.metrics.states_refused.inc();
            tracing::error!(room = %id, bytes = state.len(), "room state over max_state_bytes at hand-over; the last saved one goes over");
        } else if !store.save_room(id, &node, epoch, state).await.ok()? {
            return None;
        }
        if !store.release(id, &node, epoch).await.ok()? {
            return None;
        }
        loop {
            if let Ok(Some(r)) = self.backend.get(id).await {
                if r.node != node {
                    self.metrics.rooms_handed_over.inc();
                    return Some(r.url);
                }
            }
            if Instant::now() + LOCATE_EVERY > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Where the session a token of node `tag` (number `id`) names is now:
    /// the node that took it over (this one: `Here`), or its own node
    /// while that one lives. Once its node is gone, a session the store
    /// keeps is waited for (up to a lease and two seconds) until the node
    /// that claims its rooms takes it over; one it does not keep (it was in
    /// no room) is `Unknown` at once.
    pub(crate) fn locate_session(&self, tag: u64, id: u64) -> BoxFuture<'static, SessionPlace> {
        let (Some(store), Some(this)) = (self.failover.clone(), self.weak.upgrade()) else {
            return async { SessionPlace::Unknown }.boxed();
        };
        let key = crate::backend::session_key(tag, id);
        let deadline = Instant::now() + self.config.lease + Duration::from_secs(2);
        async move {
            loop {
                let known = match store.session_holder(&key).await {
                    Ok(Some(Some(url))) if url == this.node().url => return SessionPlace::Here,
                    Ok(Some(Some(url))) => return SessionPlace::There(url),
                    Ok(Some(None)) => true,
                    // No record: it was in no room, or it ended.
                    Ok(None) => false,
                    Err(_) => true,
                };
                if tag == this.node_tag() {
                    // One of this node's own sessions that is not here and
                    // went nowhere: it is over.
                    return SessionPlace::Unknown;
                }
                let owner = this.node_url(tag);
                match owner {
                    // Its node renews: the session is there.
                    Some(url) if this.node_renews(tag) || !known => return SessionPlace::There(url),
                    // Its node stopped renewing: it is likely dead, and its
                    // rooms about to be claimed; wait for that rather than
                    // send the client to a node that does not answer.
                    Some(url) if Instant::now() + LOCATE_EVERY > deadline => return SessionPlace::There(url),
                    Some(_) => {}
                    None if !known || Instant::now() + LOCATE_EVERY > deadline => return SessionPlace::Unknown,
                    None => {}
                }
                tokio::time::sleep(LOCATE_EVERY).await;
            }
        }
        .boxed()
    }
}
