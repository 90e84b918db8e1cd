//! The session registry by hand: open, park, resume, replace, expire — no
//! sockets, no rooms.

use super::*;
#[allow(unused_imports)]
use crate::protocol::{ConnId, SessionId};
use crate::session::{OutItem, OutboxLimits};
use bytes::Bytes;
use std::time::{Duration, Instant};

fn sessions(config: SessionConfig) -> Sessions {
    Sessions::new(config, OutboxLimits::default())
}

/// Writes `n` reliable frames the way a connection does: numbered, logged.
fn write(session: &Session, conn: u64, n: u64) -> Vec<Bytes> {
    let mut st = session.owned_by(ConnId(conn)).expect("owner");
    (0..n)
        .map(|_| {
            let seq = st.log.next_seq();
            let f = Bytes::from(format!("m{seq}"));
            st.log.push(seq, f.clone());
            f
        })
        .collect()
}

#[test]
fn a_parked_session_resumes_with_what_the_client_missed() {
    let reg = sessions(SessionConfig::default());
    let s = reg.open(ConnId(1));
    let token = reg.token(&s);
    let sent = write(&s, 1, 5);
    assert!(reg.disconnect(&s, ConnId(1), true, Instant::now()));
    assert!(s.is_parked());
    assert_eq!(reg.parked_count(), 1);
    let r = reg.resume(&token, 3, ConnId(2), None, "", Instant::now()).unwrap();
    assert_eq!(r.replay, sent[3..].to_vec());
    assert!(!r.resync);
    assert_eq!(r.replaced, None, "it was parked");
    assert_eq!(reg.parked_count(), 0);
    assert!(s.owned_by(ConnId(1)).is_none() && s.owned_by(ConnId(2)).is_some());
    // The resume acknowledged 1..=3.
    assert_eq!(s.owned_by(ConnId(2)).unwrap().log.len(), 2);
}

#[test]
fn a_resume_of_an_attached_session_takes_it_from_its_connection() {
    let reg = sessions(SessionConfig::default());
    let s = reg.open(ConnId(1));
    write(&s, 1, 2);
    let r = reg.resume(&reg.token(&s), 2, ConnId(9), None, "", Instant::now()).unwrap();
    assert_eq!(r.replaced, Some(ConnId(1)));
    assert!(r.replay.is_empty());
    // The old connection's end changes nothing: it no longer owns the session.
    assert!(!reg.disconnect(&s, ConnId(1), true, Instant::now()));
    assert!(s.owned_by(ConnId(9)).is_some());
}

#[test]
fn a_normal_close_ends_the_session_and_its_token_with_it() {
    let reg = sessions(SessionConfig::default());
    let s = reg.open(ConnId(1));
    let token = reg.token(&s);
    assert!(!reg.disconnect(&s, ConnId(1), false, Instant::now()));
    assert!(s.outbox().is_closed());
    assert!(reg.is_empty());
    assert_eq!(reg.resume(&token, 0, ConnId(2), None, "", Instant::now()).unwrap_err(), ResumeError::Gone);
}

#[test]
fn the_sweep_ends_sessions_past_their_window() {
    let window = Duration::from_secs(20);
    let reg = sessions(SessionConfig { reconnect_window: window, roomless_window: window, ..Default::default() });
    let (a, b) = (reg.open(ConnId(1)), reg.open(ConnId(2)));
    let t0 = Instant::now();
    reg.disconnect(&a, ConnId(1), true, t0);
    reg.disconnect(&b, ConnId(2), true, t0 + Duration::from_secs(10));
    assert_eq!(reg.sweep(t0 + Duration::from_secs(19)), 0);
    assert_eq!(reg.sweep(t0 + Duration::from_secs(20)), 1);
    assert_eq!(reg.len(), 1);
    assert_eq!(reg.resume(&reg.token(&a), 0, ConnId(3), None, "", Instant::now()).unwrap_err(), ResumeError::Gone);
    assert!(reg.resume(&reg.token(&b), 0, ConnId(3), None, "", Instant::now()).is_ok());
}

#[test]
fn a_parked_session_is_resumed_within_its_window() {
    let reg = sessions(SessionConfig { reconnect_window: Duration::from_millis(300), ..Default::default() });
    let s = reg.open(ConnId(1));
    let token = reg.token(&s);
    let lost = Instant::now();
    assert!(reg.disconnect(&s, ConnId(1), true, lost));
    let r = reg
        .resume(&token, 0, ConnId(2), None, "", lost + Duration::from_millis(299))
        .expect("resumes within the window");
    assert_eq!(r.session.id(), s.id());
    assert_eq!(reg.parked_count(), 0);
}

