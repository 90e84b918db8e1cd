//! [`LocalDirectory`]: the room directory's rules as a plain struct (leases,
//! epochs, fencing), driven with explicit instants; [`Local`] serves it as a
//! [`Backend`] inside one process.

use super::local_channels::LocalChannelStore;
use super::{Backend, BackendError, ChannelStore, NodeInfo, Renewal, Renewed, RoomRecord, Seat, SeatIn};
use crate::metrics::ClusterMetrics;
use futures_util::future::{self, BoxFuture, FutureExt};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The directory in memory. Every method takes `now`, so tests move time by
/// hand; what expired is dropped lazily, as Redis does with key TTLs.
#[derive(Debug, Default)]
pub struct LocalDirectory {
    rooms: BTreeMap<String, (RoomRecord, Instant)>,
    /// The last epoch handed out per room id (an id registered again gets
    /// a newer epoch, so the older owner's writes stay fenced off).
    epochs: HashMap<String, u64>,
    nodes: BTreeMap<String, (NodeInfo, Instant)>,
    /// Seats held for redirected clients: room id → (token, until).
    held: HashMap<String, Vec<(String, Instant)>>,
    next_token: u64,
}

impl LocalDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    fn live(&mut self, id: &str, now: Instant) -> Option<&mut RoomRecord> {
        if self.rooms.get(id).is_some_and(|(_, exp)| *exp <= now) {
            self.rooms.remove(id);
        }
        self.rooms.get_mut(id).map(|(r, _)| r)
    }

    /// Records a new room; answers its epoch.
    pub fn register(&mut self, mut record: RoomRecord, lease: Duration, now: Instant) -> Result<u64, BackendError> {
        if self.live(&record.id, now).is_some() {
            return Err(BackendError::Exists(record.id));
        }
        let epoch = self.epochs.entry(record.id.clone()).or_insert(0);
        *epoch += 1;
        record.epoch = *epoch;
        self.rooms.insert(record.id.clone(), (record, now + lease));
        Ok(*epoch)
    }

    /// Renews `node`'s rooms (see [`Backend::renew`]).
    pub fn renew(&mut self, node: &NodeInfo, rooms: Vec<Renewal>, lease: Duration, now: Instant) -> Renewed {
        self.nodes.insert(node.id.clone(), (node.clone(), now + lease));
        let mut lost = Vec::new();
        for r in rooms {
            match self.live(&r.id, now) {
                Some(rec) if rec.node == node.id && rec.epoch == r.epoch => {
                    rec.clients = r.clients;
                    rec.locked = r.locked;
                    if let Some((_, exp)) = self.rooms.get_mut(&r.id) {
                        *exp = now + lease;
                    }
                }
                _ => lost.push(r.id),
            }
        }
        Renewed { lost, reset: false }
    }

    /// Removes a room its owner disposed (fenced by node and epoch).
    pub fn remove(&mut self, id: &str, node: &str, epoch: u64, now: Instant) {
        if self.live(id, now).is_some_and(|r| r.node == node && r.epoch == epoch) {
            self.rooms.remove(id);
        }
    }

    /// Live rooms, optionally of one type, by id.
    pub fn list(&mut self, room_type: Option<&str>, now: Instant) -> Vec<RoomRecord> {
        self.rooms.retain(|_, (_, exp)| *exp > now);
        self.rooms.values().map(|(r, _)| r).filter(|r| room_type.is_none_or(|t| r.room_type == t)).cloned().collect()
    }

    /// Holds a seat (see [`Backend::reserve`]).
    pub fn reserve(&mut self, want: SeatIn, asking: &str, hold: Duration, now: Instant) -> Seat {
        let ids: Vec<String> = match &want {
            SeatIn::Room(id) => vec![id.clone()],
            SeatIn::AnyOf(t) => {
                // The fullest first: players fill rooms before spreading.
                let mut rooms = self.list(Some(t), now);
                let used = |d: &Self, r: &RoomRecord| {
                    r.clients as usize + d.held.get(&r.id).map_or(0, |h| h.iter().filter(|(_, u)| *u > now).count())
                };
                let mut by_use: Vec<(usize, String)> = rooms.drain(..).map(|r| (used(self, &r), r.id)).collect();
                by_use.sort_by_key(|(used, _)| std::cmp::Reverse(*used));
                by_use.into_iter().map(|(_, id)| id).collect()
            }
        };
        let mut last = Seat::NoneOpen;
        for id in ids {
            let Some(rec) = self.live(&id, now).cloned() else {
                last = Seat::NotFound;
                continue;
            };
            if rec.node == asking {
                last = Seat::NotFound;
                continue;
            }
            let held = self.held.entry(id.clone()).or_default();
            held.retain(|(_, until)| *until > now);
            last = if rec.locked {
                Seat::Locked
            } else if rec.clients as usize + held.len() >= rec.max_clients as usize {
                Seat::Full
            } else {
                self.next_token += 1;
                let token = format!("h{}", self.next_token);
                held.push((token.clone(), now + hold));
                return Seat::Held { room: rec, token };
            };
        }
        match want {
            SeatIn::AnyOf(_) => Seat::NoneOpen,
            SeatIn::Room(_) => last,
        }
    }

    /// Ends the hold `token` of `room`, counting its client (see
    /// [`Backend::seat_used`]).
    pub fn seat_used(&mut self, room: &str, token: &str, now: Instant) {
        let Some(held) = self.held.get_mut(room) else { return };
        let before = held.len();
        held.retain(|(t, _)| t != token);
        if held.len() < before {
            if let Some(rec) = self.live(room, now) {
                rec.clients += 1;
            }
        }
    }

    /// One live room.
    pub fn get(&mut self, id: &str, now: Instant) -> Option<RoomRecord> {
        self.live(id, now).cloned()
    }

    /// Node `node` stops: it is no longer listed.
    pub fn leave(&mut self, node: &str) {
        self.nodes.remove(node);
    }

    /// Live nodes, by id, with how long until each entry expires.
    pub fn nodes(&mut self, now: Instant) -> Vec<(NodeInfo, Duration)> {
        self.nodes.retain(|_, (_, exp)| *exp > now);
        self.nodes.values().map(|(n, exp)| (n.clone(), exp.saturating_duration_since(now))).collect()
    }
}

