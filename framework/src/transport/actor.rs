//! The transport actor: one per WebSocket, generic over the [`Endpoint`] that
//! runs on top (the game connection, or the Autobahn echo).

use super::{AssembleError, Heartbeat, HeartbeatAction, MessageAssembler, WholeMessage};
use crate::protocol::CloseCode;
use actix::{Actor, ActorContext, Addr, AsyncContext, Handler, Message, StreamHandler};
use actix_web_actors::ws::{self, CloseReason, ProtocolError, WebsocketContext};
use bytes::Bytes;
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

/// Writes to the socket, on behalf of an [`Endpoint`].
pub struct Link<'a, E: Endpoint> {
    ctx: &'a mut WebsocketContext<Transport<E>>,
    state: &'a mut LinkState,
}

struct LinkState {
    observer: Arc<dyn TransportObserver>,
    closing: bool,
    heartbeat: Heartbeat,
    close_timeout: Duration,
}

impl<E: Endpoint> Link<'_, E> {
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
    pub fn close(&mut self, code: impl Into<ws::CloseCode>, reason: &str) {
        close(self.ctx, self.state, code.into(), reason);
    }

    /// Whether a close has been sent.
    pub fn is_closing(&self) -> bool {
        self.state.closing
    }

    /// The smoothed round-trip time from heartbeat pongs.
    pub fn rtt(&self) -> Option<Duration> {
        self.state.heartbeat.rtt()
    }

    /// The transport actor's address (for [`Wake`]).
    pub fn address(&self) -> Addr<Transport<E>> {
        self.ctx.address()
    }
}

fn close<A>(ctx: &mut WebsocketContext<A>, state: &mut LinkState, code: ws::CloseCode, reason: &str)
where
    A: Actor<Context = WebsocketContext<A>>,
{
    if state.closing {
        return;
    }
    state.closing = true;
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

/// What runs on top of the transport.
pub trait Endpoint: Unpin + Sized + 'static {
    /// The socket is open.
    fn started(&mut self, _link: &mut Link<'_, Self>) {}
    /// A whole message arrived.
    fn on_message(&mut self, msg: WholeMessage, link: &mut Link<'_, Self>);
    /// Someone sent [`Wake`]: the endpoint's own queue has something to send.
    fn on_wake(&mut self, _link: &mut Link<'_, Self>) {}
    /// The connection is gone (after the close handshake or a dropped socket).
    fn stopped(&mut self) {}
}

/// Tells the transport actor to let its endpoint drain its queue.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Wake;

/// The transport actor.
pub struct Transport<E: Endpoint> {
    endpoint: E,
    assembler: MessageAssembler,
    config: TransportConfig,
    state: LinkState,
}

impl<E: Endpoint> Transport<E> {
    /// A transport running `endpoint`.
    pub fn new(endpoint: E, config: TransportConfig, observer: Arc<dyn TransportObserver>) -> Self {
        Transport {
            endpoint,
            assembler: MessageAssembler::new(config.max_message_size),
            state: LinkState {
                observer,
                closing: false,
                heartbeat: Heartbeat::new(Instant::now(), config.idle_timeout),
                close_timeout: config.close_timeout,
            },
            config,
        }
    }

    /// The actix-http frame codec for this transport: a single frame may be
    /// as large as a whole message, never larger.
    pub fn codec(&self) -> actix_http::ws::Codec {
        actix_http::ws::Codec::new().max_size(self.config.max_message_size)
    }

    fn link<'a>(&'a mut self, ctx: &'a mut WebsocketContext<Self>) -> (&'a mut E, Link<'a, E>) {
        (&mut self.endpoint, Link { ctx, state: &mut self.state })
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
                close(ctx, &mut self.state, code.into(), &e.to_string());
            }
        }
    }

    fn protocol_error(&mut self, err: ProtocolError, ctx: &mut WebsocketContext<Self>) {
        let (code, reason) = match &err {
            ProtocolError::Overflow => (
                CloseCode::TooBig,
                format!("message exceeds the limit of {} bytes", self.config.max_message_size),
            ),
            // actix-web-actors reports invalid UTF-8 in an unfragmented text
            // frame as an opaque I/O error; its message names UTF-8.
            ProtocolError::Io(e) if e.to_string().contains("utf-8") => {
                (CloseCode::InvalidPayload, "text message is not valid UTF-8".to_string())
            }
            ProtocolError::Io(e) if e.kind() != std::io::ErrorKind::InvalidData && !is_frame_error(e) => {
                // The socket itself failed: nobody to send a close frame to.
                ctx.stop();
                return;
            }
            other => (CloseCode::Protocol, other.to_string()),
        };
        close(ctx, &mut self.state, code.into(), &reason);
        // A frame error leaves the decoder out of step with the stream: stop
        // reading and let the close frame go out.
        ctx.run_later(Duration::from_millis(50), |_, ctx| ctx.stop());
    }
}

fn is_frame_error(e: &std::io::Error) -> bool {
    e.to_string().contains("reserved bits")
}

impl<E: Endpoint> Actor for Transport<E> {
    type Context = WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.config.mailbox_capacity);
        ctx.run_interval(self.config.heartbeat_interval, |act, ctx| {
            if act.state.closing {
                return;
            }
            match act.state.heartbeat.tick(Instant::now()) {
                HeartbeatAction::Ping(p) => ctx.ping(&p),
                HeartbeatAction::TimedOut => {
                    let secs = act.config.idle_timeout.as_secs_f32();
                    close(ctx, &mut act.state, CloseCode::Policy.into(), &format!("nothing received for {secs} s"));
                    ctx.stop();
                }
            }
        });
        let (ep, mut link) = self.link(ctx);
        ep.started(&mut link);
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.endpoint.stopped();
    }
}

impl<E: Endpoint> StreamHandler<Result<ws::Message, ProtocolError>> for Transport<E> {
    fn handle(&mut self, item: Result<ws::Message, ProtocolError>, ctx: &mut Self::Context) {
        let msg = match item {
            Ok(m) => m,
            Err(e) => return self.protocol_error(e, ctx),
        };
        self.state.heartbeat.seen(Instant::now());
        match msg {
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
                if !self.state.closing {
                    // Peer-initiated: echo its code (RFC 6455 §5.5.1).
                    self.state.closing = true;
                    let code = reason.as_ref().map(|r| r.code).unwrap_or(ws::CloseCode::Normal);
                    ctx.close(Some(CloseReason { code, description: None }));
                }
                ctx.stop();
            }
            ws::Message::Nop => {}
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl<E: Endpoint> Handler<Wake> for Transport<E> {
    type Result = ();

    fn handle(&mut self, _: Wake, ctx: &mut Self::Context) {
        let (ep, mut link) = self.link(ctx);
        ep.on_wake(&mut link);
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
    let protocols = protocol.map(|p| [p]);
    let mut builder = ws::WsResponseBuilder::new(transport, req, stream).codec(codec);
    if let Some(p) = protocols.as_ref() {
        builder = builder.protocols(p);
    }
    builder.start_with_addr()
}