#[test]
fn a_session_past_its_window_is_gone_before_the_sweep_comes_by() {
    let reg = sessions(SessionConfig { reconnect_window: Duration::from_millis(300), ..Default::default() });
    let s = reg.open(ConnId(1));
    let token = reg.token(&s);
    let lost = Instant::now();
    assert!(reg.disconnect(&s, ConnId(1), true, lost));
    let r = reg.resume(&token, 0, ConnId(2), None, "", lost + Duration::from_millis(300));
    assert_eq!(r.map(|_| ()), Err(ResumeError::Gone));
    assert_eq!((reg.len(), reg.parked_count()), (0, 0), "ended, as the sweep would have ended it");
    assert_eq!(reg.sweep(lost + Duration::from_secs(1)), 0);
}

#[test]
fn frames_lost_while_parked_make_the_resume_a_resync() {
    let reg = sessions(SessionConfig { replay_max_messages: 2, ..Default::default() });
    let s = reg.open(ConnId(1));
    reg.disconnect(&s, ConnId(1), true, Instant::now());
    for i in 0..5u8 {
        s.outbox().push_frame(Bytes::from(vec![i]), Instant::now());
    }
    let r = reg.resume(&reg.token(&s), 0, ConnId(2), None, "", Instant::now()).unwrap();
    assert!(r.resync);
    let frames = s.outbox().drain().reliable;
    assert_eq!(frames.len(), 2, "the newest two waited");
    assert!(frames.iter().all(|f| matches!(f, OutItem::Frame(_))));
}

#[test]
fn past_the_parking_cap_full_of_players_a_lost_connection_ends_its_session() {
    let reg = sessions(SessionConfig { max_parked: 1, ..Default::default() });
    let (a, b) = (reg.open(ConnId(1)), reg.open(ConnId(2)));
    seat(&a, 1, Duration::from_secs(20));
    seat(&b, 2, Duration::from_secs(20));
    assert!(reg.disconnect(&a, ConnId(1), true, Instant::now()));
    assert!(!reg.disconnect(&b, ConnId(2), true, Instant::now()));
    assert_eq!(reg.parked_count(), 1);
    assert_eq!(reg.len(), 1);
}

#[test]
fn tokens_of_another_process_or_session_do_not_resume() {
    let reg = sessions(SessionConfig::default());
    let other = sessions(SessionConfig::default());
    let s = reg.open(ConnId(1));
    let foreign = other.token(&other.open(ConnId(1)));
    assert!(matches!(
        reg.resume(&foreign, 0, ConnId(2), None, "", Instant::now()),
        Err(ResumeError::Token(TokenError::BadSignature))
    ));
    // Same secret, same id, another nonce (a restarted process).
    let config = SessionConfig { secret: Some(b"shared".to_vec()), ..Default::default() };
    let (p1, p2) = (sessions(config.clone()), sessions(config));
    let old = p1.token(&p1.open(ConnId(1)));
    p2.open(ConnId(1));
    assert_eq!(p2.resume(&old, 0, ConnId(2), None, "", Instant::now()).unwrap_err(), ResumeError::Gone);
    drop(s);
}

#[test]
fn a_session_bound_to_a_user_resumes_only_for_that_user_and_counts_from_its_first_join() {
    let reg = sessions(SessionConfig::default()).with_max_per_user(2);
    let (a, b, c) = (reg.open(ConnId(1)), reg.open(ConnId(2)), reg.open(ConnId(3)));
    for (s, conn) in [(&a, 1), (&b, 2), (&c, 3)] {
        reg.bind_user(s, ConnId(conn), "ann");
    }
    assert_eq!(reg.user_sessions("ann"), 0, "bound, not counted: none of them joined a room yet");
    reg.count_user(&a, ConnId(1)).unwrap();
    reg.count_user(&a, ConnId(1)).unwrap();
    reg.count_user(&b, ConnId(2)).unwrap();
    assert_eq!(reg.count_user(&c, ConnId(3)), Err(TooManySessions(2)));
    let token = reg.token(&a);
    assert_eq!(reg.resume(&token, 0, ConnId(9), Some("bob"), "", Instant::now()).unwrap_err(), ResumeError::WrongUser);
    assert_eq!(reg.resume(&token, 0, ConnId(9), None, "", Instant::now()).unwrap_err(), ResumeError::WrongUser);
    assert!(reg.resume(&token, 0, ConnId(9), Some("ann"), "", Instant::now()).is_ok(), "at the cap, a resume is fine");
    reg.end(&b);
    reg.end(&c);
    assert_eq!(reg.user_sessions("ann"), 1, "only counted sessions give their count back");
}

