//! [`ParkingQuota`]: which lost sessions may wait for their client to
//! resume, and which parked session gives way when a cap is reached.
//!
//! A parked session costs memory (its outbox keeps collecting) and, under a
//! single global cap, a place every other client needs: a flood of
//! connect-and-drop cycles from one machine used to fill that cap, and the
//! next player who lost its connection was not parked and lost its seat.
//! So parking is bounded per client address and per user too, and a
//! session in no room (nothing to lose but a fresh session id) is the first
//! to give way, everywhere:
//!
//! - at its address's or user's cap, the oldest parked session of that same
//!   address or user gives way: the oldest roomless one, else (only for a
//!   newcomer that holds a seat) the oldest one in rooms;
//! - at the global cap, the oldest roomless parked session anywhere gives
//!   way;
//! - a roomless session never displaces one in rooms: with no roomless
//!   session to displace, the newcomer is not parked (its session ends,
//!   as every lost session did past the cap before).
//!
//! Age is the order of admission (a counter under the caller's lock: unique
//! and monotonic, where timestamps taken before the lock could tie or come
//! out of order). The quota only decides and keeps counts; ending the
//! evicted sessions is the caller's job (see `Sessions::disconnect`).
//!
//! ```
//! use playhouse::protocol::SessionId;
//! use playhouse::session::{Admission, Cap, Claim, ParkingLimits, ParkingQuota};
//!
//! let mut quota = ParkingQuota::new(ParkingLimits { max_parked: 100, per_address: 2, per_user: 0 });
//! let ip = "10.0.0.7".parse().ok();
//! let claim = |n, roomless| Claim { session: SessionId(n), address: ip, user: None, roomless };
//! let player = quota.admit(claim(1, false));
//! assert!(matches!(player, Admission::Park { ref evict, .. } if evict.is_empty()));
//! quota.admit(claim(2, true));
//! // The address is at its cap: the roomless session gives way, not the player.
//! let Admission::Park { evict, .. } = quota.admit(claim(3, true)) else { panic!("parked") };
//! assert_eq!((evict[0].session, evict[0].cap), (SessionId(2), Cap::Address));
//! // Another player displaces the roomless session 3; then only players
//! // are parked from the address, and a roomless session may not displace one.
//! let Admission::Park { evict, .. } = quota.admit(claim(4, false)) else { panic!("parked") };
//! assert_eq!(evict[0].session, SessionId(3));
//! assert_eq!(quota.admit(claim(5, true)), Admission::Refuse(Cap::Address));
//! ```

use crate::protocol::SessionId;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv6Addr};

/// The caps on parked sessions (`SessionConfig::max_parked`,
/// `max_parked_per_address`, `max_parked_per_user`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParkingLimits {
    /// Most sessions parked at once (0: none is parked).
    pub max_parked: usize,
    /// Most sessions parked from one client address (0: no cap). IPv6
    /// addresses count by their /64 prefix.
    pub per_address: usize,
    /// Most sessions parked for one authenticated user (0: no cap).
    pub per_user: usize,
}

/// The cap a parked session gave way for, or a newcomer was refused at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cap {
    /// `max_parked_per_address`.
    Address,
    /// `max_parked_per_user`.
    User,
    /// `max_parked`.
    Global,
}

impl Cap {
    /// Its name in metrics: `address`, `user` or `global`.
    pub fn label(self) -> &'static str {
        match self {
            Cap::Address => "address",
            Cap::User => "user",
            Cap::Global => "global",
        }
    }
}

/// A session whose connection was lost, asking to be parked.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// The session's id.
    pub session: SessionId,
    /// The client address its connection came from, if known.
    pub address: Option<IpAddr>,
    /// The authenticated user it belongs to, if any.
    pub user: Option<&'a str>,
    /// It is in no room and has no join pending.
    pub roomless: bool,
}

/// A parked session that must end so that another one can park.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eviction {
    /// The session to end.
    pub session: SessionId,
    /// The parking it is evicted from (see [`Admission::Park`]): if the
    /// session was resumed and parked again since, it is another parking,
    /// and the session stays.
    pub ticket: u64,
    /// The cap it gave way for.
    pub cap: Cap,
}

