//! [`Link`]: how an [`Endpoint`] writes to its socket (data frames, the
//! close handshake, its one timer), and the state of the socket it shares
//! with the transport actor that reads.

use super::actor::{Ending, Endpoint, Transport, TransportConfig, TransportObserver};
use super::Heartbeat;
use actix::{Actor, ActorContext, Addr, AsyncContext, SpawnHandle};
use actix_web_actors::ws::{self, CloseReason, WebsocketContext};
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Writes to the socket, on behalf of an [`Endpoint`].
pub struct Link<'a, E: Endpoint> {
    ctx: &'a mut WebsocketContext<Transport<E>>,
    state: &'a mut LinkState,
}

/// The socket's side of a connection, shared by the actor (which reads)
/// and its [`Link`] (which writes): whether a close is under way, how the
/// connection ends, the heartbeat and the endpoint's timer.
pub(super) struct LinkState {
    pub(super) observer: Arc<dyn TransportObserver>,
    pub(super) closing: bool,
    /// How the connection is ending, once known (first cause wins).
    pub(super) ending: Option<Ending>,
    pub(super) heartbeat: Heartbeat,
    pub(super) close_timeout: Duration,
    /// The endpoint's one pending timer ([`Link::timer`]).
    pub(super) timer: Option<SpawnHandle>,
    /// Rung by other threads ([`Link::doorbell`]); connected to the actor
    /// when it starts.
    pub(super) doorbell: super::Doorbell,
}

impl LinkState {
    /// Open, heard from now, no timer set.
    pub(super) fn new(observer: Arc<dyn TransportObserver>, config: &TransportConfig) -> Self {
        LinkState {
            observer,
            closing: false,
            ending: None,
            heartbeat: Heartbeat::new(Instant::now(), config.idle_timeout),
            close_timeout: config.close_timeout,
            timer: None,
            doorbell: super::Doorbell::new(),
        }
    }
}

impl<'a, E: Endpoint> Link<'a, E> {
    pub(super) fn new(ctx: &'a mut WebsocketContext<Transport<E>>, state: &'a mut LinkState) -> Self {
        Link { ctx, state }
    }

    /// Sends a binary message (no-op once closing).
    pub fn binary(&mut self, data: Bytes) {
        if !self.state.closing {
            self.state.observer.message_out(data.len());
            self.ctx.binary(data);
        }
    }

    /// Sends a text message (no-op once closing).
    pub fn text(&mut self, text: impl Into<bytestring::ByteString>) {
        if !self.state.closing {
            let text = text.into();
            self.state.observer.message_out(text.len());
            self.ctx.text(text);
        }
    }

    /// Starts the close handshake with `code` and `reason`; the actor stops
    /// when the peer answers or after the close timeout.
    pub fn close(&mut self, code: impl Into<u16>, reason: &str) {
        close(self.ctx, self.state, code, reason);
    }

    /// Whether a close has been sent.
    pub fn is_closing(&self) -> bool {
        self.state.closing
    }

    /// The smoothed round-trip time from heartbeat pongs.
    pub fn rtt(&self) -> Option<Duration> {
        self.state.heartbeat.rtt()
    }

    /// Calls the endpoint's [`Endpoint::on_timer`] after `after`, instead
    /// of any timer set before and not fired yet: an endpoint has at most one
    /// pending timer. (actix polls every spawned timer of an actor on each of
    /// its wake-ups, so timers that pile up make every message costlier.)
    pub fn timer(&mut self, after: Duration) {
        if let Some(pending) = self.state.timer.take() {
            self.ctx.cancel_future(pending);
        }
        let handle = self.ctx.run_later(after, |act, ctx| act.timer_fired(ctx));
        self.state.timer = Some(handle);
    }

    /// The actor's doorbell: how other threads tell it that the endpoint's
    /// queue has something to send (cheaper than [`Wake`](super::Wake)).
    pub fn doorbell(&self) -> super::Doorbell {
        self.state.doorbell.clone()
    }

    /// The transport actor's address (for [`Wake`](super::Wake)).
    pub fn address(&self) -> Addr<Transport<E>> {
        self.ctx.address()
    }
}

pub(super) fn close<A>(ctx: &mut WebsocketContext<A>, state: &mut LinkState, code: impl Into<u16>, reason: &str)
where
    A: Actor<Context = WebsocketContext<A>>,
{
    if state.closing {
        return;
    }
    let code = ws::CloseCode::from(code.into());
    state.closing = true;
    state.ending.get_or_insert(Ending::ServerClosed(u16::from(code)));
    state.observer.closed(u16::from(code));
    let description = (!reason.is_empty()).then(|| truncate_reason(reason));
    ctx.close(Some(CloseReason { code, description }));
    ctx.run_later(state.close_timeout, |_, ctx| ctx.stop());
}

/// A close reason must fit a control frame (125 bytes, 2 for the code).
fn truncate_reason(reason: &str) -> String {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_control_frame() {
        let long = "é".repeat(100);
        let r = truncate_reason(&long);
        assert!(r.len() <= 123 && long.starts_with(&r));
    }
}
