//! The session registry by hand: open, park, resume, replace, expire — no
//! sockets, no rooms.

use super::*;
use crate::connection::{OutItem, OutboxLimits};
use bytes::Bytes;
use std::time::{Duration, Instant};

fn sessions(config: SessionConfig) -> Sessions {
    Sessions::new(config, OutboxLimits::default())
}

/// Writes `n` reliable frames the way a connection does: numbered, logged.
fn write(session: &Session, conn: u64, n: u64) -> Vec<Bytes> {
    let mut st = session.owned_by(conn).expect("owner");
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
    let s = reg.open(1);
    let token = reg.token(&s);
    let sent = write(&s, 1, 5);
    assert!(reg.disconnect(&s, 1, true, Instant::now()));
    assert!(s.is_parked());
    assert_eq!(reg.parked_count(), 1);
    let r = reg.resume(&token, 3, 2, None, "", Instant::now()).unwrap();
    assert_eq!(r.replay, sent[3..].to_vec());
    assert!(!r.resync);
    assert_eq!(r.replaced, None, "it was parked");
    assert_eq!(reg.parked_count(), 0);
    assert!(s.owned_by(1).is_none() && s.owned_by(2).is_some());
    // The resume acknowledged 1..=3.
    assert_eq!(s.owned_by(2).unwrap().log.len(), 2);
}

#[test]
fn a_resume_of_an_attached_session_takes_it_from_its_connection() {
    let reg = sessions(SessionConfig::default());
    let s = reg.open(1);
    write(&s, 1, 2);
    let r = reg.resume(&reg.token(&s), 2, 9, None, "", Instant::now()).unwrap();
    assert_eq!(r.replaced, Some(1));
    assert!(r.replay.is_empty());
    // The old connection's end changes nothing: it no longer owns the session.
    assert!(!reg.disconnect(&s, 1, true, Instant::now()));
    assert!(s.owned_by(9).is_some());
}

#[test]
fn a_normal_close_ends_the_session_and_its_token_with_it() {
    let reg = sessions(SessionConfig::default());
    let s = reg.open(1);
    let token = reg.token(&s);
    assert!(!reg.disconnect(&s, 1, false, Instant::now()));
    assert!(s.outbox().is_closed());
    assert!(reg.is_empty());
    assert_eq!(reg.resume(&token, 0, 2, None, "", Instant::now()).unwrap_err(), ResumeError::Gone);
}

#[test]
fn the_sweep_ends_sessions_past_their_window() {
    let reg = sessions(SessionConfig { reconnect_window: Duration::from_secs(20), ..Default::default() });
    let (a, b) = (reg.open(1), reg.open(2));
    let t0 = Instant::now();
    reg.disconnect(&a, 1, true, t0);
    reg.disconnect(&b, 2, true, t0 + Duration::from_secs(10));
    assert_eq!(reg.sweep(t0 + Duration::from_secs(19)), 0);
    assert_eq!(reg.sweep(t0 + Duration::from_secs(20)), 1);
    assert_eq!(reg.len(), 1);
    assert_eq!(reg.resume(&reg.token(&a), 0, 3, None, "", Instant::now()).unwrap_err(), ResumeError::Gone);
    assert!(reg.resume(&reg.token(&b), 0, 3, None, "", Instant::now()).is_ok());
}

#[test]
fn frames_lost_while_parked_make_the_resume_a_resync() {
    let reg = sessions(SessionConfig { replay_max_messages: 2, ..Default::default() });
    let s = reg.open(1);
    reg.disconnect(&s, 1, true, Instant::now());
    for i in 0..5u8 {
        s.outbox().push_frame(Bytes::from(vec![i]), Instant::now());
    }
    let r = reg.resume(&reg.token(&s), 0, 2, None, "", Instant::now()).unwrap();
    assert!(r.resync);
    let frames = s.outbox().drain().reliable;
    assert_eq!(frames.len(), 2, "the newest two waited");
    assert!(frames.iter().all(|f| matches!(f, OutItem::Frame(_))));
}

#[test]
fn past_the_parking_cap_a_lost_connection_ends_its_session() {
    let reg = sessions(SessionConfig { max_parked: 1, ..Default::default() });
    let (a, b) = (reg.open(1), reg.open(2));
    assert!(reg.disconnect(&a, 1, true, Instant::now()));
    assert!(!reg.disconnect(&b, 2, true, Instant::now()));
    assert_eq!(reg.parked_count(), 1);
    assert_eq!(reg.len(), 1);
}

#[test]
fn tokens_of_another_process_or_session_do_not_resume() {
    let reg = sessions(SessionConfig::default());
    let other = sessions(SessionConfig::default());
    let s = reg.open(1);
    let foreign = other.token(&other.open(1));
    assert!(matches!(
        reg.resume(&foreign, 0, 2, None, "", Instant::now()),
        Err(ResumeError::Token(TokenError::BadSignature))
    ));
    // Same secret, same id, another nonce (a restarted process).
    let config = SessionConfig { secret: Some(b"shared".to_vec()), ..Default::default() };
    let (p1, p2) = (sessions(config.clone()), sessions(config));
    let old = p1.token(&p1.open(1));
    p2.open(1);
    assert_eq!(p2.resume(&old, 0, 2, None, "", Instant::now()).unwrap_err(), ResumeError::Gone);
    drop(s);
}

#[test]
fn a_session_bound_to_a_user_resumes_only_for_that_user_and_counts_from_its_first_join() {
    let reg = sessions(SessionConfig::default()).with_max_per_user(2);
    let (a, b, c) = (reg.open(1), reg.open(2), reg.open(3));
    for (s, conn) in [(&a, 1), (&b, 2), (&c, 3)] {
        reg.bind_user(s, conn, "ann");
    }
    assert_eq!(reg.user_sessions("ann"), 0, "bound, not counted: none of them joined a room yet");
    reg.count_user(&a, 1).unwrap();
    reg.count_user(&a, 1).unwrap();
    reg.count_user(&b, 2).unwrap();
    assert_eq!(reg.count_user(&c, 3), Err(TooManySessions(2)));
    let token = reg.token(&a);
    assert_eq!(reg.resume(&token, 0, 9, Some("bob"), "", Instant::now()).unwrap_err(), ResumeError::WrongUser);
    assert_eq!(reg.resume(&token, 0, 9, None, "", Instant::now()).unwrap_err(), ResumeError::WrongUser);
    assert!(reg.resume(&token, 0, 9, Some("ann"), "", Instant::now()).is_ok(), "at the cap, a resume is fine");
    reg.end(&b);
    reg.end(&c);
    assert_eq!(reg.user_sessions("ann"), 1, "only counted sessions give their count back");
}

#[test]
fn a_session_resumes_only_on_a_connection_speaking_its_protocol() {
    let reg = sessions(SessionConfig::default());
    let s = reg.open_speaking(1, "arena.v2.msgpack");
    let token = reg.token(&s);
    let e = reg.resume(&token, 0, 2, None, "arena.v2.proto", Instant::now()).unwrap_err();
    assert_eq!(e, ResumeError::OtherProtocol("arena.v2.msgpack".into()));
    assert!(reg.resume(&token, 0, 2, None, "arena.v2.msgpack", Instant::now()).is_ok());
}
