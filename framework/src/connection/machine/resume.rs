//! `Resume` on a connection: taking a session over from a lost (or still
//! open) connection and replaying what its client missed.

use super::Actions;
use super::{unix_millis, GameConnection, ERROR_RESUME_UNAVAILABLE};
use crate::connection::SessionPlace;
use crate::protocol::envelope::{server_msg::Kind as Out, Joined, Redirect, Resume, Resumed};
use crate::protocol::ClientId;
use crate::protocol::CloseCode;
use crate::protocol::RoomId;
use crate::session::ResumeError;
use crate::session::RoomHandle;
use std::time::Instant;

impl GameConnection {
    /// `Resume`: takes over the session of the token, replays what the
    /// client missed, and drops the fresh session this connection opened.
    pub(super) fn resume(&mut self, r: Resume, out: &mut Actions) {
        let metrics = &self.shared.metrics;
        if self.shared.sessions.token_names(&r.token, &self.session) {
            // The session this connection holds already (a client that
            // retried its resume, or resent its current token): nothing to
            // take over and nothing missed. Before this check it was
            // "taken over" from itself and closed with 4009.
            metrics.resume("current");
            return self.resumed_in_place(out);
        }
        if self.settled {
            metrics.resume("refused");
            return self.error(out, ERROR_RESUME_UNAVAILABLE, ResumeError::TooLate.to_string());
        }
        let res = match self.shared.sessions.resume(
            &r.token,
            r.last_seq,
            self.conn,
            self.auth.user(),
            &self.token.to_string(),
            Instant::now(),
        ) {
            Ok(res) => res,
            Err(ResumeError::Elsewhere { node, id }) => {
                // A token of another node of the cluster: find where the
                // session is now (its node, or the node that took it over
                // when its node was lost), then send the client there.
                if self.locating.is_none() {
                    if let Some(place) = self.shared.matchmaker.locate_session(node, id) {
                        let (done, waker) = (self.located.clone(), self.waker.clone());
                        self.locating = Some(r);
                        out.spawn(Box::pin(async move {
                            *done.lock() = Some(place.await);
                            if let Some(wake) = waker {
                                wake.ring();
                            }
                        }));
                        return;
                    }
                }
                metrics.resume("elsewhere");
                let place =
                    self.shared.matchmaker.session_node(node).map_or(SessionPlace::Unknown, SessionPlace::There);
                return self.answer_elsewhere(place, out);
            }
            Err(e) => {
                metrics.resume(if matches!(e, ResumeError::Gone) { "expired" } else { "refused" });
                return self.error(out, ERROR_RESUME_UNAVAILABLE, e.to_string());
            }
        };
        self.settled = true;
        metrics.resume(if res.resync { "resync" } else { "replayed" });
        let fresh = std::mem::replace(&mut self.session, res.session.clone());
        // Not attached to the resumed session's outbox until `attach` below.
        self.attached = None;
        self.shared.sessions.end(&fresh);
        // From here on this connection's events carry the resumed session;
        // the fresh one it opened with is named once, to link the two.
        self.span.record("session", tracing::field::display(res.session.name()));
        if let Some(old) = res.replaced {
            tracing::debug!(old = %old, "session taken over from another connection: closing that one with 4009");
            // The old connection no longer owns the session: whatever it
            // still does is ignored; this closes it for its client's sake.
            self.shared.live.close(old, CloseCode::Replaced, "session resumed on another connection");
        }
        let session = res.session;
        self.shared.live.set_outbox(self.conn, session.outbox().clone());
        let rooms = res.rooms.iter().map(|(id, h, client)| joined(id, h, *client)).collect();
        let resumed = Resumed {
            session: session.name().to_string(),
            resume_token: res.token,
            replayed: res.replay.len() as u32,
            resync: res.resync,
            rooms,
            server_time: unix_millis(),
        };
        tracing::debug!(fresh = fresh.name(), replayed = resumed.replayed, resync = resumed.resync, "session resumed");
        self.send(out, Out::Resumed(resumed));
        for f in res.replay {
            out.send(f);
        }
        for (_, h, _) in &res.rooms {
            if let Some(p) = h.port() {
                p.back(session.id());
            }
        }
        // Attaching wakes this connection for whatever waited meanwhile.
        self.attach(&session);
    }

    /// A resume waiting for where its session is: answered once found.
    pub(super) fn located(&mut self, out: &mut Actions) {
        if self.locating.is_none() {
            return;
        }
        let Some(place) = self.located.lock().take() else { return };
        let Some(r) = self.locating.take() else { return };
        match place {
            // Taken over here meanwhile: resume it (once; a session that is
            // still not here is answered as elsewhere).
            SessionPlace::Here => {
                self.locating = Some(Resume::default());
                self.resume(r, out);
                self.locating = None;
            }
            place => {
                self.shared.metrics.resume("elsewhere");
                self.answer_elsewhere(place, out);
            }
        }
    }

    /// Tells the client where its session is: a `Redirect` (a client that
    /// follows them) or an `Error` naming the node.
    fn answer_elsewhere(&mut self, place: SessionPlace, out: &mut Actions) {
        match place {
            SessionPlace::There(url) if self.follows_redirects => {
                let r = Redirect { request: 0, room: String::new(), url, reservation: String::new() };
                self.send(out, Out::Redirect(r))
            }
            SessionPlace::There(url) => self.error(
                out,
                ERROR_RESUME_UNAVAILABLE,
                format!("the session is held by the node at {url}; resume there"),
            ),
            SessionPlace::Here | SessionPlace::Unknown => {
                self.error(out, ERROR_RESUME_UNAVAILABLE, ResumeError::Gone.to_string())
            }
        }
    }

    /// Answers a `Resume` of the session this connection holds: `Resumed`
    /// with its rooms and a fresh token (superseding the one resumed with),
    /// nothing replayed.
    fn resumed_in_place(&mut self, out: &mut Actions) {
        let session = self.session.clone();
        let Some(st) = session.owned_by(self.conn) else { return };
        let rooms = st.rooms.iter().map(|(id, (h, client))| joined(id, h, *client)).collect();
        drop(st);
        let Some(resume_token) = self.shared.sessions.reissue(&session, self.conn) else { return };
        let resumed = Resumed {
            session: session.name().to_string(),
            resume_token,
            replayed: 0,
            resync: false,
            rooms,
            server_time: unix_millis(),
        };
        self.send(out, Out::Resumed(resumed));
    }
}

/// A room of a resumed session, as `Resumed.rooms` lists it.
fn joined(id: &RoomId, h: &RoomHandle, client: ClientId) -> Joined {
    Joined {
        request: 0,
        room: id.to_string(),
        room_type: h.room_type.to_string(),
        tick_hz: h.tick_hz,
        client: client.0,
    }
}
