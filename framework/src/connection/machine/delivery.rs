//! Delivery on a connection: draining what rooms wrote to the session's
//! outbox — room frames numbered into the session's reliable stream, the
//! events rooms and the server send (joined, left, dropped inputs, the
//! shutdown notice, closes), then the latest states.

use super::{Actions, GameConnection, ERROR_ROOM_BUSY};
use crate::protocol::envelope::{server_msg::Kind as Out, Joined, Left, Shutdown};
use crate::protocol::stamp_seq;
use crate::session::{ConnEvent, InputError, OutItem, SessionState};

impl GameConnection {
    /// Writes a room's shared frame with this session's seq appended.
    pub(super) fn write_room_frame(&self, st: &mut SessionState, out: &mut Actions, frame: &[u8]) {
        let seq = st.log.next_seq();
        match stamp_seq(self.token.codec, frame, seq) {
            Ok(f) => {
                st.log.push(seq, f.clone());
                self.shared.sessions.durable_append(st, seq, &f);
                out.send(f);
            }
            Err(e) => tracing::error!(error = %e, "room frame cannot take a seq"),
        }
    }

    pub(super) fn on_event(&mut self, st: &mut SessionState, ev: ConnEvent, out: &mut Actions) {
        match ev {
            ConnEvent::Joined { request, room, client } => {
                let Some(h) = st.pending.remove(&request) else { return };
                let joined = Joined {
                    request,
                    room: room.to_string(),
                    room_type: h.room_type.to_string(),
                    tick_hz: h.tick_hz,
                    client: client.0,
                };
                tracing::debug!(room = %room, room_type = %h.room_type, client = client.0, "joined room");
                st.rooms.insert(room, (h, client));
                // Seated: from now on the session outlives this node (on a
                // cluster node with a failover store).
                self.shared.sessions.make_durable(&self.session, st);
                self.send_reliable(st, out, Out::Joined(joined));
            }
            ConnEvent::JoinFailed { request, code, reason } => {
                st.pending.remove(&request);
                self.join_error(st, out, request, code, reason);
            }
            ConnEvent::Left { room, reason, detail } => {
                tracing::debug!(room = %room, reason = ?reason, detail = %detail, "left room");
                st.rooms.remove(&room);
                let left = Left { room: room.to_string(), reason: reason as i32, detail };
                self.send_reliable(st, out, Out::Left(left));
            }
            ConnEvent::InputDropped { room, seq } => {
                let reason = InputError::Busy.to_string();
                self.input_error(out, ERROR_ROOM_BUSY, reason, &room, seq);
            }
            ConnEvent::Shutdown { reconnect_after_ms, url } => self.notice_shutdown(reconnect_after_ms, url, out),
            ConnEvent::Close { code, reason } => {
                self.session.outbox().take_killed(); // the close action counts this close
                out.close(code, &reason);
            }
        }
    }

    /// Writes the `Shutdown` notice (once) and reports it to the server.
    pub(super) fn notice_shutdown(&mut self, reconnect_after_ms: u32, url: String, out: &mut Actions) {
        if std::mem::replace(&mut self.noticed, true) {
            return;
        }
        self.send(out, Out::Shutdown(Shutdown { reconnect_after_ms, url }));
        self.shared.live.mark_noticed(self.conn);
    }

    /// Rooms wrote to the session's outbox: drain it.
    pub fn handle_wake(&mut self, out: &mut Actions) {
        self.placed(out);
        self.located(out);
        let session = self.session.clone();
        let mut buf = std::mem::take(&mut self.drain_buf);
        // Every tick's wake-up comes here: when only states wait, they are
        // taken under the outbox's lock alone.
        let states_only = self.attached.is_some_and(|g| session.outbox().drain_states_into(g, &mut buf));
        if !states_only {
            // Drained, numbered and logged under the session lock, so a
            // resume on another connection sees every frame this one took.
            if let Some(mut st) = session.owned_by(self.conn) {
                session.outbox().drain_into(&mut buf);
                for item in buf.reliable.drain(..) {
                    match item {
                        OutItem::Frame(f) => self.write_room_frame(&mut st, out, &f),
                        OutItem::Event(ev) => self.on_event(&mut st, ev, out),
                    }
                }
            }
        }
        for (_, f) in buf.states.drain(..) {
            out.send(f);
        }
        self.drain_buf = buf;
    }
}