#[test]
fn a_session_resumes_only_on_a_connection_speaking_its_protocol() {
    let reg = sessions(SessionConfig::default());
    let s = reg.open_speaking(ConnId(1), "arena.v2.msgpack", None);
    let token = reg.token(&s);
    let e = reg.resume(&token, 0, ConnId(2), None, "arena.v2.proto", Instant::now()).unwrap_err();
    assert_eq!(e, ResumeError::OtherProtocol("arena.v2.msgpack".into()));
    assert!(reg.resume(&token, 0, ConnId(2), None, "arena.v2.msgpack", Instant::now()).is_ok());
}

/// Seats `session` (owned by `conn`) in a room that keeps a lost client's
/// seat for `window`, as a join does.
fn seat(session: &Session, conn: u64, window: Duration) {
    let room: crate::protocol::RoomId = format!("room-{}", session.id()).into();
    let handle = Arc::new(crate::session::RoomHandle::new(room.clone(), "t".into(), 30, 16, 64, window));
    session.owned_by(ConnId(conn)).expect("owner").rooms.insert(room, (handle, ClientId(1)));
}

fn ip(s: &str) -> Option<std::net::IpAddr> {
    Some(s.parse().expect("an address"))
}

/// A player's session from `address`: opened by `conn`, seated, its token.
fn player(reg: &Sessions, conn: u64, address: &str) -> (Arc<Session>, String) {
    let s = reg.open_speaking(ConnId(conn), "", ip(address));
    seat(&s, conn, Duration::from_secs(20));
    let token = reg.token(&s);
    (s, token)
}

/// A session from `address` that never joined a room, connected and lost.
fn drop_roomless(reg: &Sessions, conn: u64, address: &str) -> (Arc<Session>, bool) {
    let s = reg.open_speaking(ConnId(conn), "", ip(address));
    let parked = reg.disconnect(&s, ConnId(conn), true, Instant::now());
    (s, parked)
}

#[test]
fn a_roomless_session_parks_only_for_the_roomless_window() {
    let config = SessionConfig { roomless_window: Duration::from_secs(5), ..Default::default() };
    let reg = sessions(config);
    let (quick, slow) = (reg.open(ConnId(1)), reg.open(ConnId(2)));
    let lost = Instant::now();
    assert!(reg.disconnect(&quick, ConnId(1), true, lost));
    assert!(reg.disconnect(&slow, ConnId(2), true, lost));
    let resumed = reg.resume(&reg.token(&quick), 0, ConnId(3), None, "", lost + Duration::from_millis(4_900));
    assert!(resumed.is_ok(), "within the roomless window");
    let late = reg.resume(&reg.token(&slow), 0, ConnId(4), None, "", lost + Duration::from_secs(5));
    assert_eq!(late.unwrap_err(), ResumeError::Gone, "past the roomless window, well within the reconnect window");
    assert_eq!(reg.parked_count(), 0);
}

#[test]
fn a_session_in_a_room_parks_for_the_rooms_window_not_the_roomless_one() {
    let reg = sessions(SessionConfig::default());
    let (s, token) = player(&reg, 1, "10.0.0.7");
    let lost = Instant::now();
    assert!(reg.disconnect(&s, ConnId(1), true, lost));
    assert_eq!(reg.sweep(lost + Duration::from_secs(6)), 0);
    assert!(reg.resume(&token, 0, ConnId(2), None, "", lost + Duration::from_secs(19)).is_ok());
}

#[test]
fn the_roomless_window_is_never_longer_than_the_reconnect_window_and_zero_parks_no_roomless_session() {
    let reg = sessions(SessionConfig { reconnect_window: Duration::from_secs(2), ..Default::default() });
    let s = reg.open(ConnId(1));
    let lost = Instant::now();
    assert!(reg.disconnect(&s, ConnId(1), true, lost));
    assert_eq!(reg.sweep(lost + Duration::from_secs(2)), 1);

    let reg = sessions(SessionConfig { roomless_window: Duration::ZERO, ..Default::default() });
    let (roomless, seated) = (reg.open(ConnId(1)), reg.open(ConnId(2)));
    seat(&seated, 2, Duration::from_secs(20));
    assert!(!reg.disconnect(&roomless, ConnId(1), true, Instant::now()));
    assert!(reg.disconnect(&seated, ConnId(2), true, Instant::now()));
}

