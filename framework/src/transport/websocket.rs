//! One WebSocket after its upgrade: [`Transport`], the task that owns the
//! socket. It reads and decodes frames, hands them to its
//! [`Endpoint`](super::Endpoint), writes what the endpoint queued, pings,
//! times out, and runs the close handshake.
//!
//! Why by hand and not actix-web-actors (issue 14, profiled with
//! `perf record -e cpu-clock`): there every frame crossed the actor's
//! context, was encoded into a fresh buffer, copied into actix-http's
//! write buffer and written by the HTTP dispatcher's task, and each
//! connection kept the dispatcher's two 8 KiB buffers for life. Here the
//! task is one future: a frame is encoded once into the socket's own
//! buffer, everything one event queued leaves in one `write`, and both
//! buffers are sized on demand and given back when the connection idles.
//! The frame codec is still actix-http's.

use super::direct::{register, Registration};
use super::endpoint::{Ending, Endpoint, TransportConfig, TransportObserver};
use super::frames::FrameReader;
use super::link::LinkState;
use super::socket::Disarm;
use super::{HeartbeatAction, KillSwitch, MessageAssembler};
use crate::protocol::CloseCode;
use actix_http::ws;
use bytes::BytesMut;
use std::future::Future;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// The clock of every deadline here: tokio's (the same instants as std's,
/// except in tests that pause time).
pub(super) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// A socket the transport can run on: TCP, or TLS over TCP.
pub trait Io: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> Io for T {}

/// The most bytes one read takes (into the stack; only what arrived is kept).
const READ_CHUNK: usize = 4096;
/// Reads per wake-up before the task lets others run.
const READS_PER_POLL: usize = 16;
/// How long a closed socket is read (and the bytes dropped) after our FIN,
/// so unread input does not turn the close into a reset that could destroy
/// the close frame in flight.
const LINGER: std::time::Duration = std::time::Duration::from_secs(1);

/// A WebSocket connection running `E`: built by the upgrade handler, run by
/// [`accept`](super::accept) once the `101` has been written.
pub struct Transport<E: Endpoint> {
    pub(super) endpoint: E,
    pub(super) assembler: MessageAssembler,
    pub(super) config: TransportConfig,
    pub(super) state: LinkState,
}

impl<E: Endpoint> Transport<E> {
    /// A transport running `endpoint`.
    pub fn new(endpoint: E, config: TransportConfig, observer: Arc<dyn TransportObserver>) -> Self {
        Transport {
            endpoint,
            assembler: MessageAssembler::new(config.max_message_size),
            state: LinkState::new(observer, &config),
            config,
        }
    }

    /// Starts the connection on `io` and returns the future that runs it
    /// until it ends. `read` holds bytes that arrived with the upgrade
    /// request; `kill` is disarmed before the socket closes (see
    /// [`KillSwitch`]); `direct`, the descriptor of a plain TCP `io`, opens
    /// it to direct writes on this thread (see `direct.rs`).
    ///
    /// Not an `async fn`: the future returned is the task's state and
    /// nothing else, boxed once per connection. As an `async fn` the same
    /// code was a 4,696-byte future (its arguments, the moved-from
    /// transport and the task each kept their own slot) around a 1,300-byte
    /// task: 3.4 KiB of every connection's memory (measured with massif).
    pub(super) fn run(
        mut self,
        io: Box<dyn Io>,
        read: BytesMut,
        kill: Option<KillSwitch>,
        direct: Option<RawFd>,
    ) -> impl Future<Output = ()> {
        let now = now();
        let direct = direct.and_then(|fd| register(fd, self.state.doorbell.clone(), self.state.observer.clone()));
        self.state.direct = direct.as_ref().map(|(writer, _)| *writer);
        let max = self.config.max_message_size;
        let mut conn = Open {
            next_ping: now + self.config.heartbeat_interval,
            reader: FrameReader::new(max),
            t: {
                let (ep, mut link) = self.link();
                ep.started(&mut link);
                self
            },
        };
        let mut sock =
            Socket { direct: direct.map(|(_, r)| r), _disarm: kill.map(Disarm), io, read, out: BytesMut::new() };
        // Bytes that came with the upgrade request are input like any other.
        if !sock.read.is_empty() {
            conn.input(&mut sock.read, 0);
        }
        let sleep = Box::pin(tokio::time::sleep_until(conn.next_ping.into()));
        Task { phase: Phase::Open(conn), sock, sleep, armed: None }
    }
}

/// Where a connection is in its life.
// The open variant is what a connection is for nearly all of its life, and
// the enum lives once per connection inside its task: boxing it would add an
// allocation per connection and save nothing.
#[allow(clippy::large_enum_variant)]
enum Phase<E: Endpoint> {
    /// Reading, writing, pinging, with its endpoint.
    Open(Open<E>),
    /// Writing what is queued, then sending FIN (until this deadline).
    Flushing(Instant),
    /// FIN sent; dropping input until the peer closes (or this deadline).
    Lingering(Instant),
}

