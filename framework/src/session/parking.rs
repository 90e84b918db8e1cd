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

    /// The sessions parked now, in no particular order.
    pub fn sessions(&self) -> impl Iterator<Item = SessionId> + '_ {
        self.by_session.keys().copied()
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
mod tests;