/// The answer to a [`Claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Park the session; `ticket` names this parking (for
    /// [`ParkingQuota::release`]). The sessions in `evict` are already out
    /// of the quota: end each one that is still parked under its ticket.
    Park {
        /// This parking's ticket.
        ticket: u64,
        /// The parked sessions that give way (at most one per cap).
        evict: Vec<Eviction>,
    },
    /// Do not park it: this cap is full of sessions it may not displace.
    Refuse(Cap),
}

/// Parked sessions by age, roomless ones apart (they give way first).
#[derive(Debug, Default)]
struct Queue {
    roomless: BTreeMap<u64, SessionId>,
    seated: BTreeMap<u64, SessionId>,
}

impl Queue {
    fn len(&self) -> usize {
        self.roomless.len() + self.seated.len()
    }

    fn side(&mut self, roomless: bool) -> &mut BTreeMap<u64, SessionId> {
        if roomless {
            &mut self.roomless
        } else {
            &mut self.seated
        }
    }

    /// How many parked sessions it holds once `evict` is gone.
    fn len_without(&self, evict: &[Eviction]) -> usize {
        let leaving =
            evict.iter().filter(|e| self.roomless.contains_key(&e.ticket) || self.seated.contains_key(&e.ticket));
        self.len() - leaving.count()
    }

    /// The session that gives way to a newcomer: the oldest roomless one
    /// not leaving already, else, if `seated_may_go`, the oldest in rooms.
    fn victim(&self, seated_may_go: bool, evict: &[Eviction]) -> Option<(u64, SessionId)> {
        let free = |(t, s): (&u64, &SessionId)| (!evict.iter().any(|e| e.ticket == *t)).then_some((*t, *s));
        let seated = seated_may_go.then_some(&self.seated).into_iter().flatten();
        self.roomless.iter().chain(seated).find_map(free)
    }
}

/// Where one parked session is counted.
#[derive(Debug)]
struct Entry {
    ticket: u64,
    address: Option<IpAddr>,
    user: Option<String>,
    roomless: bool,
}

/// Admits lost sessions to parking within the [`ParkingLimits`] and names
/// the parked sessions that give way (see the module docs for the rules).
/// Plain data: the caller serializes access and ends the evicted sessions.
#[derive(Debug)]
pub struct ParkingQuota {
    limits: ParkingLimits,
    next_ticket: u64,
    by_session: HashMap<SessionId, Entry>,
    all: Queue,
    by_address: HashMap<IpAddr, Queue>,
    by_user: HashMap<String, Queue>,
}

/// The key an address is counted under: IPv4 as is (IPv4-mapped IPv6
/// too); IPv6 by its /64, the block one subscriber or host is given, so a
/// client cannot take a fresh address for each connection.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u128::from(u64::MAX)))),
        },
    }
}

impl ParkingQuota {
    /// An empty quota with these caps.
    pub fn new(limits: ParkingLimits) -> Self {
        ParkingQuota {
            limits,
            next_ticket: 1,
            by_session: HashMap::new(),
            all: Queue::default(),
            by_address: HashMap::new(),
            by_user: HashMap::new(),
        }
    }

    /// The caps.
    pub fn limits(&self) -> ParkingLimits {
        self.limits
    }

    /// Sessions parked.
    pub fn len(&self) -> usize {
        self.by_session.len()
    }

    /// Whether none is parked.
    pub fn is_empty(&self) -> bool {
        self.by_session.is_empty()
    }

    /// Sessions parked from `ip` (IPv6: from its /64).
    pub fn parked_from(&self, ip: IpAddr) -> usize {
        self.by_address.get(&address_key(ip)).map_or(0, Queue::len)
    }

    /// Sessions parked for `user`.
    pub fn parked_for(&self, user: &str) -> usize {
        self.by_user.get(user).map_or(0, Queue::len)
    }

