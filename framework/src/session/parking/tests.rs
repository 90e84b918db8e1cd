//! The parking rules by hand: which lost session parks at each cap, and
//! which parked one gives way.

use super::*;

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
    assert_eq!(evicted(&q.admit(player(5, HOME))), Some(vec![(3, Cap::Address)]), "roomless first, even for a player");
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
    let ann =
        |session: u64, roomless| Claim { session: SessionId(session), address: ip(HOME), user: Some("ann"), roomless };
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
