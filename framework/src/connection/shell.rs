//! [`GameEndpoint`]: the thin shell that runs a [`GameConnection`] on the
//! transport. It feeds the transport's events in and carries the actions
//! out (frames, closes, the timer); it holds no rule of its own.

use super::{Action, Actions, Closer, GameConnection, Waker};
use crate::transport::{CloseNow, Ending, Endpoint, Link, WholeMessage};
use std::sync::Arc;

/// The transport endpoint of a game connection.
pub struct GameEndpoint {
    rules: GameConnection,
    actions: Actions,
}

impl GameEndpoint {
    /// Runs `rules` on the transport.
    pub fn new(rules: GameConnection) -> Self {
        GameEndpoint { rules, actions: Actions::default() }
    }

    fn flush(&mut self, link: &mut Link<'_, Self>) {
        for action in self.actions.drain() {
            match action {
                Action::Send(frame) => link.binary(frame),
                Action::Close { code, reason } => link.close(code, &reason),
                Action::Timer(after) => link.timer(after),
                Action::Spawn(task) => {
                    actix_rt::spawn(task);
                }
            }
        }
    }
}

impl Endpoint for GameEndpoint {
    fn started(&mut self, link: &mut Link<'_, Self>) {
        let addr = link.address();
        let bell = link.doorbell();
        let waker: Waker = Arc::new(move || bell.ring());
        let closer: Closer =
            Arc::new(move |code, reason: &str| addr.try_send(CloseNow { code, reason: reason.to_string() }).is_ok());
        self.rules.start(waker, closer, &mut self.actions);
        self.flush(link);
    }

    fn on_frame(&mut self, bytes: usize, link: &mut Link<'_, Self>) -> bool {
        let take = self.rules.handle_frame(bytes, &mut self.actions);
        self.flush(link);
        take
    }

    fn on_message(&mut self, msg: WholeMessage, link: &mut Link<'_, Self>) {
        self.rules.handle_message(msg, &mut self.actions);
        self.flush(link);
    }

    fn on_wake(&mut self, link: &mut Link<'_, Self>) {
        self.rules.handle_wake(&mut self.actions);
        self.flush(link);
    }

    fn on_timer(&mut self, link: &mut Link<'_, Self>) {
        self.rules.handle_timeout(&mut self.actions);
        self.flush(link);
    }

    fn stopped(&mut self, how: Ending) {
        self.rules.stopped(how);
    }
}
