//! [`CreateGate`]: the create budget. Every room create spends one token
//! from its session's bucket and one from its client address's bucket
//! (GCRA token buckets from `governor`, keyed); an empty bucket refuses the
//! create with `JoinError CREATE_RATE_LIMITED` and says when to retry.
//!
//! Why: a room costs memory and a tick, and it outlives the client that made
//! it by its empty timeout, so create → leave → create in a loop used to
//! pile up hundreds of rooms within seconds. Only an actual create spends: a
//! join-or-create that finds an open room never touches the budget.
//!
//! Keys are forgotten once their bucket is full again
//! ([`CreateGate::forget_idle`], run by the server's once-a-second sweep),
//! so the state holds only the sessions and addresses that created a room
//! recently: at most `(burst + 1) / per_minute` minutes ago (with the
//! defaults, 36 s for a session and 31 s for an address).
//!
//! ```
//! use playhouse::connection::Creator;
//! use playhouse::matchmaking::{Allowance, CreateBudget, CreateGate};
//! use playhouse::protocol::SessionId;
//!
//! let budget = CreateBudget { per_session: Allowance::new(10, 2), per_address: Allowance::UNLIMITED };
//! let gate = CreateGate::new(budget);
//! let me = Creator { session: SessionId(7), address: None, movable: false };
//! assert!(gate.spend(&me).is_ok());
//! assert!(gate.spend(&me).is_ok());
//! assert!(gate.spend(&me).is_err(), "a burst of 2, then one every 6 s");
//! assert!(gate.spend(&Creator { session: SessionId(8), address: None, movable: false }).is_ok(), "another session has its own bucket");
//! ```

use crate::connection::Creator;
use crate::protocol::SessionId;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use serde::Serialize;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// The size and refill of one bucket: `per_minute` creates a minute
/// sustained, up to `burst` at once. `per_minute` 0: no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Allowance {
    /// Creates a minute, sustained (0: unlimited).
    pub per_minute: u32,
    /// Creates allowed at once on a full bucket (0: as many as `per_minute`).
    pub burst: u32,
}

impl Allowance {
    /// No limit.
    pub const UNLIMITED: Allowance = Allowance { per_minute: 0, burst: 0 };

    /// `per_minute` creates a minute, `burst` at once.
    pub const fn new(per_minute: u32, burst: u32) -> Self {
        Allowance { per_minute, burst }
    }

    fn quota(self) -> Option<Quota> {
        let rate = NonZeroU32::new(self.per_minute)?;
        let burst = NonZeroU32::new(self.burst).unwrap_or(rate);
        Some(Quota::per_minute(rate).allow_burst(burst))
    }
}

/// How many rooms one session and one client address may create
/// (`ServerConfig::create_budget`, listed in `/info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CreateBudget {
    /// Per session (a resumed session keeps its bucket).
    pub per_session: Allowance,
    /// Per client address (the peer, or the `X-Forwarded-For` hop of a
    /// trusted proxy): what bounds a client that opens a new connection,
    /// and so a new session, for every create.
    pub per_address: Allowance,
}

impl Default for CreateBudget {
    /// Per session 10 a minute, 5 at once: a player creates a room to start
    /// a match that lasts minutes, so even a few retries in a row stay far
    /// inside it. Per address 60 a minute, 30 at once: one address may be a
    /// NAT (a campus, a LAN party, a carrier-grade NAT) with many players
    /// behind it, each creating now and then; 30 of them may start at once.
    /// Past these, a create loop from one address keeps at most about 60
    /// rooms alive through a 30 s empty timeout.
    fn default() -> Self {
        CreateBudget { per_session: Allowance::new(10, 5), per_address: Allowance::new(60, 30) }
    }
}

/// Which bucket refused a create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetKind {
    /// The session's.
    Session,
    /// The client address's.
    Address,
}

/// A create the budget refused; the message says which budget and when
/// to retry (it is the `JoinError` reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "too many rooms created {}: at most {} a minute, {} at once; try again in {} s",
    match .kind { BudgetKind::Session => "by this session", BudgetKind::Address => "from this address" },
    .allowance.per_minute,
    .allowance.burst,
    retry_secs(.retry_after)
)]
pub struct BudgetRefusal {
    /// The bucket that was empty.
    pub kind: BudgetKind,
    /// Its allowance.
    pub allowance: Allowance,
    /// When it holds a token again.
    pub retry_after: Duration,
}