    /// Decides whether `claim`'s session parks and which parked sessions
    /// give way; if it parks, it is counted from now on and the evicted
    /// ones no longer are. A refusal changes nothing.
    pub fn admit(&mut self, claim: Claim<'_>) -> Admission {
        if self.limits.max_parked == 0 {
            return Admission::Refuse(Cap::Global);
        }
        // A session parks once at a time; a stale entry would be counted twice.
        if let Some(old) = self.by_session.get(&claim.session).map(|e| e.ticket) {
            self.release(claim.session, old);
        }
        let seated = !claim.roomless;
        let address = claim.address.map(address_key);
        let mut evict: Vec<Eviction> = Vec::new();
        // Every admission keeps each count within its cap, so one victim
        // per full cap makes room.
        let groups = [
            (Cap::Address, self.limits.per_address, address.and_then(|a| self.by_address.get(&a))),
            (Cap::User, self.limits.per_user, claim.user.and_then(|u| self.by_user.get(u))),
        ];
        for (cap, max, queue) in groups {
            let Some(queue) = queue.filter(|q| max != 0 && q.len_without(&evict) >= max) else { continue };
            match queue.victim(seated, &evict) {
                Some((ticket, session)) => evict.push(Eviction { session, ticket, cap }),
                None => return Admission::Refuse(cap),
            }
        }
        if self.all.len_without(&evict) >= self.limits.max_parked {
            // Never a seat for a roomless session, nor a seat for a seat:
            // a player who lost its connection first keeps its place.
            match self.all.victim(false, &evict) {
                Some((ticket, session)) => evict.push(Eviction { session, ticket, cap: Cap::Global }),
                None => return Admission::Refuse(Cap::Global),
            }
        }
        for e in &evict {
            self.release(e.session, e.ticket);
        }
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let user = claim.user.map(str::to_string);
        self.all.side(claim.roomless).insert(ticket, claim.session);
        if let Some(a) = address {
            self.by_address.entry(a).or_default().side(claim.roomless).insert(ticket, claim.session);
        }
        if let Some(u) = &user {
            self.by_user.entry(u.clone()).or_default().side(claim.roomless).insert(ticket, claim.session);
        }
        self.by_session.insert(claim.session, Entry { ticket, address, user, roomless: claim.roomless });
        Admission::Park { ticket, evict }
    }

    /// `session`'s parking `ticket` is over (it resumed, ended or was
    /// evicted). Returns whether it was still counted.
    pub fn release(&mut self, session: SessionId, ticket: u64) -> bool {
        let Some(entry) = self.by_session.remove_entry(&session).map(|(_, e)| e) else { return false };
        if entry.ticket != ticket {
            // Another parking of the same session: it stays counted.
            self.by_session.insert(session, entry);
            return false;
        }
        self.all.side(entry.roomless).remove(&ticket);
        if let Some(a) = entry.address {
            forget(&mut self.by_address, &a, ticket, entry.roomless);
        }
        if let Some(u) = &entry.user {
            forget(&mut self.by_user, u, ticket, entry.roomless);
        }
        true
    }
}

