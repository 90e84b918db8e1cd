//! Matchmaking: the registry of room types by name, live rooms by id, create / join by id /
//! join-or-create / list, and placement of rooms on arbiters (one per core;
//! a room stays on its arbiter for life).
//!
//! Creating a room is bounded twice: by room caps (the server's and each
//! type's, [`RoomLimit`]) and by the create budget of the asking session and
//! its address ([`CreateGate`]). Joining a room that exists is bounded by
//! neither.

mod budget;
mod caps;
mod cluster;
mod factory;
mod placement;
mod takeover;

pub use crate::connection::Creator;
pub use budget::{Allowance, BudgetKind, BudgetRefusal, CreateBudget, CreateGate};
pub use caps::RoomLimit;
pub use cluster::{Cluster, ClusterConfig};

use crate::channels::ChannelHub;
use crate::metrics::Metrics;
use crate::protocol::envelope::JoinErrorCode;
use crate::protocol::RoomId;
use crate::protocol::Schema;
use crate::room::{CreateError, PortableRoom, Room, RoomDirectory, RoomType, TickDriver};
use crate::session::{Options, RoomHandle, Sessions};
use actix::ArbiterHandle;
use caps::RoomCaps;
use dashmap::DashMap;
use factory::{Factory, Place, RoomFactory};

thread_local! {
    /// The place of this thread (an adopted HTTP worker), and the registry
    /// (by address) that adopted it.
    static WORKER_PLACE: std::cell::RefCell<Option<(usize, Place)>> = const { std::cell::RefCell::new(None) };
}
use rand::Rng;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

