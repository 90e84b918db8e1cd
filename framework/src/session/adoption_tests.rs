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
const NONCE: u64 = 0xfeed_beef;
const PROTOCOL: &str = "arena.v2.proto";
const WINDOW: Duration = Duration::from_secs(20);

/// The registry of the node that claims the lost node's rooms.
fn here() -> Sessions {
    let config = SessionConfig { secret: Some(SECRET.to_vec()), node: HERE, ..Default::default() };
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
