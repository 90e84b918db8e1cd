//! Authentication on a connection: binding the session to the user, the
//! `Auth` message (first auth or refresh), and the credential timer.

use super::Actions;
use super::GameConnection;
use crate::auth::Step;
use crate::protocol::envelope::{server_msg::Kind as Out, Authenticated};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

impl GameConnection {
    /// Binds the session to the authenticated user and schedules the
    /// credential check.
    pub(super) fn on_authenticated(&mut self, out: &mut Actions) -> bool {
        let Some(user) = self.auth.user().map(str::to_string) else { return true };
        self.shared.sessions.bind_user(&self.session, self.conn, &user);
        self.schedule_auth_check(out);
        true
    }

    /// Arms the connection's one credential timer for the gate's deadline,
    /// unless it is armed for that deadline already (a refresh with the same
    /// expiry, or the same token again, changes nothing).
    pub(super) fn schedule_auth_check(&mut self, out: &mut Actions) {
        let due = self.auth.deadline();
        if due == self.auth_timer {
            return;
        }
        self.auth_timer = due;
        if let Some(after) = self.auth.next_check(Instant::now(), SystemTime::now()) {
            // Timers are not precise to the millisecond: check a little late
            // rather than early (an early check would reschedule at once).
            out.timer(after + Duration::from_millis(5));
        }
    }

    pub(super) fn on_auth(&mut self, token: &str, out: &mut Actions) {
        match self.auth.auth(token, SystemTime::now()) {
            Step::Accepted(id) => {
                if !self.on_authenticated(out) {
                    return;
                }
                let expires_at =
                    id.expires_at.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_millis() as u64);
                self.send(out, Out::Authenticated(Authenticated { user: id.user, expires_at }));
            }
            Step::Close(code, reason) => out.close(code, &reason),
        }
    }
}
