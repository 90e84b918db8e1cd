//! [`GameEndpoint`]: the thin shell that runs a [`GameConnection`] on the
//! transport. It feeds the transport's events in and carries the actions
//! out (frames, closes, the timer); it holds no rule of its own.
//!
//! Every step runs inside the connection's `connection` span (the rules
//! name it, see [`GameConnection::span`]): the transport actor is polled by
//! its arbiter, so the span is entered here, at each entry point, and left
//! before the step returns; the tasks the rules spawn carry it along
//! (`Instrument`). Entering a span the subscriber has disabled is a no-op.

use super::{Action, Actions, Closer, GameConnection, Waker};
use crate::transport::{Ending, Endpoint, Link, WholeMessage};
use std::sync::Arc;
use tracing::{Instrument, Span};

/// The transport endpoint of a game connection.
pub struct GameEndpoint {
    rules: GameConnection,
    actions: Actions,
    /// The rules' `connection` span (a handle to the same span: fields the
    /// rules record on theirs show here too).
    span: Span,
    /// The RTT last published on the session's outbox: it changes once a
    /// heartbeat, so it is stored only then (the outbox's cache line is the
    /// room thread's on every push).
    rtt: Option<std::time::Duration>,
}

/// Publishes `rtt` for the rooms when it changed since `last` (a resumed
/// session gets it at the next heartbeat).
fn publish_rtt(last: &mut Option<std::time::Duration>, rules: &GameConnection, rtt: Option<std::time::Duration>) {
    if rtt != *last {
        *last = rtt;
        rules.note_rtt(rtt);
    }
}

impl GameEndpoint {
    /// Runs `rules` on the transport.
    pub fn new(rules: GameConnection) -> Self {
        let span = rules.span().clone();
        GameEndpoint { rules, actions: Actions::default(), span, rtt: None }
    }
}

/// Carries out the actions of one step (inside the step's span).
fn flush(actions: &mut Actions, span: &Span, link: &mut Link<'_>) {
    for action in actions.drain() {
        match action {
            Action::Send(frame) => link.binary(frame),
            Action::Close { code, reason } => {
                tracing::debug!(code = code.code(), reason = %reason, "closing");
                link.close(code, &reason)
            }
            Action::Timer(after) => link.timer(after),
            Action::Spawn(task) => {
                actix_rt::spawn(task.instrument(span.clone()));
            }
        }
    }
}

impl Endpoint for GameEndpoint {
    fn started(&mut self, link: &mut Link<'_>) {
        let _entered = self.span.enter();
        let waker: Waker = link.doorbell().ringer();
        let close = link.closer();
        let closer: Closer = Arc::new(move |code, reason: &str| close.close(code, reason));
        self.rules.start(waker, closer, link.direct(), &mut self.actions);
        flush(&mut self.actions, &self.span, link);
    }

    fn on_frame(&mut self, bytes: usize, link: &mut Link<'_>) -> bool {
        let _entered = self.span.enter();
        let take = self.rules.handle_frame(bytes, &mut self.actions);
        flush(&mut self.actions, &self.span, link);
        take
    }

    fn on_message(&mut self, msg: WholeMessage, link: &mut Link<'_>) {
        let _entered = self.span.enter();
        self.rules.handle_message(msg, &mut self.actions);
        flush(&mut self.actions, &self.span, link);
    }

    /// The RTT is published as each pong updates it (a connection whose
    /// states are written directly is rarely woken, and may send nothing).
    fn on_pong(&mut self, link: &mut Link<'_>) {
        publish_rtt(&mut self.rtt, &self.rules, link.rtt());
    }

    fn on_wake(&mut self, link: &mut Link<'_>) {
        let _entered = self.span.enter();
        self.rules.handle_wake(&mut self.actions);
        flush(&mut self.actions, &self.span, link);
    }

    fn on_timer(&mut self, link: &mut Link<'_>) {
        let _entered = self.span.enter();
        self.rules.handle_timeout(&mut self.actions);
        flush(&mut self.actions, &self.span, link);
    }

    fn stopped(&mut self, how: Ending) {
        let _entered = self.span.enter();
        self.rules.stopped(how);
    }
}