#[test]
fn connect_and_drop_cycles_from_one_address_hold_at_most_its_cap_and_never_a_players_place() {
    let metrics = Arc::new(crate::metrics::Metrics::new());
    let config = SessionConfig { max_parked: 100, max_parked_per_address: 4, ..Default::default() };
    let reg = sessions(config).with_metrics(metrics.clone());
    let (p, token) = player(&reg, 1, "10.0.0.7");
    assert!(reg.disconnect(&p, ConnId(1), true, Instant::now()));
    let mut first = None;
    for conn in 2..1_000 {
        let (s, parked) = drop_roomless(&reg, conn, "10.0.0.7");
        assert!(parked, "the oldest roomless session gives way to the newest");
        first.get_or_insert(s);
    }
    assert_eq!(reg.parked_from("10.0.0.7".parse().unwrap()), 4);
    assert_eq!(reg.len(), 4, "evicted sessions are gone from the map too");
    let first = first.expect("one");
    assert!(!first.is_parked() && first.outbox().is_closed(), "the first roomless session was evicted and ended");
    assert_eq!(metrics.sessions_evicted_with("address"), 1_000 - 2 - 3);
    let r = reg
        .resume(&token, 0, ConnId(9_999), None, "", Instant::now())
        .expect("the player's session survived the flood");
    assert_eq!(r.rooms.len(), 1);
}

#[test]
fn a_player_at_its_address_cap_displaces_the_oldest_parked_session_of_that_address() {
    let config = SessionConfig { max_parked_per_address: 2, ..Default::default() };
    let reg = sessions(config);
    let (a, a_token) = player(&reg, 1, "10.0.0.7");
    let (b, b_token) = player(&reg, 2, "10.0.0.7");
    let (c, c_token) = player(&reg, 3, "10.0.0.7");
    let (elsewhere, elsewhere_token) = player(&reg, 4, "10.0.0.8");
    for (s, conn) in [(&elsewhere, 4), (&a, 1), (&b, 2), (&c, 3)] {
        assert!(reg.disconnect(s, ConnId(conn), true, Instant::now()));
    }
    let (_, roomless_parked) = drop_roomless(&reg, 5, "10.0.0.7");
    assert!(!roomless_parked, "a roomless session displaces no player");
    let now = Instant::now();
    assert_eq!(
        reg.resume(&a_token, 0, ConnId(10), None, "", now).unwrap_err(),
        ResumeError::Gone,
        "the oldest gave way"
    );
    assert!(reg.resume(&b_token, 0, ConnId(11), None, "", now).is_ok());
    assert!(reg.resume(&c_token, 0, ConnId(12), None, "", now).is_ok());
    assert!(reg.resume(&elsewhere_token, 0, ConnId(13), None, "", now).is_ok(), "another address is not touched");
}

#[test]
fn a_users_parked_sessions_are_capped_across_addresses() {
    let config = SessionConfig { max_parked_per_user: 2, ..Default::default() };
    let reg = sessions(config);
    let opened: Vec<(Arc<Session>, String)> = (1..=3u64)
        .map(|conn| {
            let (s, token) = player(&reg, conn, &format!("10.0.0.{conn}"));
            reg.bind_user(&s, ConnId(conn), "ann");
            (s, token)
        })
        .collect();
    for (conn, (s, _)) in (1..).zip(&opened) {
        assert!(reg.disconnect(s, ConnId(conn), true, Instant::now()));
    }
    let now = Instant::now();
    let resumed: Vec<bool> = opened
        .iter()
        .zip(20..)
        .map(|((_, t), conn)| reg.resume(t, 0, ConnId(conn), Some("ann"), "", now).is_ok())
        .collect();
    assert_eq!(resumed, [false, true, true], "the user's oldest parked session gave way");
}