/// Removes `ticket` from `key`'s queue and the queue once empty, so the
/// maps hold only addresses and users with a parked session.
fn forget<K, Q>(map: &mut HashMap<K, Queue>, key: &Q, ticket: u64, roomless: bool)
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ?Sized,
{
    if let Some(q) = map.get_mut(key) {
        q.side(roomless).remove(&ticket);
        if q.len() == 0 {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::protocol::{ConnId, SessionId};

    const HOME: &str = "10.0.0.7";
    const ELSEWHERE: &str = "10.0.0.8";

    fn quota(max_parked: usize, per_address: usize, per_user: usize) -> ParkingQuota {
        ParkingQuota::new(ParkingLimits { max_parked, per_address, per_user })
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("an address"))
    }

    fn roomless(session: u64, address: &str) -> Claim<'static> {
        Claim { session: SessionId(session), address: ip(address), user: None, roomless: true }
    }

    fn player(session: u64, address: &str) -> Claim<'static> {
        Claim { session: SessionId(session), address: ip(address), user: None, roomless: false }
    }

    /// The sessions that give way, or `None` for a refusal.
    fn evicted(a: &Admission) -> Option<Vec<(u64, Cap)>> {
        match a {
            Admission::Park { evict, .. } => Some(evict.iter().map(|e| (e.session.0, e.cap)).collect()),
            Admission::Refuse(_) => None,
        }
    }

    fn ticket(a: &Admission) -> u64 {
        match a {
            Admission::Park { ticket, .. } => *ticket,
            Admission::Refuse(c) => panic!("refused at the {c:?} cap"),
        }
    }

    #[test]
    fn below_every_cap_a_session_parks_and_is_counted_where_it_belongs() {
        let mut q = quota(10, 5, 5);
        let a = q.admit(Claim { session: SessionId(1), address: ip(HOME), user: Some("ann"), roomless: false });
        assert_eq!(evicted(&a), Some(vec![]));
        assert_eq!((q.len(), q.parked_from(ip(HOME).unwrap()), q.parked_for("ann")), (1, 1, 1));
        assert!(q.release(SessionId(1), ticket(&a)));
        assert_eq!((q.len(), q.parked_from(ip(HOME).unwrap()), q.parked_for("ann")), (0, 0, 0));
        assert!(q.by_address.is_empty() && q.by_user.is_empty(), "no empty queue is kept");
    }

    #[test]
    fn at_the_address_cap_the_oldest_roomless_session_of_that_address_gives_way() {
        let mut q = quota(100, 3, 0);
        q.admit(player(1, HOME));
        q.admit(roomless(2, HOME));
        q.admit(roomless(3, HOME));
        q.admit(roomless(10, ELSEWHERE));
        assert_eq!(evicted(&q.admit(roomless(4, HOME))), Some(vec![(2, Cap::Address)]));
        assert_eq!(
            evicted(&q.admit(player(5, HOME))),
            Some(vec![(3, Cap::Address)]),
            "roomless first, even for a player"
        );
        assert_eq!(q.parked_from(ip(HOME).unwrap()), 3);
        assert_eq!(q.parked_from(ip(ELSEWHERE).unwrap()), 1, "another address is not touched");
    }

    #[test]
    fn at_the_address_cap_with_only_players_parked_a_player_displaces_the_oldest_and_a_roomless_session_is_refused() {
        let mut q = quota(100, 2, 0);
        q.admit(player(1, HOME));
        q.admit(player(2, HOME));
        assert_eq!(q.admit(roomless(3, HOME)), Admission::Refuse(Cap::Address));
        assert_eq!(q.len(), 2, "a refusal changes nothing");
        assert_eq!(evicted(&q.admit(player(4, HOME))), Some(vec![(1, Cap::Address)]));
    }

    #[test]
    fn at_the_user_cap_the_oldest_parked_session_of_that_user_gives_way() {
        let mut q = quota(100, 0, 2);
        let ann = |session: u64, roomless| Claim {
            session: SessionId(session),
            address: ip(HOME),
            user: Some("ann"),
            roomless,
        };
        q.admit(ann(1, false));
        q.admit(ann(2, true));
        q.admit(Claim { session: SessionId(3), address: ip(HOME), user: Some("bob"), roomless: true });
        assert_eq!(evicted(&q.admit(ann(4, false))), Some(vec![(2, Cap::User)]), "roomless first");
        assert_eq!(evicted(&q.admit(ann(5, false))), Some(vec![(1, Cap::User)]), "then the oldest");
        assert_eq!(q.admit(ann(6, true)), Admission::Refuse(Cap::User));
        assert_eq!((q.parked_for("ann"), q.parked_for("bob")), (2, 1));
    }

    #[test]
    fn at_the_global_cap_the_oldest_roomless_session_anywhere_gives_way() {
        let mut q = quota(3, 0, 0);
        q.admit(player(1, HOME));
        q.admit(roomless(2, ELSEWHERE));
        q.admit(roomless(3, HOME));
        assert_eq!(evicted(&q.admit(player(4, HOME))), Some(vec![(2, Cap::Global)]));
        assert_eq!(evicted(&q.admit(roomless(5, ELSEWHERE))), Some(vec![(3, Cap::Global)]));
        assert_eq!(q.len(), 3);
    }

    #[test]
    fn a_roomless_flood_cannot_evict_a_players_parked_session() {
        let mut q = quota(10, 4, 0);
        let seat = ticket(&q.admit(player(1, HOME)));
        for s in 2..10_000 {
            let a = q.admit(roomless(s, HOME));
            assert!(evicted(&a).is_some_and(|e| e.iter().all(|(v, _)| *v != 1)), "cycle {s}: {a:?}");
        }
        assert_eq!(q.parked_from(ip(HOME).unwrap()), 4);
        assert!(q.release(SessionId(1), seat), "the player is still parked");
    }

    #[test]
    fn at_the_global_cap_full_of_players_nobody_is_displaced() {
        let mut q = quota(2, 0, 0);
        q.admit(player(1, HOME));
        q.admit(player(2, ELSEWHERE));
        assert_eq!(q.admit(player(3, HOME)), Admission::Refuse(Cap::Global), "a seat is never taken for a seat");
        assert_eq!(q.admit(roomless(4, HOME)), Admission::Refuse(Cap::Global));
        assert_eq!(q.len(), 2);
    }

    #[test]
    fn one_newcomer_at_several_caps_evicts_one_session_per_cap_and_never_one_twice() {
        let mut q = quota(3, 2, 2);
        q.admit(Claim { session: SessionId(1), address: ip(HOME), user: Some("bob"), roomless: true });
        q.admit(Claim { session: SessionId(2), address: ip(ELSEWHERE), user: Some("ann"), roomless: true });
        q.admit(Claim { session: SessionId(3), address: ip(HOME), user: Some("ann"), roomless: true });
        // HOME holds 1 and 3, ann holds 2 and 3, 3 parked in all: one
        // victim each for the address and the user makes room globally too.
        let a = q.admit(Claim { session: SessionId(4), address: ip(HOME), user: Some("ann"), roomless: false });
        assert_eq!(evicted(&a), Some(vec![(1, Cap::Address), (2, Cap::User)]));
        assert_eq!(q.len(), 2);
        // A session both at the address and the user cap is evicted once.
        let mut q = quota(10, 1, 1);
        q.admit(Claim { session: SessionId(1), address: ip(HOME), user: Some("ann"), roomless: true });
        let a = q.admit(Claim { session: SessionId(2), address: ip(HOME), user: Some("ann"), roomless: true });
        assert_eq!(evicted(&a), Some(vec![(1, Cap::Address)]));
    }

    #[test]
    fn a_refusal_at_a_later_cap_evicts_nobody_at_an_earlier_one() {
        let mut q = quota(100, 1, 1);
        q.admit(Claim { session: SessionId(1), address: ip(HOME), user: Some("bob"), roomless: true });
        q.admit(Claim { session: SessionId(2), address: ip(ELSEWHERE), user: Some("ann"), roomless: false });
        let a = q.admit(Claim { session: SessionId(3), address: ip(HOME), user: Some("ann"), roomless: true });
        assert_eq!(a, Admission::Refuse(Cap::User));
        assert_eq!((q.len(), q.parked_from(ip(HOME).unwrap())), (2, 1), "session 1 is still parked");
    }

    #[test]
    fn sessions_without_an_address_or_user_count_only_globally() {
        let mut q = quota(3, 1, 1);
        for s in 1..=3 {
            assert_eq!(
                evicted(&q.admit(Claim { session: SessionId(s), address: None, user: None, roomless: true })),
                Some(vec![])
            );
        }
        let a = q.admit(Claim { session: SessionId(4), address: None, user: None, roomless: true });
        assert_eq!(evicted(&a), Some(vec![(1, Cap::Global)]));
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_prefix_and_mapped_ipv4_as_ipv4() {
        let mut q = quota(100, 2, 0);
        q.admit(roomless(1, "2001:db8:1:2::1"));
        q.admit(roomless(2, "2001:db8:1:2:ffff::9"));
        assert_eq!(evicted(&q.admit(roomless(3, "2001:db8:1:2:abcd::3"))), Some(vec![(1, Cap::Address)]));
        assert_eq!(evicted(&q.admit(roomless(4, "2001:db8:1:3::1"))), Some(vec![]), "another /64");
        q.admit(roomless(5, HOME));
        assert_eq!(q.parked_from("::ffff:10.0.0.7".parse().unwrap()), 1);
    }

    #[test]
    fn a_release_of_an_older_parking_leaves_the_current_one_counted() {
        let mut q = quota(10, 10, 10);
        let first = ticket(&q.admit(roomless(1, HOME)));
        assert!(q.release(SessionId(1), first));
        let second = ticket(&q.admit(roomless(1, HOME)));
        assert!(!q.release(SessionId(1), first), "a stale ticket");
        assert_eq!(q.len(), 1);
        assert!(q.release(SessionId(1), second));
        assert!(!q.release(SessionId(1), second), "released once");
    }

    #[test]
    fn a_max_parked_of_zero_parks_nothing() {
        let mut q = quota(0, 0, 0);
        assert_eq!(q.admit(player(1, HOME)), Admission::Refuse(Cap::Global));
        assert!(q.is_empty());
    }
}