/// Whole seconds, rounded up, at least 1: "try again in 0 s" reads wrong.
fn retry_secs(d: &Duration) -> u64 {
    u64::try_from(d.as_nanos().div_ceil(1_000_000_000)).unwrap_or(u64::MAX).max(1)
}

impl BudgetRefusal {
    /// The `reason` label of `playhouse_creates_refused_total`.
    pub fn metric_label(&self) -> &'static str {
        match self.kind {
            BudgetKind::Session => "session_budget",
            BudgetKind::Address => "address_budget",
        }
    }
}

type Buckets<K, C> = RateLimiter<K, DefaultKeyedStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Keyed buckets for `allowance`; `None` if it is unlimited.
fn buckets<K: Clone + Eq + std::hash::Hash, C: Clock + Clone>(
    allowance: Allowance,
    clock: &C,
) -> Option<Buckets<K, C>> {
    allowance.quota().map(|q| RateLimiter::new(q, DefaultKeyedStateStore::default(), clock.clone()))
}

/// The create buckets of every session and address (see the module docs).
/// Generic over the clock only so tests can drive it with a fake one.
pub struct CreateGate<C: Clock = DefaultClock> {
    budget: CreateBudget,
    clock: C,
    sessions: Option<Buckets<SessionId, C>>,
    addresses: Option<Buckets<IpAddr, C>>,
}

impl<C: Clock> std::fmt::Debug for CreateGate<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateGate").field("budget", &self.budget).finish_non_exhaustive()
    }
}

impl CreateGate {
    /// Full buckets for `budget`, on the real clock.
    pub fn new(budget: CreateBudget) -> Self {
        Self::with_clock(budget, DefaultClock::default())
    }
}

impl<C: Clock + Clone> CreateGate<C> {
    /// Full buckets for `budget`, on `clock`.
    pub fn with_clock(budget: CreateBudget, clock: C) -> Self {
        CreateGate {
            budget,
            sessions: buckets(budget.per_session, &clock),
            addresses: buckets(budget.per_address, &clock),
            clock,
        }
    }

    /// Takes one create from `who`'s buckets, or says which is empty.
    ///
    /// The session is asked first: a session that is over its own budget is
    /// refused without touching its address's bucket, so one abusive
    /// session behind a NAT cannot drain the budget of the players it shares
    /// the address with. (The other way round, a create the address refuses
    /// still costs the session its token: that only slows the session that
    /// keeps asking.)
    pub fn spend(&self, who: &Creator) -> Result<(), BudgetRefusal> {
        if let Some(b) = &self.sessions {
            b.check_key(&who.session)
                .map_err(|n| self.refusal(BudgetKind::Session, n.wait_time_from(self.clock.now())))?;
        }
        if let (Some(b), Some(ip)) = (&self.addresses, &who.address) {
            b.check_key(ip).map_err(|n| self.refusal(BudgetKind::Address, n.wait_time_from(self.clock.now())))?;
        }
        Ok(())
    }

    fn refusal(&self, kind: BudgetKind, retry_after: Duration) -> BudgetRefusal {
        let allowance = match kind {
            BudgetKind::Session => self.budget.per_session,
            BudgetKind::Address => self.budget.per_address,
        };
        // Burst 0 means "as many as per_minute": say the number.
        let burst = if allowance.burst == 0 { allowance.per_minute } else { allowance.burst };
        let allowance = Allowance { burst, ..allowance };
        BudgetRefusal { kind, allowance, retry_after }
    }

    /// Forgets every session and address whose bucket is full again (it
    /// would start full anyway), so the maps stay bounded.
    pub fn forget_idle(&self) {
        if let Some(b) = &self.sessions {
            b.retain_recent();
        }
        if let Some(b) = &self.addresses {
            b.retain_recent();
        }
    }