#[test]
fn at_the_global_cap_a_roomless_session_gives_way_to_a_player_and_players_are_never_displaced() {
    let metrics = Arc::new(crate::metrics::Metrics::new());
    let config = SessionConfig { max_parked: 2, ..Default::default() };
    let reg = sessions(config).with_metrics(metrics.clone());
    let (roomless, parked) = drop_roomless(&reg, 1, "10.0.0.1");
    assert!(parked);
    let (a, a_token) = player(&reg, 2, "10.0.0.2");
    assert!(reg.disconnect(&a, ConnId(2), true, Instant::now()));
    let (b, b_token) = player(&reg, 3, "10.0.0.3");
    assert!(reg.disconnect(&b, ConnId(3), true, Instant::now()), "the roomless session gives way");
    assert!(!roomless.is_parked());
    assert_eq!(metrics.sessions_evicted_with("global"), 1);
    let (c, _) = player(&reg, 4, "10.0.0.4");
    assert!(!reg.disconnect(&c, ConnId(4), true, Instant::now()), "full of players: the newcomer is not parked");
    assert_eq!(metrics.session_park_refusals_with("global"), 1);
    let (_, parked) = drop_roomless(&reg, 5, "10.0.0.5");
    assert!(!parked);
    assert!(reg.resume(&a_token, 0, ConnId(10), None, "", Instant::now()).is_ok());
    assert!(reg.resume(&b_token, 0, ConnId(11), None, "", Instant::now()).is_ok());
}

#[test]
fn a_session_resumed_before_its_eviction_is_carried_out_stays() {
    // The decision and the ending are apart (one session lock at a time): a
    // session resumed, even parked again, in between is not ended by it.
    let config = SessionConfig { max_parked_per_address: 1, ..Default::default() };
    let reg = sessions(config);
    let (a, parked) = drop_roomless(&reg, 1, "10.0.0.7");
    assert!(parked);
    let ticket = a.state.lock().parked.expect("parked").ticket;
    reg.resume(&reg.token(&a), 0, ConnId(2), None, "", Instant::now()).expect("resumed");
    assert!(reg.disconnect(&a, ConnId(2), true, Instant::now()), "parked again, under another ticket");
    reg.evict(Eviction { session: a.id(), ticket, cap: Cap::Address });
    assert!(a.is_parked(), "a stale eviction leaves the new parking alone");
    assert_eq!(reg.parked_count(), 1);
}

#[test]
fn a_resume_supersedes_the_token_it_used_and_hands_out_a_fresh_one() {
    let reg = sessions(SessionConfig::default());
    let s = reg.open(ConnId(1));
    let welcome = reg.token(&s);
    assert_eq!(reg.token(&s), welcome, "Welcome's token stays current until the first resume");
    assert!(reg.disconnect(&s, ConnId(1), true, Instant::now()));
    let first = reg.resume(&welcome, 0, ConnId(2), None, "", Instant::now()).expect("Welcome's token resumes");
    // Within the same second: still a different token.
    assert_ne!(first.token, welcome);
    assert!(reg.token_names(&first.token, &s));
    assert!(!reg.token_names(&welcome, &s));
    assert!(reg.disconnect(&s, ConnId(2), true, Instant::now()));
    assert_eq!(reg.resume(&welcome, 0, ConnId(3), None, "", Instant::now()).unwrap_err(), ResumeError::Superseded);
    assert!(s.is_parked(), "a refused resume leaves the session parked");
    let second = reg.resume(&first.token, 0, ConnId(3), None, "", Instant::now()).expect("the newest token resumes");
    assert!(![welcome.as_str(), first.token.as_str()].contains(&second.token.as_str()));
    assert_eq!(reg.resume(&first.token, 0, ConnId(4), None, "", Instant::now()).unwrap_err(), ResumeError::Superseded);
    assert!(s.owned_by(ConnId(3)).is_some(), "a superseded token takes nothing over");
}

#[test]
fn a_reissued_token_supersedes_the_current_one() {
    let reg = sessions(SessionConfig::default());
    let s = reg.open(ConnId(1));
    let welcome = reg.token(&s);
    assert_eq!(reg.reissue(&s, ConnId(2)), None, "only the owner gets a new token");
    let fresh = reg.reissue(&s, ConnId(1)).expect("owner");
    assert_ne!(fresh, welcome);
    assert!(reg.token_names(&fresh, &s) && !reg.token_names(&welcome, &s));
    assert_eq!(reg.resume(&welcome, 0, ConnId(2), None, "", Instant::now()).unwrap_err(), ResumeError::Superseded);
    assert!(reg.resume(&fresh, 0, ConnId(2), None, "", Instant::now()).is_ok());
}
