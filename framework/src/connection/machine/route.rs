//! Routing a decoded message: what each kind of envelope does on this
//! connection (auth, resume, the joins, leave, input, ack, ping, channels),
//! and the rate policy applied to what is over the limits.

use super::{follows_redirects, unix_millis, Actions, GameConnection};
use super::{ERROR_FORBIDDEN, ERROR_NOT_IN_ROOM, ERROR_RATE_LIMITED, ERROR_ROOM_BUSY};
use crate::connection::{Creator, Placement};
use crate::limits::{RatePolicy, Verdict};
use crate::protocol::envelope::{
    client_msg::Kind as In, server_msg::Kind as Out, JoinErrorCode, LeaveReason as WireLeave, Left, Pong,
};
use crate::protocol::CloseCode;
use crate::session::{InputError, LeaveReason, RawInput};

impl GameConnection {
    pub(super) fn on_envelope(&mut self, kind: In, out: &mut Actions) {
        if let In::Auth(a) = kind {
            return self.on_auth(&a.token, out);
        }
        if !self.auth.may_process() && !matches!(kind, In::Hello(_)) {
            return out.close(CloseCode::Unauthorized, "authenticate first: the first message must be Auth");
        }
        if let In::Resume(r) = kind {
            return self.resume(r, out);
        }
        // Pings and acks leave the fresh session untouched; a join, leave or
        // input makes it this connection's, and a resume then too late.
        if matches!(
            kind,
            In::Join(_)
                | In::JoinOrCreate(_)
                | In::Create(_)
                | In::Leave(_)
                | In::Input(_)
                | In::Subscribe(_)
                | In::Publish(_)
        ) {
            self.settled = true;
        }
        // A session counts against its user's cap from its first join (a
        // connection that resumes another session never does).
        if matches!(kind, In::Join(_) | In::JoinOrCreate(_) | In::Create(_)) {
            if let Err(e) = self.shared.sessions.count_user(&self.session, self.conn) {
                return out.close(CloseCode::Forbidden, &e.to_string());
            }
        }
        // Borrowed, not copied: this runs for every input.
        let user = self.auth.user();
        let session = self.session.clone();
        // Input is the hot path: route it without holding the session.
        if let In::Input(i) = kind {
            let target = session.owned_by(self.conn).map(|st| st.rooms.get(i.room.as_str()).cloned());
            let Some(target) = target else { return }; // replaced: not ours to act on
            let Some((h, client)) = target else {
                let reason = format!("not in room {:?}", i.room);
                return self.input_error(out, ERROR_NOT_IN_ROOM, reason, &i.room, i.seq);
            };
            let Some(port) = h.port() else { return };
            let raw = RawInput {
                client,
                seq: i.seq,
                version: self.token.version,
                codec: self.token.codec,
                payload: &i.payload,
                user,
            };
            return match port.input(raw) {
                Ok(()) | Err(InputError::Gone) => {}
                Err(e @ InputError::Decode(_)) => {
                    tracing::debug!(room = %i.room, seq = i.seq, error = %e, "input refused");
                    out.close(CloseCode::InvalidPayload, &e.to_string())
                }
                Err(e @ InputError::Busy) => self.input_error(out, ERROR_ROOM_BUSY, e.to_string(), &i.room, i.seq),
                Err(e @ InputError::Forbidden(_)) => {
                    self.input_error(out, ERROR_FORBIDDEN, e.to_string(), &i.room, i.seq)
                }
            };
        }
        let Some(mut guard) = session.owned_by(self.conn) else { return };
        let st = &mut *guard;
        match kind {
            In::Hello(h) => self.follows_redirects = follows_redirects(&h.client),
            In::Resume(_) | In::Input(_) | In::Auth(_) => {}
            In::Ack(a) => {
                st.log.ack(a.seq);
                self.shared.sessions.durable_ack(st, a.seq);
            }
            // An ack of a room the session is not in (left meanwhile) is
            // stale, not an error.
            In::StateAck(a) => {
                if let Some((room, _)) = st.rooms.get_key_value(a.room.as_str()) {
                    session.outbox().ack_state(room, a.tick, |r| st.rooms.contains_key(r));
                }
            }
            In::Join(j) => {
                if !self.may_join(st, out, j.request, Some(&j.room)) {
                    return;
                }
                let mut r = self.shared.matchmaker.join(&j.room, user, &j.options);
                // A join sent here by a redirect whose held seat is gone by
                // now (the room filled, locked or closed meanwhile) is placed
                // here instead, in another room of its type or a new one: a
                // redirected join-or-create never ends in that race's refusal.
                if let (Err(e), Some((room_type, _))) = (&r, j.reservation.rsplit_once(':')) {
                    if matches!(
                        e.code,
                        JoinErrorCode::RoomFull | JoinErrorCode::RoomLocked | JoinErrorCode::RoomNotFound
                    ) {
                        let here = Creator { movable: false, ..self.creator(st) };
                        let mine = |id: &str| st.rooms.contains_key(id);
                        r = self.shared.matchmaker.join_or_create(room_type, user, &j.options, &here, &mine);
                    }
                }
                if let (Ok(Placement::Here(h)), false) = (&r, j.reservation.is_empty()) {
                    self.shared.matchmaker.seat_used(&h.id, &j.reservation);
                }
                self.handle_reserved(st, out, j.request, r, j.options);
            }
            In::JoinOrCreate(j) => {
                if self.may_join(st, out, j.request, None) {
                    let mine = |id: &str| st.rooms.contains_key(id) || st.pending.values().any(|h| &*h.id == id);
                    let mm = &self.shared.matchmaker;
                    let r = mm.join_or_create(&j.room_type, user, &j.options, &self.creator(st), &mine);
                    self.handle_reserved(st, out, j.request, r, j.options);
                }
            }
            In::Create(c) => {
                if self.may_join(st, out, c.request, None) {
                    let r = self.shared.matchmaker.create(&c.room_type, user, &c.options, &self.creator(st));
                    self.handle_reserved(st, out, c.request, r, c.options);
                }
            }
            In::Leave(l) => {
                if let Some((h, _)) = st.rooms.remove(l.room.as_str()) {
                    if let Some(p) = h.port() {
                        p.leave(session.id(), LeaveReason::Left);
                    }
                    tracing::debug!(room = %l.room, "left room");
                    let left = Left { room: l.room, reason: WireLeave::Requested as i32, detail: String::new() };
                    self.send_reliable(st, out, Out::Left(left));
                } else {
                    self.error(out, ERROR_NOT_IN_ROOM, format!("not in room {:?}", l.room));
                }
            }
            In::Ping(p) => self.send(out, Out::Pong(Pong { client_time: p.client_time, server_time: unix_millis() })),
            In::Subscribe(s) => self.subscribe(st, out, s),
            In::Unsubscribe(u) => self.unsubscribe(&u.channel),
            In::Publish(p) => self.publish(st, out, p),
        }
    }

    /// Applies the rate policy to a frame or message over the limit; true if
    /// it is within the limits.
    pub(super) fn within_rate(&mut self, verdict: Verdict, out: &mut Actions) -> bool {
        let Verdict::Limited { notify } = verdict else { return true };
        self.shared.metrics.rate_limited.inc();
        match self.shared.rate.policy {
            RatePolicy::Close => out.close(CloseCode::Policy, "rate limit exceeded"),
            RatePolicy::Drop if notify => {
                self.error(out, ERROR_RATE_LIMITED, "rate limit exceeded: messages are being dropped")
            }
            RatePolicy::Drop => {}
        }
        false
    }
}