/// The in-process backend: a [`LocalDirectory`] on the wall clock.
#[derive(Default)]
pub struct Local {
    dir: Mutex<LocalDirectory>,
    metrics: ClusterMetrics,
    channels: Arc<LocalChannelStore>,
}

impl Local {
    /// An empty in-process backend.
    pub fn new() -> Self {
        Self::default()
    }
}

fn ready<T: Send + 'static>(v: T) -> BoxFuture<'static, T> {
    future::ready(v).boxed()
}

impl Backend for Local {
    fn kind(&self) -> &'static str {
        "local"
    }

    fn metrics(&self) -> ClusterMetrics {
        self.metrics.clone()
    }

    fn channels(&self) -> Arc<dyn ChannelStore> {
        self.channels.clone()
    }

    fn register(&self, record: RoomRecord, lease: Duration) -> BoxFuture<'static, Result<u64, BackendError>> {
        ready(self.dir.lock().register(record, lease, Instant::now()))
    }

    fn renew(
        &self,
        node: &NodeInfo,
        rooms: Vec<Renewal>,
        lease: Duration,
    ) -> BoxFuture<'static, Result<Renewed, BackendError>> {
        ready(Ok(self.dir.lock().renew(node, rooms, lease, Instant::now())))
    }

    fn remove(&self, id: &str, node: &str, epoch: u64) -> BoxFuture<'static, Result<(), BackendError>> {
        self.dir.lock().remove(id, node, epoch, Instant::now());
        ready(Ok(()))
    }

    fn list(&self, room_type: Option<&str>) -> BoxFuture<'static, Result<Vec<RoomRecord>, BackendError>> {
        ready(Ok(self.dir.lock().list(room_type, Instant::now())))
    }

    fn reserve(&self, want: SeatIn, asking: &str, hold: Duration) -> BoxFuture<'static, Result<Seat, BackendError>> {
        ready(Ok(self.dir.lock().reserve(want, asking, hold, Instant::now())))
    }

    fn seat_used(&self, room: &str, token: &str) -> BoxFuture<'static, Result<(), BackendError>> {
        self.dir.lock().seat_used(room, token, Instant::now());
        ready(Ok(()))
    }

    fn get(&self, id: &str) -> BoxFuture<'static, Result<Option<RoomRecord>, BackendError>> {
        ready(Ok(self.dir.lock().get(id, Instant::now())))
    }

    fn nodes(&self) -> BoxFuture<'static, Result<Vec<(NodeInfo, Duration)>, BackendError>> {
        ready(Ok(self.dir.lock().nodes(Instant::now())))
    }

    fn leave(&self, node: &str) -> BoxFuture<'static, Result<(), BackendError>> {
        self.dir.lock().leave(node);
        ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(3);

    fn node(id: &str) -> NodeInfo {
        NodeInfo { id: id.into(), url: format!("ws://{id}/ws") }
    }

    fn record(id: &str, node: &str) -> RoomRecord {
        RoomRecord {
            id: id.into(),
            room_type: "arena".into(),
            node: node.into(),
            url: format!("ws://{node}/ws"),
            clients: 0,
            max_clients: 16,
            locked: false,
            epoch: 0,
        }
    }

    fn renewal(id: &str, epoch: u64, clients: u32) -> Renewal {
        Renewal { id: id.into(), epoch, clients, locked: false }
    }

    #[test]
    fn a_renewed_lease_keeps_the_room_and_its_counts() {
        let (mut d, t0) = (LocalDirectory::new(), Instant::now());
        let epoch = d.register(record("r1", "a"), LEASE, t0).unwrap();
        assert_eq!(epoch, 1);
        for i in 1..=10u32 {
            let now = t0 + Duration::from_secs(i.into());
            let out = d.renew(&node("a"), vec![renewal("r1", epoch, i)], LEASE, now);
            assert!(out.lost.is_empty(), "renewed every second, never lost");
        }
        let rec = d.get("r1", t0 + Duration::from_secs(12)).unwrap();
        assert_eq!((rec.clients, rec.node.as_str()), (10, "a"));
    }

    #[test]
    fn a_lease_that_ran_out_is_lost_and_the_room_is_gone() {
        let (mut d, t0) = (LocalDirectory::new(), Instant::now());
        let epoch = d.register(record("r1", "a"), LEASE, t0).unwrap();
        let late = t0 + LEASE + Duration::from_millis(1);
        assert_eq!(d.get("r1", late), None);
        assert!(d.list(None, late).is_empty());
        let out = d.renew(&node("a"), vec![renewal("r1", epoch, 1)], LEASE, late);
        assert_eq!(out.lost, vec!["r1".to_string()]);
    }

    #[test]
    fn one_missed_renewal_frees_nothing() {
        let (mut d, t0) = (LocalDirectory::new(), Instant::now());
        let epoch = d.register(record("r1", "a"), LEASE, t0).unwrap();
        // Renewals every LEASE/3; the one at t0+1s is missed.
        let out = d.renew(&node("a"), vec![renewal("r1", epoch, 0)], LEASE, t0 + Duration::from_secs(2));
        assert!(out.lost.is_empty());
        assert!(d.get("r1", t0 + Duration::from_secs(4)).is_some());
    }

    #[test]
    fn a_stale_epoch_or_another_node_is_fenced_off() {
        let (mut d, t0) = (LocalDirectory::new(), Instant::now());
        let e1 = d.register(record("r1", "a"), LEASE, t0).unwrap();
        // The lease runs out; node b registers the id anew at a newer epoch.
        let t1 = t0 + LEASE * 2;
        let e2 = d.register(record("r1", "b"), LEASE, t1).unwrap();
        assert_eq!(e2, e1 + 1);
        // a comes back from a stall: its renewal and its remove are refused.
        let out = d.renew(&node("a"), vec![renewal("r1", e1, 3)], LEASE, t1);
        assert_eq!(out.lost, vec!["r1".to_string()]);
        d.remove("r1", "a", e1, t1);
        let rec = d.get("r1", t1).unwrap();
        assert_eq!((rec.node.as_str(), rec.epoch, rec.clients), ("b", e2, 0));
        // The owner at the current epoch removes it.
        d.remove("r1", "b", e2, t1);
        assert_eq!(d.get("r1", t1), None);
    }

    #[test]
    fn a_live_id_cannot_be_registered_twice() {
        let (mut d, t0) = (LocalDirectory::new(), Instant::now());
        d.register(record("r1", "a"), LEASE, t0).unwrap();
        assert_eq!(d.register(record("r1", "b"), LEASE, t0), Err(BackendError::Exists("r1".into())));
    }

    #[test]
    fn nodes_are_listed_while_they_renew() {
        let (mut d, t0) = (LocalDirectory::new(), Instant::now());
        d.renew(&node("a"), vec![], LEASE, t0);
        d.renew(&node("b"), vec![], LEASE, t0 + Duration::from_secs(2));
        let ids = |v: Vec<(NodeInfo, Duration)>| v.into_iter().map(|(n, _)| n.id).collect::<Vec<_>>();
        assert_eq!(ids(d.nodes(t0 + Duration::from_secs(1))), ["a", "b"]);
        assert_eq!(ids(d.nodes(t0 + Duration::from_secs(4))), ["b"]);
        // Each with what is left of its entry: a node that stopped renewing
        // shows it.
        let left: Vec<Duration> = d.nodes(t0 + Duration::from_secs(3)).into_iter().map(|(_, l)| l).collect();
        assert_eq!(left, [LEASE - Duration::from_secs(1)]);
    }

    #[test]
    fn seats_are_held_only_in_other_nodes_open_rooms_and_count_until_they_run_out() {
        let (mut d, t0) = (LocalDirectory::new(), Instant::now());
        let mut small = record("r1", "a");
        small.max_clients = 2;
        let e = d.register(small, LEASE, t0).unwrap();
        d.renew(&node("a"), vec![renewal("r1", e, 1)], LEASE, t0);
        let hold = Duration::from_secs(1);
        // The owner's own node is never sent to its own room.
        assert_eq!(d.reserve(SeatIn::AnyOf("arena".into()), "a", hold, t0), Seat::NoneOpen);
        assert_eq!(d.reserve(SeatIn::Room("r1".into()), "a", hold, t0), Seat::NotFound);
        // One client + one held seat = full.
        let Seat::Held { room, .. } = d.reserve(SeatIn::AnyOf("arena".into()), "b", hold, t0) else { panic!() };
        assert_eq!((room.id.as_str(), room.url.as_str()), ("r1", "ws://a/ws"));
        assert_eq!(d.reserve(SeatIn::Room("r1".into()), "b", hold, t0), Seat::Full);
        assert_eq!(d.reserve(SeatIn::AnyOf("arena".into()), "b", hold, t0), Seat::NoneOpen);
        // The hold runs out: the seat is free again.
        assert!(matches!(d.reserve(SeatIn::Room("r1".into()), "b", hold, t0 + hold), Seat::Held { .. }));
        assert_eq!(d.reserve(SeatIn::Room("nope".into()), "b", hold, t0), Seat::NotFound);
        let mut locked = renewal("r1", e, 0);
        locked.locked = true;
        d.renew(&node("a"), vec![locked], LEASE, t0);
        assert_eq!(d.reserve(SeatIn::Room("r1".into()), "b", hold, t0 + hold), Seat::Locked);
    }

    #[test]
    fn list_filters_by_type() {
        let (mut d, t0) = (LocalDirectory::new(), Instant::now());
        d.register(record("r1", "a"), LEASE, t0).unwrap();
        let mut other = record("r2", "a");
        other.room_type = "lobby".into();
        d.register(other, LEASE, t0).unwrap();
        assert_eq!(d.list(Some("lobby"), t0).len(), 1);
        assert_eq!(d.list(None, t0).len(), 2);
    }
}
