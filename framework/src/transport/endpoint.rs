//! The transport actor: one per WebSocket, generic over the [`Endpoint`] that
//! runs on top (the game connection, or the Autobahn echo).

use super::doorbell::Rung;
use super::faults::{classify, FrameFault};
use super::guard::FrameGuard;
use super::link::{close, Link, LinkState};
use super::{AssembleError, HeartbeatAction, MessageAssembler, WholeMessage};
use crate::protocol::CloseCode;
use actix::{Actor, ActorContext, Addr, AsyncContext, Handler, Message, StreamHandler};
use actix_http::ws::Item;
use actix_web_actors::ws::{self, CloseReason, ProtocolError, WebsocketContext};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Limits and timers of the transport.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Largest whole message accepted (bytes); larger → close 1009.
    pub max_message_size: usize,
    /// How often the server pings.
    pub heartbeat_interval: Duration,
    /// Close a connection from which nothing arrived for this long (1008).
    pub idle_timeout: Duration,
    /// After sending a close frame, how long to wait for the peer's.
    pub close_timeout: Duration,
    /// Capacity of the actor's mailbox (it receives only wake-ups and
    /// control messages; data travels in the endpoint's own bounded queue).
    pub mailbox_capacity: usize,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            max_message_size: 64 * 1024,
            heartbeat_interval: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(15),
            close_timeout: Duration::from_secs(2),
            mailbox_capacity: 64,
        }
    }
}

/// Counts what crosses the transport (the server wires it to `/metrics`).
pub trait TransportObserver: Send + Sync + 'static {
    /// A whole message arrived.
    fn message_in(&self, _bytes: usize) {}
    /// A data frame was written.
    fn message_out(&self, _bytes: usize) {}
    /// The server closed the connection with `code`.
    fn closed(&self, _code: u16) {}
}

impl TransportObserver for () {}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The peer sent a close frame (with this code, if any).
    PeerClosed(Option<u16>),
    /// The server closed it with this code.
    ServerClosed(u16),
    /// Lost: the socket failed or closed without a close frame, or nothing
    /// arrived within the idle timeout.
    Lost,
}

impl Ending {
    /// Whether the client may want to come back: the connection was lost,
    /// or the peer closed with anything but 1000 (normal) or no code. A
    /// browser leaving a page says 1001; an app going to the background may
    /// say anything.
    pub fn is_resumable(self) -> bool {
        match self {
            Ending::Lost => true,
            Ending::PeerClosed(code) => code.is_some_and(|c| c != 1000),
            Ending::ServerClosed(_) => false,
        }
    }
}