/// The socket and its buffers.
struct Socket {
    /// Declared first: unregisters the socket from direct writes before the
    /// descriptor closes, however the task ends.
    direct: Option<Registration>,
    /// Declared before `io`: disarms the kill switch before the descriptor
    /// closes, however the task ends.
    _disarm: Option<Disarm>,
    io: Box<dyn Io>,
    /// Input not decoded yet. Sized on demand, given back when idle.
    read: BytesMut,
    /// Output left to write once the connection has stopped (while open,
    /// output is the link's).
    out: BytesMut,
}

impl Socket {
    /// Writes `out` until it is empty or the socket is full. Err: the
    /// socket failed.
    fn poll_write(io: &mut Box<dyn Io>, out: &mut BytesMut, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while !out.is_empty() {
            match Pin::new(&mut *io).poll_write(cx, out) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    let _ = out.split_to(n);
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// An open connection: the transport, its decoder and its heartbeat.
struct Open<E: Endpoint> {
    t: Transport<E>,
    /// The header guard and the frame decoder.
    reader: FrameReader,
    next_ping: Instant,
}

impl<E: Endpoint> Open<E> {
    /// Decodes and handles the input in `read`, of which the bytes from
    /// `fresh` on were just read.
    fn input(&mut self, read: &mut BytesMut, fresh: usize) {
        self.reader.input(&mut self.t, read, fresh);
    }

    /// Reads what the socket has, up to [`READS_PER_POLL`] times. Ready when
    /// the task should poll again at once (more may be waiting).
    fn poll_input(&mut self, sock: &mut Socket, cx: &mut Context<'_>) -> Poll<()> {
        for _ in 0..READS_PER_POLL {
            if !self.t.reading() {
                return Poll::Pending;
            }
            // Read into the stack and copy into the input buffer only what
            // arrived: the buffer grows to what is pending (a partial frame,
            // a few small inputs), not to a fixed chunk per connection.
            let mut chunk = [std::mem::MaybeUninit::<u8>::uninit(); READ_CHUNK];
            let mut buf = ReadBuf::uninit(&mut chunk);
            let n = match Pin::new(&mut sock.io).poll_read(cx, &mut buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(_)) => 0,
                Poll::Ready(Ok(())) => buf.filled().len(),
            };
            if n == 0 {
                // The peer closed TCP (or the socket failed) without a close
                // frame: nobody to send one to.
                self.t.state.ending.get_or_insert(Ending::Lost);
                self.t.stop_reading();
                return Poll::Pending;
            }
            let read = &mut sock.read;
            let fresh = read.len();
            read.extend_from_slice(buf.filled());
            self.input(read, fresh);
        }
        Poll::Ready(())
    }

    /// Handles what other threads asked for and what timers say is due.
    /// The endpoint drains its queue only while the socket takes what it
    /// writes: a client that reads slower than the game leaves frames in
    /// the endpoint's queue (where a newer state replaces an older one), not
    /// in an ever longer buffer here.
    fn events(&mut self, sock: &mut Socket, cx: &Context<'_>, now: Instant) {
        let t = &mut self.t;
        if let Some((code, reason)) = t.state.doorbell.take_close() {
            t.state.close(code, &reason);
        }
        if t.state.out.is_empty() && t.state.doorbell.take(cx) && !t.state.closing {
            let (ep, mut link) = t.link();
            ep.on_wake(&mut link);
        }
        if t.state.timer.is_some_and(|at| at <= now) {
            t.state.timer = None;
            if !t.state.closing {
                let (ep, mut link) = t.link();
                ep.on_timer(&mut link);
            }
        }
        if self.next_ping <= now {
            self.next_ping = now + t.config.heartbeat_interval;
            if !t.state.closing {
                match t.state.heartbeat.tick(now) {
                    HeartbeatAction::Ping(p) => t.state.frame(ws::Message::Ping(p.into())),
                    HeartbeatAction::TimedOut => {
                        // A silent peer is a lost one, whatever code we send.
                        t.state.ending.get_or_insert(Ending::Lost);
                        let secs = t.config.idle_timeout.as_secs_f32();
                        t.state.close(CloseCode::Policy, &format!("nothing received for {secs} s"));
                        t.stop_reading();
                    }
                }
            }
            // An idle connection gives its buffers back.
            if sock.read.is_empty() {
                sock.read = BytesMut::new();
            }
            if t.state.out.is_empty() {
                t.state.out = BytesMut::new();
            }
        }
        if t.state.close_deadline.is_some_and(|at| at <= now) {
            t.stop_reading();
        }
    }

    /// The earliest instant the connection must wake at unasked.
    fn deadline(&self) -> Instant {
        let s = &self.t.state;
        [s.timer, s.close_deadline].into_iter().flatten().fold(self.next_ping, Instant::min)
    }
}

/// The running connection: open (with its endpoint), then closing (the
/// socket alone: the endpoint is dropped when the connection stops, so what
/// it holds, such as its seat in the connection count, is given back at
/// once and not after the socket's linger).
struct Task<E: Endpoint> {
    phase: Phase<E>,
    sock: Socket,
    /// One timer for the earliest of: next ping, the endpoint's timer, the
    /// close deadline, the phase's deadline.
    sleep: Pin<Box<Sleep>>,
    /// The deadline `sleep` was last polled pending for: the timer holds
    /// the task's waker until it fires, so while the deadline stays and is
    /// not reached, a wake-up (each tick's state) need not poll it again.
    armed: Option<Instant>,
}

/// What one pass of the open phase asks for.
enum Next {
    /// Wait for the socket, the doorbell or the timer.
    Wait,
    /// Poll again at once.
    Again,
    /// The connection stops: close the socket.
    Stop,
}

impl<E: Endpoint> Open<E> {
    /// One pass of the open phase.
    fn poll_open(&mut self, sock: &mut Socket, cx: &mut Context<'_>, now: Instant) -> Next {
        let blocked = !self.t.state.out.is_empty();
        self.events(sock, cx, now);
        let more = self.poll_input(sock, cx).is_ready();
        let state = &mut self.t.state;
        match Socket::poll_write(&mut sock.io, &mut state.out, cx) {
            Poll::Ready(Err(_)) => {
                state.ending.get_or_insert(Ending::Lost);
                state.out.clear();
                self.t.stop_reading();
            }
            // The socket took everything that waited: the endpoint may
            // drain its queue again.
            Poll::Ready(Ok(())) if blocked => return Next::Again,
            _ => {}
        }
        if self.t.state.stop {
            return Next::Stop;
        }
        if more {
            // Let other connections run, then read on.
            cx.waker().wake_by_ref();
        }
        Next::Wait
    }

    /// Ends the open phase: the endpoint learns how and is dropped with
    /// `self`; returns what is left to write and how long closing may take.
    fn stop(mut self) -> (BytesMut, std::time::Duration) {
        let state = &mut self.t.state;
        state.doorbell.hang_up();
        let out = std::mem::take(&mut state.out);
        let how = state.ending.unwrap_or(Ending::Lost);
        self.t.endpoint.stopped(how);
        (out, self.t.config.close_timeout)
    }
}

impl<E: Endpoint> Task<E> {
    /// Before the task waits: direct writes may go to the socket only
    /// while nothing of the task's waits to be written and no close is
    /// under way (so none can overtake or follow a close frame).
    fn open_to_direct_writes(&self) {
        if let Some(d) = &self.sock.direct {
            let open = match &self.phase {
                Phase::Open(conn) => {
                    let s = &conn.t.state;
                    s.out.is_empty() && !s.closing && !s.stop
                }
                Phase::Flushing(_) | Phase::Lingering(_) => false,
            };
            d.shared.open.set(open);
        }
    }

    fn deadline(&self) -> Instant {
        match &self.phase {
            Phase::Open(conn) => conn.deadline(),
            Phase::Flushing(at) | Phase::Lingering(at) => *at,
        }
    }
}

impl<E: Endpoint> Future for Task<E> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            let now = now();
            match &mut this.phase {
                Phase::Open(conn) => {
                    if let Some(d) = &this.sock.direct {
                        d.shared.unspill(&mut conn.t.state.out);
                    }
                    match conn.poll_open(&mut this.sock, cx, now) {
                        Next::Wait => {}
                        Next::Again => continue,
                        Next::Stop => {
                            // Lingering(now) holds the place for an instant only.
                            if let Phase::Open(conn) = std::mem::replace(&mut this.phase, Phase::Lingering(now)) {
                                let (out, close_timeout) = conn.stop();
                                this.sock.out = out;
                                this.phase = Phase::Flushing(now + close_timeout);
                            }
                            continue;
                        }
                    }
                }
                &mut Phase::Flushing(until) => match Socket::poll_write(&mut this.sock.io, &mut this.sock.out, cx) {
                    Poll::Ready(Ok(())) => match Pin::new(&mut this.sock.io).poll_shutdown(cx) {
                        Poll::Pending if now < until => {}
                        Poll::Ready(Ok(())) => {
                            this.phase = Phase::Lingering(now + LINGER);
                            continue;
                        }
                        _ => break,
                    },
                    Poll::Pending if now < until => {}
                    _ => break,
                },
                &mut Phase::Lingering(until) => {
                    let mut scratch = [0u8; 512];
                    let mut buf = ReadBuf::new(&mut scratch);
                    match Pin::new(&mut this.sock.io).poll_read(cx, &mut buf) {
                        Poll::Ready(Ok(())) if !buf.filled().is_empty() && now < until => continue,
                        Poll::Pending if now < until => {}
                        _ => break,
                    }
                }
            }
            let deadline = this.deadline();
            this.open_to_direct_writes();
            if this.armed == Some(deadline) && now < deadline {
                return Poll::Pending;
            }
            if this.sleep.deadline() != deadline.into() {
                this.sleep.as_mut().reset(deadline.into());
            }
            if this.sleep.as_mut().poll(cx).is_pending() {
                this.armed = Some(deadline);
                return Poll::Pending;
            }
            this.armed = None;
        }
        // Done: the kill switch is disarmed, then the socket closed, when
        // the task is dropped.
        this.sock.read = BytesMut::new();
        Poll::Ready(())
    }
}

#[cfg(test)]
#[path = "websocket_tests.rs"]
mod tests;
