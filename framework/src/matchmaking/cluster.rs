//! [`Cluster`]: this node's side of the room directory — it records every
//! room the node creates, keeps their leases, reports their counts, and
//! stops a room at once when its lease is lost.
//!
//! One renewal per period covers every room of the node (one script call),
//! so the store's load grows with the number of rooms and nodes, never with
//! the tick rate. The period is a third of the lease: a renewal can fail
//! twice before a lease runs out, so one missed call never frees a room.
//!
//! Each room holds a [`Fence`] the keeper moves on at every confirmed
//! renewal; the room checks it before each tick (`room::RoomActor`), so a
//! node that stalled past its lease stops its copies before they tick.
//! While the store cannot be reached, rooms keep running until their
//! fences run out, and [`Cluster::healthy`] is false: creates are refused
//! with a `JoinError` that says why, and `/readyz` answers 503.

use crate::backend::{node_tag, Backend, BackendError, FailoverStore, Fence, NodeInfo, Renewal, RoomRecord};
use crate::metrics::ClusterMetrics;
use crate::protocol::RoomId;
use crate::session::RoomHandle;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

mod failover;
mod seats;

/// What the server does with the clients of a room lost to another node.
type MovedHook = Box<dyn Fn(&RoomId) + Send + Sync>;

/// A node's place in a cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// This node's id and public URL (empty: `ws://<bound address>/ws`,
    /// `wss://` with TLS).
    pub node: NodeInfo,
    /// How long a room's lease lasts without a renewal (default 5 s); the
    /// owner renews every third of it.
    pub lease: Duration,
    /// How often this node looks for rooms whose owner was lost, to claim
    /// them (default 500 ms; with a failover store only).
    pub claim_every: Duration,
    /// Most bytes of a room's saved state (its `Room::snapshot` with seats
    /// and options); a bigger one is refused, logged and counted, and the
    /// store keeps the last one that fitted. Default 1 MiB.
    pub max_state_bytes: usize,
}

impl ClusterConfig {
    /// Node `id`, reached at `url`, with the default lease.
    pub fn new(id: impl Into<String>, url: impl Into<String>) -> Self {
        ClusterConfig {
            node: NodeInfo { id: id.into(), url: url.into() },
            lease: Duration::from_secs(5),
            claim_every: Duration::from_millis(500),
            max_state_bytes: 1 << 20,
        }
    }

    /// A random node id (`n-` and 8 hex digits), for nodes not given one.
    pub fn random_node_id() -> String {
        format!("n-{:08x}", rand::random::<u32>())
    }

    /// The renewal period: a third of the lease.
    pub fn renew_every(&self) -> Duration {
        self.lease / 3
    }

    /// How long a confirmed renewal lets a room run, counted from when it
    /// was sent: the lease less a tenth, so this node's fence always ends
    /// before the store's lease does.
    fn fence_span(&self) -> Duration {
        self.lease - self.lease / 10
    }
}

struct Owned {
    handle: Weak<RoomHandle>,
    fence: Arc<Fence>,
    /// The epoch the store gave; `None` until registered (or after the
    /// store was found emptied).
    epoch: Option<u64>,
    /// A registration is on its way to the store: the renewal round must
    /// not send a second one, whose answer would be "the id is taken" (by
    /// this very room) and stop it.
    registering: bool,
    /// A save of the room's state is on its way to the store.
    saving: bool,
    /// The newest state not sent yet (it waits for the registration, or
    /// for the save on its way: saves of one room never overtake).
    pending: Option<Bytes>,
}

/// The node's rooms in the directory, and their leases.
pub struct Cluster {
    backend: Arc<dyn Backend>,
    config: ClusterConfig,
    /// This node (its URL is filled in at bind when the config left it empty).
    node: parking_lot::RwLock<NodeInfo>,
    owned: Mutex<HashMap<RoomId, Owned>>,
    metrics: ClusterMetrics,
    healthy: AtomicBool,
    weak: Weak<Cluster>,
    /// The live nodes by token tag (see `backend::node_tag`), as of the last
    /// renewal: where a resume token of another node is sent, and whether
    /// the node renews its entry (false: it has missed renewals, and may be
    /// dead with its entry not expired yet).
    by_tag: parking_lot::RwLock<HashMap<u64, (String, bool)>>,
    /// What outlives a node, if the backend keeps it (room states,
    /// sessions).
    failover: Option<Arc<dyn FailoverStore>>,
    /// The node is handing its rooms over: it claims none.
    draining: AtomicBool,
    /// Told when a room of this node is lost to another (its lease ran
    /// out) with a failover store: the room goes on there, and the server
    /// moves its clients on (see [`Cluster::on_moved`]).
    moved: std::sync::OnceLock<MovedHook>,
}