/// What runs on top of the transport.
pub trait Endpoint: Unpin + Sized + 'static {
    /// The socket is open.
    fn started(&mut self, _link: &mut Link<'_, Self>) {}
    /// A frame arrived with `bytes` of payload: data, continuation, ping or
    /// pong (close frames are always taken). Return `false` to drop it: a
    /// dropped data frame drops the whole message it belongs to, a dropped
    /// ping gets no pong. The game connection charges its rate limit here, so
    /// a message sent as a million fragments costs a million frames.
    fn on_frame(&mut self, _bytes: usize, _link: &mut Link<'_, Self>) -> bool {
        true
    }
    /// A whole message arrived.
    fn on_message(&mut self, msg: WholeMessage, link: &mut Link<'_, Self>);
    /// Someone sent [`Wake`] or rang the [`Doorbell`](super::Doorbell): the endpoint's own
    /// queue has something to send.
    fn on_wake(&mut self, _link: &mut Link<'_, Self>) {}
    /// The timer set with [`Link::timer`] fired.
    fn on_timer(&mut self, _link: &mut Link<'_, Self>) {}
    /// The connection is gone (after the close handshake or a dropped socket).
    fn stopped(&mut self, _how: Ending) {}
}

/// Tells the transport actor to let its endpoint drain its queue.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Wake;

/// Tells the transport actor to close with `code` and `reason` (e.g. a
/// connection whose session another connection has resumed).
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct CloseNow {
    /// The close code.
    pub code: CloseCode,
    /// For people.
    pub reason: String,
}

/// The transport actor.
pub struct Transport<E: Endpoint> {
    endpoint: E,
    assembler: MessageAssembler,
    config: TransportConfig,
    state: LinkState,
    /// False once the input is abandoned (see `Transport::stop_reading`).
    reading: bool,
    /// Set by the `FrameGuard` that [`accept`] installs to the length an
    /// oversized frame announced (0: none).
    oversized: Arc<AtomicU64>,
}

impl<E: Endpoint> Transport<E> {
    /// A transport running `endpoint`.
    pub fn new(endpoint: E, config: TransportConfig, observer: Arc<dyn TransportObserver>) -> Self {
        Transport {
            endpoint,
            assembler: MessageAssembler::new(config.max_message_size),
            state: LinkState::new(observer, &config),
            config,
            reading: true,
            oversized: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The actix-http frame codec for this transport: a single frame may be
    /// as large as a whole message, never larger.
    pub fn codec(&self) -> actix_http::ws::Codec {
        actix_http::ws::Codec::new().max_size(self.config.max_message_size)
    }

    fn link<'a>(&'a mut self, ctx: &'a mut WebsocketContext<Self>) -> (&'a mut E, Link<'a, E>) {
        (&mut self.endpoint, Link::new(ctx, &mut self.state))
    }

    /// The endpoint's timer ([`Link::timer`]) fired.
    pub(super) fn timer_fired(&mut self, ctx: &mut WebsocketContext<Self>) {
        self.state.timer = None;
        if self.state.closing {
            return;
        }
        let (ep, mut link) = self.link(ctx);
        ep.on_timer(&mut link);
    }

    fn deliver(&mut self, msg: Result<WholeMessage, AssembleError>, ctx: &mut WebsocketContext<Self>) {
        match msg {
            Ok(m) => {
                self.state.observer.message_in(m.len());
                let (ep, mut link) = self.link(ctx);
                ep.on_message(m, &mut link);
            }
            Err(e) => {
                let code = match e {
                    AssembleError::TooBig { .. } => CloseCode::TooBig,
                    AssembleError::InvalidUtf8 => CloseCode::InvalidPayload,
                    AssembleError::NotStarted | AssembleError::AlreadyStarted => CloseCode::Protocol,
                };
                close(ctx, &mut self.state, code, &e.to_string());
            }
        }
    }

    /// Asks the endpoint whether to take a frame; a refused one is dropped
    /// here (a continuation still goes through the assembler, so the rest of
    /// its message is dropped too and fragmentation errors are still seen).
    fn admit(&mut self, msg: ws::Message, ctx: &mut WebsocketContext<Self>) -> Option<ws::Message> {
        let len = match &msg {
            ws::Message::Binary(b) => b.len(),
            ws::Message::Text(t) => t.len(),
            ws::Message::Continuation(
                Item::FirstText(b) | Item::FirstBinary(b) | Item::Continue(b) | Item::Last(b),
            ) => b.len(),
            ws::Message::Ping(p) | ws::Message::Pong(p) => p.len(),
            ws::Message::Close(_) | ws::Message::Nop => return Some(msg),
        };
        let (ep, mut link) = self.link(ctx);
        if ep.on_frame(len, &mut link) {
            return Some(msg);
        }
        match msg {
            ws::Message::Continuation(item) if !self.state.closing => {
                if let Err(e) = self.assembler.discard(item) {
                    self.deliver(Err(e), ctx);
                }
            }
            ws::Message::Binary(_) | ws::Message::Text(_) if self.assembler.in_progress() && !self.state.closing => {
                self.deliver(Err(AssembleError::AlreadyStarted), ctx);
            }
            _ => {}
        }
        None
    }

    /// The frame decoder reported an error: close with the code RFC 6455
    /// asks for, the gentle way if the decoder is still in step with the
    /// stream, the hard way if it is not.
    fn protocol_error(&mut self, err: ProtocolError, ctx: &mut WebsocketContext<Self>) {
        match classify(&err, self.config.max_message_size) {
            FrameFault::SocketGone => {
                // The socket itself failed: nobody to send a close frame to.
                self.state.ending.get_or_insert(Ending::Lost);
                self.stop_reading(ctx);
            }
            FrameFault::Recoverable { code, reason } if !self.state.closing => {
                // The offending frame was consumed whole, so the next bytes
                // are a frame header again: run the normal close handshake
                // (keep reading, drop data, stop on the peer's close frame or
                // after the close timeout). A clean close is what makes a
                // browser report our code instead of 1006.
                close(ctx, &mut self.state, code, &reason);
            }
            FrameFault::Recoverable { code, reason } | FrameFault::OutOfStep { code, reason } => {
                // The decoder is out of step with the stream (it will report
                // the same error again on every poll), or this is a second
                // error while closing. RFC 6455 §7.1.7: fail the connection —
                // send a close frame if we have not, then stop processing
                // input and drop the TCP connection.
                close(ctx, &mut self.state, code, &reason);
                self.stop_reading(ctx);
            }
        }
    }

    /// Stops processing input and stops the actor. Queued frames (our close
    /// frame) are still written; dropping the input stream puts actix-http in
    /// drain mode, so unread input does not turn our FIN into a RST that
    /// could destroy the close frame in flight.
    fn stop_reading(&mut self, ctx: &mut WebsocketContext<Self>) {
        self.reading = false;
        // Must not keep polling a decoder that fails without consuming input:
        // each poll would yield the same error again (a busy loop that,
        // before this fix, also queued a timer per error and never returned
        // to the executor, freezing the whole worker thread).
        ctx.stop();
    }
}

impl<E: Endpoint> Actor for Transport<E> {
    type Context = WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.config.mailbox_capacity);
        self.state.doorbell.install::<Self>(ctx);
        ctx.run_interval(self.config.heartbeat_interval, |act, ctx| {
            if act.state.closing {
                return;
            }
            match act.state.heartbeat.tick(Instant::now()) {
                HeartbeatAction::Ping(p) => ctx.ping(&p),
                HeartbeatAction::TimedOut => {
                    // A silent peer is a lost one, whatever code we send it.
                    act.state.ending.get_or_insert(Ending::Lost);
                    let secs = act.config.idle_timeout.as_secs_f32();
                    close(ctx, &mut act.state, CloseCode::Policy, &format!("nothing received for {secs} s"));
                    ctx.stop();
                }
            }
        });
        let (ep, mut link) = self.link(ctx);
        ep.started(&mut link);
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.endpoint.stopped(self.state.ending.unwrap_or(Ending::Lost));
    }
}

impl<E: Endpoint> StreamHandler<Result<ws::Message, ProtocolError>> for Transport<E> {
    fn handle(&mut self, item: Result<ws::Message, ProtocolError>, ctx: &mut Self::Context) {
        if !self.reading {
            // actix polls a few more items in the same turn after a stop.
            return;
        }
        let msg = match item {
            Ok(m) => m,
            Err(e) => return self.protocol_error(e, ctx),
        };
        self.state.heartbeat.seen(Instant::now());
        let msg = if self.state.closing {
            msg
        } else {
            match self.admit(msg, ctx) {
                Some(m) => m,
                None => return,
            }
        };
        match msg {
            // Once our close frame is out, data is read only to find the
            // peer's close frame (RFC 6455 §1.4): it is neither assembled
            // nor delivered, so nothing acts on input we already refused.
            ws::Message::Binary(_) | ws::Message::Text(_) | ws::Message::Continuation(_) if self.state.closing => {}
            ws::Message::Binary(b) => {
                let m = self.assembler.single(WholeMessage::Binary(b));
                self.deliver(m, ctx);
            }
            ws::Message::Text(t) => {
                let m = self.assembler.single(WholeMessage::Text(t));
                self.deliver(m, ctx);
            }
            ws::Message::Continuation(item) => match self.assembler.push(item) {
                Ok(None) => {}
                Ok(Some(m)) => self.deliver(Ok(m), ctx),
                Err(e) => self.deliver(Err(e), ctx),
            },
            ws::Message::Ping(p) => {
                if !self.state.closing {
                    ctx.pong(&p);
                }
            }
            ws::Message::Pong(p) => self.state.heartbeat.pong(&p, Instant::now()),
            ws::Message::Close(reason) => {
                self.state.ending.get_or_insert(Ending::PeerClosed(reason.as_ref().map(|r| u16::from(r.code))));
                if !self.state.closing {
                    // Peer-initiated: echo its code (RFC 6455 §5.5.1), or
                    // answer an empty close with an empty one (a reply may
                    // not carry 1005, "no code received"). actix-http has
                    // already rejected invalid codes and reasons (→ 1002).
                    self.state.closing = true;
                    let echo = reason.map(|r| CloseReason { code: r.code, description: None });
                    ctx.close(echo);
                }
                // Handshake complete: the server drops TCP first (§7.1.1).
                self.stop_reading(ctx);
            }
            ws::Message::Nop => {}
        }
    }

    /// The input ended: the peer closed TCP, or the `FrameGuard` refused
    /// a frame by its header (then answer 1009, as the decoder would have
    /// after buffering the whole frame).
    fn finished(&mut self, ctx: &mut Self::Context) {
        let announced = self.oversized.load(Ordering::Acquire);
        if announced != 0 && self.reading {
            let max = self.config.max_message_size;
            let reason = format!("frame of {announced} bytes exceeds the limit of {max} bytes");
            close(ctx, &mut self.state, CloseCode::TooBig, &reason);
        }
        self.state.ending.get_or_insert(Ending::Lost);
        self.stop_reading(ctx);
    }
}

impl<E: Endpoint> Handler<Wake> for Transport<E> {
    type Result = ();

    fn handle(&mut self, _: Wake, ctx: &mut Self::Context) {
        let (ep, mut link) = self.link(ctx);
        ep.on_wake(&mut link);
    }
}

impl<E: Endpoint> StreamHandler<Rung> for Transport<E> {
    fn handle(&mut self, _: Rung, ctx: &mut Self::Context) {
        let (ep, mut link) = self.link(ctx);
        ep.on_wake(&mut link);
    }

    /// The doorbell's stream never ends on its own; when the actor stops
    /// it is dropped with it. (The default would stop the actor.)
    fn finished(&mut self, _: &mut Self::Context) {}
}

impl<E: Endpoint> Handler<CloseNow> for Transport<E> {
    type Result = ();

    fn handle(&mut self, msg: CloseNow, ctx: &mut Self::Context) {
        close(ctx, &mut self.state, msg.code, &msg.reason);
    }
}

/// Completes the upgrade of `req` and starts a transport actor for it.
///
/// `protocol` is the subprotocol token to echo (already negotiated by the
/// caller), or `None` for endpoints without one (the echo example).
pub fn accept<E: Endpoint>(
    transport: Transport<E>,
    req: &actix_web::HttpRequest,
    stream: actix_web::web::Payload,
    protocol: Option<&str>,
) -> Result<(Addr<Transport<E>>, actix_web::HttpResponse), actix_web::Error> {
    let codec = transport.codec();
    let stream = FrameGuard::new(stream, transport.config.max_message_size, transport.oversized.clone());
    let protocols = protocol.map(|p| [p]);
    let mut builder = ws::WsResponseBuilder::new(transport, req, stream).codec(codec);
    if let Some(p) = protocols.as_ref() {
        builder = builder.protocols(p);
    }
    builder.start_with_addr()
}
