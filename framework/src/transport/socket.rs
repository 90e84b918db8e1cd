//! Socket options and the kill switch, applied when actix-web accepts a TCP
//! connection (`HttpServer::on_connect`).
//!
//! Why a kill switch: actix-web polls a `WebsocketContext` only while the
//! HTTP dispatcher can write (actix-web#2441), so when a client stops
//! reading, its actor freezes — timers and mailbox included — and cannot
//! close itself. We keep a duplicate of the socket's file descriptor, so a
//! room can `shutdown(2)` the socket from outside; the dispatcher then sees
//! the error and drops the connection. `TCP_USER_TIMEOUT` additionally lets
//! the kernel give up on a peer that stops acknowledging data.
//!
//! Over TLS (feature `tls`) actix-web hands the hook the rustls stream once
//! the handshake is done; the options and the kill switch go to the TCP
//! stream inside it. Shutting that socket down ends the TLS session without
//! a `close_notify`, which is what a cut-off needs.

use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;
use std::any::Any;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

/// Socket options applied to every accepted connection.
#[derive(Debug, Clone, Copy)]
pub struct SocketOptions {
    /// `TCP_NODELAY` (game traffic is small and latency-bound).
    pub nodelay: bool,
    /// `TCP_USER_TIMEOUT`: how long sent data may stay unacknowledged.
    pub user_timeout: Option<Duration>,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions { nodelay: true, user_timeout: Some(Duration::from_secs(30)) }
    }
}

/// Closes a connection's socket without the connection actor's help.
///
/// Holds its own duplicate of the descriptor, so it can never hit a socket
/// that reused the number after the connection ended.
#[derive(Clone, Debug)]
pub struct KillSwitch(Arc<OwnedFd>);

impl KillSwitch {
    /// Shuts the socket down in both directions. Idempotent.
    pub fn kill(&self) {
        let _ = socket2::SockRef::from(self.0.as_ref()).shutdown(std::net::Shutdown::Both);
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
    if let Ok(fd) = stream.as_fd().try_clone_to_owned() {
        ext.insert(KillSwitch(Arc::new(fd)));
    }
}