impl Cluster {
    /// This node's view of the directory in `backend`.
    pub fn new(backend: Arc<dyn Backend>, config: ClusterConfig, metrics: ClusterMetrics) -> Arc<Self> {
        Arc::new_cyclic(|weak| Cluster {
            failover: backend.failover(),
            draining: AtomicBool::new(false),
            moved: std::sync::OnceLock::new(),
            backend,
            node: parking_lot::RwLock::new(config.node.clone()),
            config,
            owned: Mutex::new(HashMap::new()),
            metrics,
            healthy: AtomicBool::new(true),
            weak: weak.clone(),
            by_tag: parking_lot::RwLock::new(HashMap::new()),
        })
    }

    /// This node.
    pub fn node(&self) -> NodeInfo {
        self.node.read().clone()
    }

    /// Sets this node's public URL if the config left it empty (the server
    /// does, once it knows its bound address).
    pub(crate) fn default_url(&self, url: impl FnOnce() -> String) {
        let mut node = self.node.write();
        if node.url.is_empty() {
            node.url = url();
        }
    }

    /// The backend.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// Where the live node with token tag `tag` is reached (as of the last
    /// renewal).
    pub fn node_url(&self, tag: u64) -> Option<String> {
        self.by_tag.read().get(&tag).map(|(url, _)| url.clone())
    }

    /// Whether the node with token tag `tag` renewed its entry lately (as
    /// of the last renewal here: at least half a lease left on it; a live
    /// node renews every third of a lease).
    pub fn node_renews(&self, tag: u64) -> bool {
        self.by_tag.read().get(&tag).is_some_and(|(_, fresh)| *fresh)
    }

