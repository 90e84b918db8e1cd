//! Taking over a lost node's sessions, by hand: a `StoredSession` as the
//! failover store returns it, adopted parked, and resumed with the token the
//! lost node handed out — no sockets, no store.

use super::*;
use crate::backend::{session_key, StoredSession};
#[allow(unused_imports)]
use crate::protocol::{ConnId, SessionId};
use crate::session::OutboxLimits;
use bytes::Bytes;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The key every node of the cluster signs resume tokens with.
const SECRET: &[u8] = b"the cluster's resume-token key..";
/// The token tag of the node that was lost.
const LOST: u64 = 0xa;
/// The token tag of the node that took its rooms over.
const HERE: u64 = 0xb;
/// The token tag of a node that takes a room over from `HERE` in turn.
const THIRD: u64 = 0xc;
const NONCE: u64 = 0xfeed_beef;
const PROTOCOL: &str = "arena.v2.proto";
const WINDOW: Duration = Duration::from_secs(20);

/// The registry of the node that claims the lost node's rooms.
fn here() -> Sessions {
    node(HERE)
}

/// The registry of the cluster node with token tag `tag`.
fn node(tag: u64) -> Sessions {
    let config = SessionConfig { secret: Some(SECRET.to_vec()), node: tag, ..Default::default() };
    Sessions::new(config, OutboxLimits::default())
}

fn frame(seq: u64) -> Bytes {
    Bytes::from(format!("m{seq}"))
}

/// Session number `id` of the lost node as the store kept it: its record
/// at token `generation`, and the frames `seqs` of its stream.
fn stored(id: u64, generation: u64, user: Option<&str>, seqs: &[u64]) -> StoredSession {
    let record = SessionRecord {
        name: format!("{id:x}-{:08x}", NONCE as u32),
        nonce: NONCE,
        generation,
        user: user.map(str::to_string),
        protocol: PROTOCOL.into(),
        aliases: Vec::new(),
    };
    StoredSession {
        key: session_key(LOST, id),
        blob: record.encode(),
        stream: session_key(LOST, id),
        frames: seqs.iter().map(|s| (*s, frame(*s))).collect(),
    }
}

/// The token the lost node handed out for its session `id` at `generation`.
fn lost_token(id: u64, nonce: u64, generation: u64) -> String {
    let expires = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 3600;
    TokenSigner::new(SECRET).issue(id, nonce, generation, expires, LOST)
}

fn adopt(reg: &Sessions, s: &StoredSession) -> Arc<Session> {
    reg.adopt(s, WINDOW, "ws://here/ws", Instant::now()).expect("adopted")
}

fn resume(reg: &Sessions, token: &str, last_seq: u64, conn: u64) -> Result<Resumption, ResumeError> {
    reg.resume(token, last_seq, ConnId(conn), None, PROTOCOL, Instant::now())
}

#[test]
fn an_adopted_session_resumes_with_its_old_token_and_gets_what_the_client_missed() {
    let reg = here();
    let s = adopt(&reg, &stored(7, 2, None, &[1, 2, 3]));
    assert!(s.is_parked());
    assert_eq!((reg.len(), reg.parked_count()), (1, 1));
    assert_eq!(s.name(), format!("7-{:08x}", NONCE as u32), "the name the client knows");

    let r = resume(&reg, &lost_token(7, NONCE, 2), 1, 1).expect("the lost node's token resumes here");
    assert_eq!(r.session.id(), s.id());
    assert_eq!((r.replay, r.resync, r.replaced), (vec![frame(2), frame(3)], false, None));
    assert_eq!(reg.parked_count(), 0);
    assert!(reg.token_names(&r.token, &s), "from now on the client holds a token of this node");
    assert_eq!(s.owned_by(ConnId(1)).expect("owner").log.next_seq(), 4, "numbering goes on after the stream");
}

