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

use actix_web::dev::Extensions;
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

/// The `on_connect` hook: sets options and stores a [`KillSwitch`] in the
/// connection's extensions (read back with `req.conn_data::<KillSwitch>()`).
pub fn on_connect(conn: &dyn Any, ext: &mut Extensions, opts: SocketOptions) {
    let Some(stream) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() else {
        return; // TLS or other transports: no kill switch, the stall timeout still applies
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