    /// Whether the last call to the store succeeded: matchmaking refuses
    /// creates and `/readyz` says 503 while it did not.
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Acquire)
    }

    /// A room this node just created: fenced for one lease from now, and
    /// recorded in the directory at once (in the background; the next
    /// renewal round tries again if that failed).
    ///
    /// `initial` is the room's first state for the failover store (its
    /// type and options), saved once the room is registered.
    pub(crate) fn adopt(&self, handle: &Arc<RoomHandle>, initial: Option<Bytes>) {
        let fence = Arc::new(Fence::until(Instant::now() + self.config.fence_span()));
        handle.set_fence(fence.clone());
        self.persist(handle);
        let owned = Owned {
            handle: Arc::downgrade(handle),
            fence,
            epoch: None,
            registering: true,
            saving: false,
            pending: None,
        };
        self.owned.lock().insert(handle.id.clone(), owned);
        self.metrics.rooms_owned.inc();
        if let Some(state) = initial {
            // Sent once the room is registered (it has no epoch yet).
            self.save(&handle.id, state);
        }
        let (id, record) = (handle.id.clone(), self.record_of(&handle.id, handle));
        let fut = self.backend.register(record, self.config.lease);
        let (this, sent) = (self.weak.clone(), Instant::now());
        actix_rt::spawn(async move {
            let r = fut.await;
            if let Some(c) = this.upgrade() {
                c.registered(&id, sent, r);
            }
        });
    }

    /// What the store answered to a registration sent at `sent`.
    fn registered(&self, id: &RoomId, sent: Instant, r: Result<u64, BackendError>) {
        if let Some(o) = self.owned.lock().get_mut(id) {
            o.registering = false;
        }
        match r {
            Ok(epoch) => {
                if let Some(o) = self.owned.lock().get_mut(id) {
                    o.epoch = Some(epoch);
                    o.fence.extend(sent + self.config.fence_span());
                }
                self.save_pending(id);
            }
            // Ids are random; a clash means another node runs a room of
            // that id: this copy must not run.
            Err(BackendError::Exists(_)) => self.lose(id, "its id is taken in the directory"),
            // The next renewal round tries again.
            Err(e) => tracing::warn!(room = %id, error = %e, "could not record a new room in the directory"),
        }
    }

    /// A room of this node is gone: its record is removed (if this node
    /// still owns it at its epoch).
    pub(crate) fn release(&self, id: &RoomId) {
        let Some(owned) = self.owned.lock().remove(id) else { return };
        self.metrics.rooms_owned.dec();
        if !owned.fence.valid(Instant::now()) {
            // The room stopped itself: its lease ran out (see `Fence`).
            // Another node may own the id by now; leave its record alone.
            self.metrics.lease_losses.inc();
            self.moved_away(id);
            return;
        }
        if let Some(epoch) = owned.epoch {
            let fut = self.backend.remove(id, &self.config.node.id, epoch);
            actix_rt::spawn(async move {
                if let Err(e) = fut.await {
                    // The lease runs out on its own: nothing is left behind.
                    tracing::debug!(error = %e, "could not remove a disposed room from the directory");
                }
            });
        }
    }

    fn record_of(&self, id: &RoomId, handle: &RoomHandle) -> RoomRecord {
        let (clients, locked) = handle.occupancy();
        RoomRecord {
            id: id.to_string(),
            room_type: handle.room_type.to_string(),
            node: self.config.node.id.clone(),
            url: self.node.read().url.clone(),
            clients: clients as u32,
            max_clients: handle.max_clients as u32,
            locked,
            epoch: 0,
        }
    }

    /// Stops a room whose lease is gone.
    fn lose(&self, id: &RoomId, why: &str) {
        let Some(owned) = self.owned.lock().remove(id) else { return };
        self.metrics.rooms_owned.dec();
        self.metrics.lease_losses.inc();
        owned.fence.revoke();
        tracing::warn!(room = %id, why, "room lease lost; stopping the room");
        if let Some(h) = owned.handle.upgrade() {
            if let Some(port) = h.port() {
                if self.failover.is_some() {
                    // The room goes on where it is claimed: stop this copy
                    // without a word, and move its clients on.
                    let stop = port.hand_over(self.node_tag());
                    actix_rt::spawn(async move {
                        let _ = stop.await;
                    });
                } else {
                    port.dispose();
                }
            }
        }
        self.moved_away(id);
    }

    /// Tells the server to move on the clients of `id`, a room lost to
    /// another node (with a failover store only).
    fn moved_away(&self, id: &RoomId) {
        if self.failover.is_some() {
            if let Some(f) = self.moved.get() {
                f(id);
            }
        }
    }

    /// What to do when a room of this node is lost to another node that
    /// goes on with it (the server closes the room's connections with 1001,
    /// and they resume where the room went).
    pub fn on_moved(&self, f: impl Fn(&RoomId) + Send + Sync + 'static) {
        let _ = self.moved.set(Box::new(f));
    }

    /// Registers the rooms the store does not know yet.
    async fn register_new(&self) -> Result<(), BackendError> {
        let todo: Vec<(RoomId, RoomRecord)> = {
            let mut owned = self.owned.lock();
            owned
                .iter_mut()
                .filter(|(_, o)| o.epoch.is_none() && !o.registering)
                .filter_map(|(id, o)| {
                    let h = o.handle.upgrade()?;
                    o.registering = true;
                    Some((id.clone(), self.record_of(id, &h)))
                })
                .collect()
        };
        let mut todo = todo.into_iter();
        while let Some((id, record)) = todo.next() {
            let sent = Instant::now();
            let r = self.backend.register(record, self.config.lease).await;
            if let Err(BackendError::Unavailable(e)) = &r {
                // This one and the rest are sent again next round.
                let mut owned = self.owned.lock();
                for id in std::iter::once(id).chain(todo.map(|(id, _)| id)) {
                    if let Some(o) = owned.get_mut(&id) {
                        o.registering = false;
                    }
                }
                return Err(BackendError::Unavailable(e.clone()));
            }
            self.registered(&id, sent, r);
        }
        Ok(())
    }

    /// One renewal round: register new rooms, renew the others' leases,
    /// stop the lost ones, count the live nodes.
    pub async fn renew_once(&self) {
        let r = self.renew_round(true).await;
        self.healthy.store(r.is_ok(), Ordering::Release);
        if let Err(e) = r {
            tracing::warn!(error = %e, "cluster store unreachable; rooms run until their leases would run out");
        }
        // Whatever the store said: a room whose fence ran out stops now.
        let now = Instant::now();
        let expired: Vec<RoomId> =
            self.owned.lock().iter().filter(|(_, o)| !o.fence.valid(now)).map(|(id, _)| id.clone()).collect();
        for id in expired {
            self.lose(&id, "its lease ran out before a renewal was confirmed");
        }
    }

    async fn renew_round(&self, may_retry: bool) -> Result<(), BackendError> {
        self.register_new().await?;
        let renewals: Vec<Renewal> = {
            let owned = self.owned.lock();
            owned
                .iter()
                .filter_map(|(id, o)| {
                    let epoch = o.epoch?;
                    let (clients, locked) = o.handle.upgrade()?.occupancy();
                    Some(Renewal { id: id.to_string(), epoch, clients: clients as u32, locked })
                })
                .collect()
        };
        let sent = Instant::now();
        let ids: Vec<String> = renewals.iter().map(|r| r.id.clone()).collect();
        let out = self.backend.renew(&self.node(), renewals, self.config.lease).await?;
        if out.reset && may_retry {
            // The store was emptied (a Redis restarted without its data):
            // nobody's lease is known, so none was taken over. Record every
            // room again at once.
            self.metrics.store_resets.inc();
            tracing::warn!("cluster store was emptied; registering this node's rooms again");
            for o in self.owned.lock().values_mut() {
                o.epoch = None;
            }
            return Box::pin(self.renew_round(false)).await;
        }
        for id in &out.lost {
            self.lose(&RoomId::from(id.as_str()), "the directory no longer names this node its owner");
        }
        let deadline = sent + self.config.fence_span();
        let mut renewed = 0;
        {
            let owned = self.owned.lock();
            for id in ids.iter().filter(|id| !out.lost.contains(id)) {
                if let Some(o) = owned.get(id.as_str()) {
                    o.fence.extend(deadline);
                    renewed += 1;
                }
            }
        }
        self.metrics.lease_renewals.inc_by(renewed);
        let nodes = self.backend.nodes().await?;
        self.metrics.nodes_seen.set(nodes.len() as i64);
        let half = self.config.lease / 2;
        *self.by_tag.write() = nodes.into_iter().map(|(n, left)| (node_tag(&n.id), (n.url, left >= half))).collect();
        Ok(())
    }

    /// Removes every room of this node from the directory (the server is
    /// stopping and has disposed them) and the node from the live nodes,
    /// waiting at most one renewal period: what is not removed by then
    /// expires with its lease.
    pub async fn forget_all(&self) {
        let owned: Vec<(RoomId, Option<u64>)> = {
            let mut owned = self.owned.lock();
            self.metrics.rooms_owned.set(0);
            owned.drain().map(|(id, o)| (id, o.epoch)).collect()
        };
        let node = &self.config.node.id;
        let removes = owned.iter().filter_map(|(id, e)| e.map(|e| self.backend.remove(id, node, e)));
        let all = futures_util::future::join_all(removes);
        // And the node itself: its peers stop counting it now rather than
        // when its entry expires (`playhouse_cluster_nodes`, the drain's
        // "is there a peer to hand rooms to", where sessions are).
        let leave = self.backend.leave(node);
        let _ = tokio::time::timeout(self.config.renew_every(), futures_util::future::join(all, leave)).await;
    }

    /// Renews every [`ClusterConfig::renew_every`] until the cluster is
    /// dropped (spawn it on the server's runtime).
    pub async fn run(this: Weak<Self>) {
        let Some(period) = this.upgrade().map(|c| c.config.renew_every()) else { return };
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let Some(cluster) = this.upgrade() else { return };
            cluster.renew_once().await;
        }
    }
}