#[test]
fn a_resume_past_the_stored_frames_skips_ahead_instead_of_resyncing() {
    // The lost node wrote frames 4 and 5 to the client that never reached
    // the store: the client has them, so nothing is missing.
    let reg = here();
    let s = adopt(&reg, &stored(7, 0, None, &[1, 2, 3]));
    let r = resume(&reg, &lost_token(7, NONCE, 0), 5, 1).unwrap();
    assert_eq!((r.replay.len(), r.resync), (0, false));
    assert_eq!(s.owned_by(ConnId(1)).unwrap().log.next_seq(), 6, "the next frame is 6");

    // Once resumed here, the log is this node's own: a client claiming
    // more than was sent resyncs, as anywhere.
    assert!(reg.disconnect(&s, ConnId(1), true, Instant::now()));
    let r = resume(&reg, &r.token, 9, 2).unwrap();
    assert!(r.resync);

    // A session whose stream kept nothing goes on after the client's seq too.
    let t = adopt(&reg, &stored(8, 0, None, &[]));
    let r = resume(&reg, &lost_token(8, NONCE, 0), 12, 3).unwrap();
    assert_eq!((r.replay.len(), r.resync), (0, false));
    assert_eq!(t.owned_by(ConnId(3)).unwrap().log.next_seq(), 13);
}

#[test]
fn only_the_newest_token_of_an_adopted_session_resumes_it() {
    let reg = here();
    let s = adopt(&reg, &stored(7, 2, None, &[1]));
    let old = resume(&reg, &lost_token(7, NONCE, 1), 1, 1);
    assert_eq!(old.map(|_| ()), Err(ResumeError::Superseded), "generation 1 was superseded on the lost node");
    assert!(s.is_parked(), "a refused resume leaves it parked");
    let other = resume(&reg, &lost_token(7, NONCE ^ 1, 2), 1, 1);
    assert_eq!(other.map(|_| ()), Err(ResumeError::Gone), "another nonce: another session of that number");
    let r = resume(&reg, &lost_token(7, NONCE, 2), 1, 1).expect("the newest resumes");
    assert_eq!(
        resume(&reg, &lost_token(7, NONCE, 2), 1, 2).map(|_| ()),
        Err(ResumeError::Superseded),
        "the token just used is spent"
    );
    assert!(s.owned_by(ConnId(1)).is_some(), "and took nothing over");
    drop(r);
}

#[test]
fn an_adopted_session_keeps_its_user_and_protocol() {
    let reg = here();
    adopt(&reg, &stored(7, 0, Some("ann"), &[]));
    let token = lost_token(7, NONCE, 0);
    let now = Instant::now();
    assert_eq!(reg.resume(&token, 0, ConnId(1), None, PROTOCOL, now).map(|_| ()), Err(ResumeError::WrongUser));
    assert_eq!(
        reg.resume(&token, 0, ConnId(1), Some("ann"), "arena.v2.msgpack", now).map(|_| ()),
        Err(ResumeError::OtherProtocol(PROTOCOL.into()))
    );
    assert!(reg.resume(&token, 0, ConnId(1), Some("ann"), PROTOCOL, now).is_ok());
}

#[test]
fn a_session_adopted_twice_is_one_session() {
    // Seated in two rooms of the lost node: each claimed room adopts it.
    let reg = here();
    let first = adopt(&reg, &stored(7, 0, None, &[1, 2]));
    let second = adopt(&reg, &stored(7, 0, None, &[1, 2, 3]));
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!((reg.len(), reg.parked_count()), (1, 1));
    let other = adopt(&reg, &stored(8, 0, None, &[]));
    assert!(!Arc::ptr_eq(&first, &other), "another number, another session");
    assert_eq!(reg.len(), 2);
}

#[test]
fn a_token_of_another_node_whose_session_is_not_here_is_sent_elsewhere() {
    let reg = here();
    assert_eq!(
        resume(&reg, &lost_token(7, NONCE, 0), 0, 1).map(|_| ()),
        Err(ResumeError::Elsewhere { node: LOST, id: 7 })
    );
    adopt(&reg, &stored(7, 0, None, &[]));
    assert_eq!(
        resume(&reg, &lost_token(8, NONCE, 0), 0, 1).map(|_| ()),
        Err(ResumeError::Elsewhere { node: LOST, id: 8 }),
        "only the sessions taken over are here"
    );
    assert!(resume(&reg, &lost_token(7, NONCE, 0), 0, 1).is_ok());
}

#[test]
fn a_record_this_version_cannot_read_is_not_adopted() {
    let reg = here();
    let bad = StoredSession { blob: Bytes::from_static(b"\xff not a record"), ..stored(7, 0, None, &[]) };
    assert!(reg.adopt(&bad, WINDOW, "ws://here/ws", Instant::now()).is_none());
    let bad_key = StoredSession { key: "not a key".into(), ..stored(7, 0, None, &[]) };
    assert!(reg.adopt(&bad_key, WINDOW, "ws://here/ws", Instant::now()).is_none());
    assert!(reg.is_empty());
}

