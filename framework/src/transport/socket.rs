//! Socket options and the kill switch, applied when the listener accepts a
//! TCP connection ([`on_connect`], the hook of [`serve`](super::serve)).
//!
//! Why a kill switch: a client that stops reading never reads the close
//! frame queued for it, so the close handshake would wait out its timeout
//! (and, while the transport ran on actix-web-actors, the actor froze
//! outright: actix-web#2441). The kill switch lets a room `shutdown(2)` the
//! socket from outside; the socket's task then sees the error and ends.
//! `TCP_USER_TIMEOUT` additionally lets the kernel give up on a peer that
//! stops acknowledging data.
//!
//! The switch holds the socket's descriptor number, not a duplicate of it
//! (the first version duplicated it, which took two descriptors per
//! connection: 10,000 clients then ran a 20,000-descriptor limit dry and
//! the last connections waited in the accept queue until they timed out).
//! A number alone could hit another socket that reused it after the
//! connection ended, so the switch is armed only while the connection's
//! descriptor is open: the WebSocket's task owns the socket once upgraded
//! and disarms the switch before the descriptor closes (a [`Disarm`] guard
//! declared before the socket, so it runs first even when the task is
//! dropped unfinished), and disarming takes the same lock as a kill. A kill
//! either runs before that, on the still-open socket, or finds the switch
//! disarmed. Only the WebSocket route hands a switch on (to the session's
//! outbox); a plain HTTP request's switch dies with its request.
//!
//! Over TLS (feature `tls`) actix-web hands the hook the rustls stream once
//! the handshake is done; the options and the kill switch go to the TCP
//! stream inside it. Shutting that socket down ends the TLS session without
//! a `close_notify`, which is what a cut-off needs.

use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;
use parking_lot::Mutex;
use std::any::Any;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

/// Socket options applied to every accepted connection.
#[derive(Debug, Clone, Copy)]
pub struct SocketOptions {
    /// `TCP_NODELAY` (game traffic is small and latency-bound).
    pub nodelay: bool,
    /// `TCP_USER_TIMEOUT`: how long sent data may stay unacknowledged.
    pub user_timeout: Option<Duration>,
    /// `TCP_NOTSENT_LOWAT` (Linux): at most this many bytes wait unsent in
    /// the kernel; past it a write waits, so frames wait in the outbox
    /// instead, where a newer state replaces an unsent one (latest wins).
    /// Without it Linux grows the send buffer to `tcp_wmem`'s maximum (4
    /// MiB by default): behind a link slower than the game every state
    /// then arrives, ever later (`docs/load-testing.md`, "A link too slow
    /// for the game"). `None`: the kernel's default.
    pub notsent_lowat: Option<u32>,
}

/// The default [`SocketOptions::notsent_lowat`]: a few ticks of a large
/// state, so a fast link never waits on it.
pub const NOTSENT_LOWAT: u32 = 16 * 1024;

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions { nodelay: true, user_timeout: Some(Duration::from_secs(30)), notsent_lowat: Some(NOTSENT_LOWAT) }
    }
}

/// Sets `TCP_NOTSENT_LOWAT` (socket2 has no setter for it).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn set_notsent_lowat(fd: RawFd, bytes: u32) -> std::io::Result<()> {
    let v = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: `fd` is the open socket of the stream being accepted; the
    // option value is a c_int that lives across the call.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NOTSENT_LOWAT,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Closes a connection's socket without the connection actor's help.
#[derive(Clone, Debug)]
pub struct KillSwitch(Arc<Mutex<Option<RawFd>>>);

impl KillSwitch {
    /// Shuts the socket down in both directions. Idempotent; a no-op once
    /// the connection's descriptor is closed.
    pub fn kill(&self) {
        let fd = self.0.lock();
        if let Some(fd) = *fd {
            // SAFETY: `fd` is open for as long as the lock says it is armed
            // (see the module docs): the guard that disarms it drops before
            // the stream that owns the descriptor, under this same lock.
            let sock = unsafe { BorrowedFd::borrow_raw(fd) };
            let _ = socket2::SockRef::from(&sock).shutdown(std::net::Shutdown::Both);
        }
    }
}

impl KillSwitch {
    /// Disarms the switch (the socket's task does, before it closes the
    /// descriptor).
    pub(crate) fn disarm(&self) {
        *self.0.lock() = None;
    }
}

/// Disarms a [`KillSwitch`] when dropped: held by the socket's owner and
/// dropped before the socket.
#[derive(Debug)]
pub(crate) struct Disarm(pub(crate) KillSwitch);

impl Drop for Disarm {
    fn drop(&mut self) {
        self.0.disarm();
    }
}

/// The TCP stream of an accepted connection: the connection itself, or the
/// one under its TLS session.
fn tcp_stream(conn: &dyn Any) -> Option<&TcpStream> {
    if let Some(s) = conn.downcast_ref::<TcpStream>() {
        return Some(s);
    }
    #[cfg(feature = "tls")]
    if let Some(s) = conn.downcast_ref::<actix_tls::accept::rustls_0_23::TlsStream<TcpStream>>() {
        return Some(s.get_ref().0);
    }
    None
}

/// The `on_connect` hook: sets options and stores a [`KillSwitch`] in the
/// connection's extensions (read back with `req.conn_data::<KillSwitch>()`),
/// for plain TCP and TLS connections alike.
pub fn on_connect(conn: &dyn Any, ext: &mut Extensions, opts: SocketOptions) {
    let Some(stream) = tcp_stream(conn) else {
        tracing::warn!("connection of an unknown stream type: no socket options, no kill switch");
        return;
    };
    let sock = socket2::SockRef::from(stream);
    let _ = sock.set_tcp_nodelay(opts.nodelay);
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(t) = opts.user_timeout {
        let _ = sock.set_tcp_user_timeout(Some(t));
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(bytes) = opts.notsent_lowat {
        let _ = set_notsent_lowat(stream.as_raw_fd(), bytes);
    }
    let switch = KillSwitch(Arc::new(Mutex::new(Some(stream.as_raw_fd()))));
    ext.insert(switch);
}
