//! `Resume` on a connection: taking a session over from a lost (or still
//! open) connection and replaying what its client missed.

use super::{unix_millis, GameConnection, ERROR_RESUME_UNAVAILABLE};
use crate::protocol::envelope::{server_msg::Kind as Out, Joined, Resume, Resumed};
use crate::protocol::CloseCode;
use crate::session::ResumeError;
use crate::transport::{Link, Wake};
use std::time::Instant;

impl GameConnection {
    /// `Resume`: takes over the session of the token, replays what the
    /// client missed, and drops the fresh session this connection opened.
    pub(super) fn resume(&mut self, r: Resume, link: &mut Link<'_, Self>) {
        let metrics = &self.shared.metrics;
        if self.settled {
            metrics.resume("refused");
            return self.error(link, ERROR_RESUME_UNAVAILABLE, ResumeError::TooLate.to_string());
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
            Err(e) => {
                metrics.resume(if matches!(e, ResumeError::Gone) { "expired" } else { "refused" });
                return self.error(link, ERROR_RESUME_UNAVAILABLE, e.to_string());
            }
        };
        self.settled = true;
        metrics.resume(if res.resync { "resync" } else { "replayed" });
        let fresh = std::mem::replace(&mut self.session, res.session.clone());
        self.shared.sessions.end(&fresh);
        if let Some(old) = res.replaced {
            // The old connection no longer owns the session: whatever it
            // still does is ignored; this closes it for its client's sake.
            self.shared.live.close(old, CloseCode::Replaced, "session resumed on another connection");
        }
        let session = res.session;
        self.shared.live.set_outbox(self.conn, session.outbox().clone());
        let rooms = res
            .rooms
            .iter()
            .map(|(id, h, client)| Joined {
                request: 0,
                room: id.to_string(),
                room_type: h.room_type.to_string(),
                tick_hz: h.tick_hz,
                client: *client,
            })
            .collect();
        let resumed = Resumed {
            session: session.name().to_string(),
            resume_token: self.shared.sessions.token(&session),
            replayed: res.replay.len() as u32,
            resync: res.resync,
            rooms,
            server_time: unix_millis(),
        };
        tracing::debug!(
            conn = self.conn,
            session = session.name(),
            replayed = resumed.replayed,
            resync = resumed.resync,
            "session resumed"
        );
        self.send(link, Out::Resumed(resumed));
        for f in res.replay {
            link.binary(f);
        }
        for (_, h, _) in &res.rooms {
            if let Some(p) = h.port() {
                p.back(session.id());
            }
        }
        // Attaching wakes this connection for whatever waited meanwhile.
        let addr = link.address();
        session.outbox().attach(move || addr.try_send(Wake).is_ok(), self.kill.clone(), Instant::now());
    }
}
