//! [`Actions`]: what the connection's rules ask the socket to do. The rules
//! ([`super::GameConnection`]) never touch a socket, a timer or an actor;
//! they push actions here, and the shell ([`super::GameEndpoint`]) carries
//! them out in order. Tests read them instead.

use crate::protocol::CloseCode;
use crate::transport::Ring;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// One thing for the socket to do.
pub enum Action {
    /// Write a binary frame.
    Send(Bytes),
    /// Start the close handshake with this code.
    Close {
        /// The close code.
        code: CloseCode,
        /// For people.
        reason: String,
    },
    /// Call [`super::GameConnection::handle_timeout`] after this long, instead
    /// of any timer set before (a connection has one).
    Timer(Duration),
    /// Run this task on the connection's thread (a wait for the cluster
    /// store); it wakes the connection when its answer is ready.
    Spawn(BoxFuture<'static, ()>),
}

impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Send(b) => f.debug_tuple("Send").field(b).finish(),
            Action::Close { code, reason } => {
                f.debug_struct("Close").field("code", code).field("reason", reason).finish()
            }
            Action::Timer(d) => f.debug_tuple("Timer").field(d).finish(),
            Action::Spawn(_) => f.write_str("Spawn(<task>)"),
        }
    }
}

/// The actions of one step, in order. Reused across steps (no allocation
/// per message once warm).
#[derive(Debug, Default)]
pub struct Actions {
    queue: Vec<Action>,
}

impl Actions {
    /// Writes a binary frame.
    pub fn send(&mut self, frame: Bytes) {
        self.queue.push(Action::Send(frame));
    }

    /// Closes with `code`.
    pub fn close(&mut self, code: CloseCode, reason: &str) {
        self.queue.push(Action::Close { code, reason: reason.to_string() });
    }

    /// Sets the connection's timer.
    /// Runs `task` beside the connection.
    pub fn spawn(&mut self, task: BoxFuture<'static, ()>) {
        self.queue.push(Action::Spawn(task));
    }

    pub fn timer(&mut self, after: Duration) {
        self.queue.push(Action::Timer(after));
    }

    /// Takes the actions queued so far, in order.
    pub fn drain(&mut self) -> std::vec::Drain<'_, Action> {
        self.queue.drain(..)
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// Wakes the connection's shell to drain its session's outbox (false if it
/// cannot take the wake-up: it is gone). The socket's doorbell itself
/// ([`Doorbell::ringer`](crate::transport::Doorbell::ringer)); any
/// `Fn() -> bool` in tests.
pub type Waker = Arc<dyn Ring>;

/// Asks a connection's shell to close with a code (false if it is gone or
/// cannot take the request).
pub type Closer = Arc<dyn Fn(CloseCode, &str) -> bool + Send + Sync>;