/// Why a room could not be found, joined or created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// No room type of that name is registered.
    #[error("unknown room type {0:?}")]
    UnknownRoomType(String),
    /// `on_create` refused or panicked.
    #[error(transparent)]
    Create(#[from] CreateError),
    /// A seat could not be reserved.
    #[error("{}", seat_reason(*.0))]
    Seat(JoinErrorCode),
    /// The room type's `authorize_join` said no.
    #[error("{0}")]
    Forbidden(String),
    /// A create found the server's or the room type's room cap reached.
    #[error(transparent)]
    RoomLimit(#[from] RoomLimit),
    /// A create found its session's or address's create budget spent.
    #[error(transparent)]
    CreateBudget(#[from] BudgetRefusal),
    /// A create on a cluster node that cannot reach the cluster store.
    #[error("the cluster store cannot be reached; rooms cannot be created now, retry shortly")]
    ClusterUnavailable,
}

fn seat_reason(code: JoinErrorCode) -> &'static str {
    match code {
        JoinErrorCode::RoomFull => "room full",
        JoinErrorCode::RoomLocked => "room is locked",
        JoinErrorCode::RoomNotFound => "room not found",
        _ => "cannot join",
    }
}

impl RegistryError {
    /// The `JoinError` code a client sees.
    pub fn code(&self) -> JoinErrorCode {
        match self {
            RegistryError::UnknownRoomType(_) => JoinErrorCode::UnknownRoomType,
            RegistryError::Create(CreateError::Rejected(_)) => JoinErrorCode::Rejected,
            RegistryError::Create(CreateError::Panicked(_)) => JoinErrorCode::Internal,
            RegistryError::Seat(c) => *c,
            RegistryError::Forbidden(_) => JoinErrorCode::Forbidden,
            RegistryError::RoomLimit(_) => JoinErrorCode::RoomLimit,
            RegistryError::CreateBudget(_) => JoinErrorCode::CreateRateLimited,
            RegistryError::ClusterUnavailable => JoinErrorCode::Internal,
        }
    }
}

/// A room type as listed in `/info`.
#[derive(Debug, Clone, Serialize)]
pub struct RoomTypeInfo {
    /// Name.
    pub name: String,
    /// Ticks per second.
    pub tick_hz: u32,
    /// Most clients per room.
    pub max_clients: usize,
    /// Empty timeout in seconds.
    pub empty_timeout_secs: f64,
    /// Schema versions served.
    pub versions: Vec<u32>,
    /// Most rooms of this type alive at once (0: only the server's cap).
    pub max_rooms: usize,
    /// Whether its rooms tick while nobody is in them.
    pub tick_when_empty: bool,
    /// Whether its rooms tick on the process's shared grid.
    pub aligned_ticks: bool,
}

/// A live room as listed in `/rooms`.
#[derive(Debug, Clone, Serialize)]
pub struct RoomInfo {
    /// Room id (a plain string in the JSON).
    pub id: RoomId,
    /// Room type.
    pub room_type: String,
    /// Clients now.
    pub clients: usize,
    /// Most clients.
    pub max_clients: usize,
    /// Whether joins are refused.
    pub locked: bool,
}

/// Builds a [`Registry`] (done by the server builder).
#[derive(Default)]
pub struct RegistryBuilder {
    types: BTreeMap<String, Arc<dyn RoomFactory>>,
    cluster: Option<Arc<Cluster>>,
    channels: Option<Arc<ChannelHub>>,
}

impl RegistryBuilder {
    /// Registers room type `R` under `spec.name` (a later registration of the
    /// same name replaces the earlier one).
    pub fn register<R: Room>(&mut self, spec: RoomType, schema: Arc<Schema<R::Wire>>) {
        self.types.insert(spec.name.clone(), Arc::new(Factory::<R> { spec, schema }));
    }

    /// The schema versions every registered room type serves.
    pub fn common_versions(&self) -> Vec<u32> {
        let mut it = self.types.values().map(|f| f.versions());
        let Some(mut common) = it.next() else { return Vec::new() };
        for v in it {
            common.retain(|x| v.contains(x));
        }
        common
    }

    /// Makes the registry a node of a cluster: every room it creates is
    /// recorded in `cluster`'s directory and runs under a lease.
    pub fn cluster(mut self, cluster: Arc<Cluster>) -> Self {
        self.cluster = Some(cluster);
        self
    }

    /// The node's channels, for room code's `ctx.publish`.
    pub fn channels(mut self, hub: Option<Arc<ChannelHub>>) -> Self {
        self.channels = hub;
        self
    }

    /// Finishes the registry; rooms are placed round-robin on `arbiters`,
    /// each arbiter's rooms woken by a tick driver of its own (a timer on
    /// that arbiter's event loop).
    /// At most `max_rooms` rooms live at once (0: no cap; each type's
    /// `RoomType::max_rooms` applies too), and creates spend `budget`.
    pub fn build(
        self,
        arbiters: Vec<ArbiterHandle>,
        metrics: Arc<Metrics>,
        max_rooms: usize,
        budget: CreateBudget,
    ) -> std::io::Result<Arc<Registry>> {
        assert!(!arbiters.is_empty(), "a registry needs at least one arbiter");
        let places = arbiters
            .into_iter()
            .map(|arbiter| {
                Ok(Place { driver: TickDriver::start(&arbiter, metrics.tick_driver_lateness.clone())?, arbiter })
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        // Every registered type's families exist from startup, at zero, so
        // dashboards and alerts see them before the first room.
        for name in self.types.keys() {
            metrics.room_type(name);
        }
        let caps = RoomCaps::new(max_rooms, self.types.iter().map(|(name, f)| (name.clone(), f.spec().max_rooms)));
        Ok(Arc::new(Registry {
            types: self.types,
            rooms: DashMap::new(),
            places,
            worker_places: parking_lot::Mutex::new(Vec::new()),
            next: AtomicUsize::new(0),
            metrics,
            caps,
            budget: CreateGate::new(budget),
            cluster: self.cluster,
            channels: self.channels,
            sessions: std::sync::OnceLock::new(),
            open_hint: DashMap::new(),
        }))
    }
}

/// Live rooms and the room types they are made from.
pub struct Registry {
    types: BTreeMap<String, Arc<dyn RoomFactory>>,
    rooms: DashMap<RoomId, Arc<RoomHandle>>,
    /// Per room type, the room that last gave a seat (or was made): a
    /// join-or-create tries it before scanning every room. Rooms fill in
    /// turn, so most joins find their seat there; the scan over all rooms
    /// was 6.5 % of a 10,000-client join storm's CPU (500 rooms, `perf`).
    open_hint: DashMap<Arc<str>, Weak<RoomHandle>>,
    places: Vec<Place>,
    /// HTTP worker threads adopted as places for the rooms their
    /// connections create (for the tick drivers' figures).
    worker_places: parking_lot::Mutex<Vec<Place>>,
    next: AtomicUsize,
    metrics: Arc<Metrics>,
    caps: RoomCaps,
    budget: CreateGate,
    /// This node's share of a cluster (`None`: one process).
    cluster: Option<Arc<Cluster>>,
    channels: Option<Arc<ChannelHub>>,
    /// The server's sessions (rooms claimed from a lost node bring theirs).
    sessions: std::sync::OnceLock<Weak<Sessions>>,
}

fn new_room_id() -> RoomId {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let id: String = (0..10).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    id.into()
}

impl Registry {
    /// Asks `room_type`'s `authorize_join` whether `user` may join `room`
    /// (a join by id) or a room of the type (create / join-or-create).
    pub fn authorize_join(
        &self,
        room_type: &str,
        user: Option<&str>,
        room: Option<&str>,
        options: &Options,
    ) -> Result<(), RegistryError> {
        let factory = self.types.get(room_type).ok_or_else(|| RegistryError::UnknownRoomType(room_type.to_string()))?;
        factory.authorize_join(user, room, options).map_err(RegistryError::Forbidden)
    }

    /// This node's share of a cluster, if it is part of one.
    pub fn cluster(&self) -> Option<&Arc<Cluster>> {
        self.cluster.as_ref()
    }

    /// A room by id.
    pub fn get(&self, id: &str) -> Option<Arc<RoomHandle>> {
        self.rooms.get(id).map(|r| r.clone())
    }

    /// Creates a room of `room_type` with one seat reserved for `who`.
    ///
    /// Refused, before any studio code runs, when the server's or the
    /// type's room cap is reached ([`RegistryError::RoomLimit`]) or `who`'s
    /// create budget is spent ([`RegistryError::CreateBudget`]); a cap that
    /// refuses spends no budget.
    pub fn create(
        self: &Arc<Self>,
        room_type: &str,
        options: &Options,
        who: &Creator,
    ) -> Result<Arc<RoomHandle>, RegistryError> {
        let factory = self.types.get(room_type).ok_or_else(|| RegistryError::UnknownRoomType(room_type.to_string()))?;
        if self.cluster.as_ref().is_some_and(|c| !c.healthy()) {
            return Err(RegistryError::ClusterUnavailable);
        }
        let slot = self.caps.take(room_type).map_err(|e| self.refused(e.metric_label(), e))?;
        self.budget.spend(who).map_err(|e| self.refused(e.metric_label(), e))?;
        let handle = factory.spawn(self, new_room_id(), options, &self.place())?;
        handle.reserve().map_err(RegistryError::Seat)?;
        self.rooms.insert(handle.id.clone(), handle.clone());
        self.open_hint.insert(handle.room_type.clone(), Arc::downgrade(&handle));
        // From here the slot is the room's: `remove` gives it back.
        slot.keep();
        if let Some(c) = &self.cluster {
            let initial = PortableRoom::fresh(room_type, options, c.node_tag());
            c.adopt(&handle, Some(initial.encode()));
        }
        Ok(handle)
    }

    fn refused(&self, label: &'static str, e: impl Into<RegistryError>) -> RegistryError {
        self.metrics.create_refused(label);
        e.into()
    }

    /// Reserves a seat in an open room of `room_type`, or creates one for
    /// `who` (see [`Registry::create`]: only that create can be refused by
    /// a cap or the budget; joining an open room never is).
    ///
    /// `skip` names rooms to pass over (the caller's own rooms).
    pub fn join_or_create(
        self: &Arc<Self>,
        room_type: &str,
        options: &Options,
        who: &Creator,
        skip: impl Fn(&str) -> bool,
    ) -> Result<Arc<RoomHandle>, RegistryError> {
        if !self.types.contains_key(room_type) {
            return Err(RegistryError::UnknownRoomType(room_type.to_string()));
        }
        match self.find_open(room_type, skip) {
            Some(h) => Ok(h),
            None => self.create(room_type, options, who),
        }
    }

    /// A room of `room_type` here (not one `skip` names) with a seat now
    /// reserved.
    fn find_open(&self, room_type: &str, skip: impl Fn(&str) -> bool) -> Option<Arc<RoomHandle>> {
        let hinted = self.open_hint.get(room_type).and_then(|w| w.upgrade());
        if let Some(h) = hinted {
            // Still registered here (not handed over or gone) and open.
            if !skip(&h.id) && self.rooms.contains_key(&h.id) && h.reserve().is_ok() {
                return Some(h);
            }
        }
        let found = self
            .rooms
            .iter()
            .filter(|r| &*r.room_type == room_type && !skip(&r.id))
            .find(|r| r.reserve().is_ok())
            .map(|r| r.clone())?;
        self.open_hint.insert(found.room_type.clone(), Arc::downgrade(&found));
        Some(found)
    }

    /// Live rooms, optionally of one type.
    pub fn list(&self, room_type: Option<&str>) -> Vec<RoomInfo> {
        let mut rooms: Vec<RoomInfo> = self
            .rooms
            .iter()
            .filter(|r| room_type.is_none_or(|t| &*r.room_type == t))
            .map(|r| {
                let (clients, locked) = r.occupancy();
                RoomInfo {
                    id: r.id.clone(),
                    room_type: r.room_type.to_string(),
                    clients,
                    max_clients: r.max_clients,
                    locked,
                }
            })
            .collect();
        rooms.sort_by(|a, b| a.id.cmp(&b.id));
        rooms
    }

    /// The registered room types.
    pub fn room_types(&self) -> Vec<RoomTypeInfo> {
        self.types
            .values()
            .map(|f| {
                let s = f.spec();
                RoomTypeInfo {
                    name: s.name.clone(),
                    tick_hz: s.tick_hz,
                    max_clients: s.max_clients,
                    empty_timeout_secs: s.empty_timeout.as_secs_f64(),
                    versions: f.versions(),
                    max_rooms: s.max_rooms,
                    tick_when_empty: s.tick_when_empty,
                    aligned_ticks: s.aligned_ticks,
                }
            })
            .collect()
    }

    /// Asks every room to dispose (server shutdown).
    pub fn dispose_all(&self) {
        for r in self.rooms.iter() {
            if let Some(p) = r.port() {
                p.dispose();
            }
        }
    }

    /// Forgets create buckets that are full again (the server's
    /// once-a-second sweep), so they stay bounded.
    pub fn sweep(&self) {
        self.budget.forget_idle();
    }

    /// Where a new room runs: on the calling thread if it is an HTTP
    /// worker this registry adopted ([`Registry::adopt_worker_thread`]), so
    /// the connection that creates a room and the room share a thread and a
    /// tick wakes no other thread for it; else the next room arbiter,
    /// round-robin.
    fn place(&self) -> Place {
        let me = self as *const Registry as usize;
        let here = WORKER_PLACE.with(|w| w.borrow().as_ref().filter(|(r, _)| *r == me).map(|(_, p)| p.clone()));
        here.unwrap_or_else(|| self.places[self.next.fetch_add(1, Ordering::Relaxed) % self.places.len()].clone())
    }

    /// Lets rooms created from the calling thread run on it (see
    /// [`Registry::place`]): the server calls this on each HTTP worker
    /// thread as it starts, when `ServerConfig::rooms_on_workers` is set. The
    /// thread must be an actix arbiter (an actix-server worker is); a second
    /// call on the same thread does nothing.
    pub fn adopt_worker_thread(&self) -> std::io::Result<()> {
        let me = self as *const Registry as usize;
        if WORKER_PLACE.with(|w| w.borrow().as_ref().is_some_and(|(r, _)| *r == me)) {
            return Ok(());
        }
        let Some(arbiter) = actix_rt::Arbiter::try_current() else {
            return Ok(());
        };
        let place = Place { driver: TickDriver::start(&arbiter, self.metrics.tick_driver_lateness.clone())?, arbiter };
        self.worker_places.lock().push(place.clone());
        WORKER_PLACE.with(|w| *w.borrow_mut() = Some((me, place)));
        Ok(())
    }

    /// Copies what the tick drivers did into `/metrics` (the server's
    /// once-a-second sweep).
    pub fn publish_driver_stats(&self) {
        let workers = self.worker_places.lock().clone();
        let (cpu_ns, wakeups) = self.places.iter().chain(&workers).fold((0u64, 0u64), |(c, w), p| {
            let s = p.driver.stats();
            (c + s.cpu_ns.load(Ordering::Relaxed), w + s.wakeups.load(Ordering::Relaxed))
        });
        let m = &self.metrics;
        m.tick_driver_cpu.inc_by((cpu_ns as f64 / 1e9 - m.tick_driver_cpu.get()).max(0.0));
        m.tick_driver_wakeups.inc_by(wakeups.saturating_sub(m.tick_driver_wakeups.get()));
    }

    pub(crate) fn remove(&self, id: &RoomId) {
        // Only the call that removes the room gives its slot back: a room
        // that is disposed after crashing deregisters twice.
        if let Some((_, h)) = self.rooms.remove(id) {
            self.caps.give_back(&h.room_type);
            if let Some(c) = &self.cluster {
                c.release(id);
            }
        }
    }
}

/// Rooms tell the registry when they are gone.
impl RoomDirectory for Registry {
    fn room_gone(&self, id: &RoomId) {
        self.remove(id);
    }
}