    /// (sessions, addresses) remembered now.
    pub fn remembered(&self) -> (usize, usize) {
        (self.sessions.as_ref().map_or(0, |b| b.len()), self.addresses.as_ref().map_or(0, |b| b.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::protocol::{ConnId, SessionId};
    use governor::clock::FakeRelativeClock;

    fn fake_gate(per_session: Allowance, per_address: Allowance) -> (CreateGate<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (CreateGate::with_clock(CreateBudget { per_session, per_address }, clock.clone()), clock)
    }

    fn from(session: u64, ip: &str) -> Creator {
        Creator { session: SessionId(session), address: Some(ip.parse().expect("literal address")), movable: true }
    }

    #[test]
    fn a_create_loop_is_bounded_by_the_session_budget() {
        let (gate, clock) = fake_gate(Allowance::new(10, 5), Allowance::UNLIMITED);
        let me = from(1, "10.0.0.1");
        let allowed = (0..100).filter(|_| gate.spend(&me).is_ok()).count();
        assert_eq!(allowed, 5, "the burst, then nothing until the bucket refills");
        let e = gate.spend(&me).unwrap_err();
        assert_eq!((e.kind, e.retry_after), (BudgetKind::Session, Duration::from_secs(6)));
        assert_eq!(
            e.to_string(),
            "too many rooms created by this session: at most 10 a minute, 5 at once; try again in 6 s"
        );
        clock.advance(Duration::from_secs(6));
        assert!(gate.spend(&me).is_ok(), "one more every 6 s");
        assert!(gate.spend(&me).is_err());
        clock.advance(Duration::from_secs(60));
        assert_eq!((0..100).filter(|_| gate.spend(&me).is_ok()).count(), 5, "a minute later: the whole burst again");
    }

    #[test]
    fn new_sessions_from_one_address_are_bounded_by_the_address_budget() {
        let (gate, clock) = fake_gate(Allowance::new(10, 5), Allowance::new(60, 30));
        // A client that opens a new connection (a new session) per create.
        let allowed = (0..1000).filter(|s| gate.spend(&from(*s, "10.0.0.1")).is_ok()).count();
        assert_eq!(allowed, 30);
        let e = gate.spend(&from(5000, "10.0.0.1")).unwrap_err();
        assert_eq!((e.kind, e.metric_label()), (BudgetKind::Address, "address_budget"));
        assert_eq!(e.retry_after, Duration::from_secs(1));
        assert!(e.to_string().starts_with("too many rooms created from this address: at most 60 a minute, 30 at once"));
        assert!(gate.spend(&from(5001, "10.0.0.2")).is_ok(), "another address has its own bucket");
        clock.advance(Duration::from_secs(1));
        assert!(gate.spend(&from(5002, "10.0.0.1")).is_ok(), "one more a second");
    }

    #[test]
    fn a_session_over_its_budget_does_not_drain_its_address() {
        let (gate, _) = fake_gate(Allowance::new(10, 5), Allowance::new(60, 30));
        let abuser = from(1, "10.0.0.1");
        for _ in 0..1000 {
            let _ = gate.spend(&abuser);
        }
        // The abuser spent 5 of the address's 30; its neighbours have the rest.
        let neighbours = (2..100).filter(|s| gate.spend(&from(*s, "10.0.0.1")).is_ok()).count();
        assert_eq!(neighbours, 25);
    }

    #[test]
    fn zero_means_unlimited_and_an_unknown_address_counts_by_session_only() {
        let (gate, _) = fake_gate(Allowance::UNLIMITED, Allowance::new(60, 1));
        assert!((0..1000).all(|_| gate.spend(&Creator { session: SessionId(1), address: None, movable: true }).is_ok()));
        let (gate, _) = fake_gate(Allowance::new(60, 0), Allowance::UNLIMITED);
        assert_eq!(
            (0..1000).filter(|_| gate.spend(&from(1, "::1")).is_ok()).count(),
            60,
            "burst 0: the minute's worth"
        );
        assert_eq!(gate.spend(&from(1, "::1")).unwrap_err().allowance, Allowance::new(60, 60));
    }

    #[test]
    fn keys_are_forgotten_once_their_bucket_is_full_again() {
        let (gate, clock) = fake_gate(Allowance::new(10, 5), Allowance::new(60, 30));
        for s in 0..500 {
            let _ = gate.spend(&from(s, &format!("10.0.{}.{}", s / 256, s % 256)));
        }
        assert_eq!(gate.remembered(), (500, 500));
        // One create is back in a bucket after one period (1 s per address,
        // 6 s per session); governor forgets a key one period after that.
        clock.advance(Duration::from_secs(2));
        gate.forget_idle();
        assert_eq!(gate.remembered(), (500, 0));
        clock.advance(Duration::from_secs(10));
        gate.forget_idle();
        assert_eq!(gate.remembered(), (0, 0));
    }
}