/// `session` as the node `tag` that holds it keeps it in the store (its
/// record under that node's key, its stream where it always was), with the
/// frames `seqs`: what the next node to claim its room loads.
fn as_stored_by(tag: u64, session: &Session, seqs: &[u64]) -> StoredSession {
    let st = session.state.lock();
    let record = Sessions::record_of(session, &st);
    let stream = st.durable.as_ref().map_or_else(|| session_key(LOST, 7), |d| d.stream.clone());
    StoredSession {
        key: session_key(tag, session.id().0),
        blob: record.encode(),
        stream,
        frames: seqs.iter().map(|s| (*s, frame(*s))).collect(),
    }
}

#[test]
fn a_session_taken_over_twice_before_its_client_came_back_resumes_with_its_first_token() {
    // Its room went from the lost node to this one, then on to a third
    // (this one drained too) before the client resumed anywhere: the
    // client still holds the token the lost node handed out. Before, the
    // third node knew the session only by this node's key, and the store
    // sent that token to this node, long gone: the client never got back.
    let b = here();
    let at_b = adopt(&b, &stored(7, 2, None, &[1, 2, 3]));
    let c = node(THIRD);
    let at_c = c.adopt(&as_stored_by(HERE, &at_b, &[1, 2, 3]), WINDOW, "ws://c/ws", Instant::now()).expect("adopted");

    let r = resume(&c, &lost_token(7, NONCE, 2), 1, 1).expect("the first node's token resumes at the third");
    assert_eq!(r.session.id(), at_c.id());
    assert_eq!(r.session.name(), format!("7-{:08x}", NONCE as u32), "the same session");
    assert_eq!((r.replay, r.resync), (vec![frame(2), frame(3)], false));
}

#[test]
fn a_session_taken_over_again_is_recorded_with_every_key_its_tokens_may_name() {
    let b = here();
    let at_b = adopt(&b, &stored(7, 0, None, &[]));
    let c = node(THIRD);
    let at_c = c.adopt(&as_stored_by(HERE, &at_b, &[]), WINDOW, "ws://c/ws", Instant::now()).expect("adopted");
    let record = Sessions::record_of(&at_c, &at_c.state.lock());
    assert_eq!(
        record.aliases,
        [session_key(HERE, at_b.id().0), session_key(LOST, 7)],
        "the node before, then the one before it: a fourth node answers both tokens"
    );
    // A token of the node in between (its client resumed there once)
    // finds it as well.
    let token_of_b = TokenSigner::new(SECRET).issue(at_b.id().0, NONCE, 0, u64::MAX / 2, HERE);
    assert!(resume(&c, &token_of_b, 0, 1).is_ok());
}

#[test]
fn an_ended_session_taken_over_twice_answers_none_of_its_keys() {
    let b = here();
    let at_b = adopt(&b, &stored(7, 0, None, &[]));
    let c = node(THIRD);
    let at_c = c.adopt(&as_stored_by(HERE, &at_b, &[]), WINDOW, "ws://c/ws", Instant::now()).expect("adopted");
    c.end(&at_c);
    assert_eq!(
        resume(&c, &lost_token(7, NONCE, 0), 0, 1).map(|_| ()),
        Err(ResumeError::Elsewhere { node: LOST, id: 7 }),
        "not here any more: the store says where"
    );
    assert!(c.is_empty());
}

#[test]
fn a_session_that_moved_many_times_keeps_only_its_newest_keys() {
    let mut at = adopt(&here(), &stored(7, 0, None, &[]));
    let mut holder = HERE;
    for tag in 0x100..0x120 {
        let next = node(tag);
        at = next.adopt(&as_stored_by(holder, &at, &[]), WINDOW, "ws://next/ws", Instant::now()).expect("adopted");
        holder = tag;
    }
    let record = Sessions::record_of(&at, &at.state.lock());
    assert_eq!(record.aliases.len(), 16, "bounded");
    assert_eq!(record.aliases[0], session_key(0x11e, 1), "newest first: the node it came from last");
}
