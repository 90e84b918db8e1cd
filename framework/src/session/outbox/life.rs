//! An outbox's life: attached to a connection's socket, parked while its
//! session waits for a resume, closed when the session ends, or killed
//! from outside when its reader stalls.

use super::{Attachment, ConnEvent, Inner, OutItem, Outbox, ParkLimits, Push};
use crate::protocol::compress::Compressing;
use crate::protocol::CloseCode;
use crate::transport::{DirectWriter, KillSwitch, Ring};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

impl Outbox {
    /// Attaches a socket: `wake` tells its actor to drain (false if it could
    /// not), `kill` shuts the socket down from outside. Ends parking; what
    /// waited is drained at once. The client on the new socket holds no
    /// state yet: the acks are forgotten, and waiting delta states dropped
    /// (a state is latest-wins; the room's next one is whole).
    pub fn attach(&self, wake: impl Fn() -> bool + Send + Sync + 'static, kill: Option<KillSwitch>, now: Instant) {
        self.attach_with(Arc::new(wake), kill, None, None, now);
    }

    /// [`Outbox::attach`] for a connection that asked for `compression` of
    /// large states. Waiting states made for the connection before (deltas,
    /// compressed frames) are dropped as well. `direct` lets a room on the
    /// socket's thread write a state to it at once (see
    /// [`Outbox::push_state`]). Returns the attachment's generation (see
    /// [`Outbox::drain_states_into`]).
    pub fn attach_with(
        &self,
        waker: Arc<dyn Ring>,
        kill: Option<KillSwitch>,
        compression: Option<Compressing>,
        direct: Option<DirectWriter>,
        now: Instant,
    ) -> u64 {
        let (waker, generation) = {
            let mut inner = self.inner.lock();
            inner.state_acks.clear();
            inner.compression = compression;
            let Inner { states, bound_rooms, .. } = &mut *inner;
            states.retain(|(r, _)| !bound_rooms.contains(r));
            bound_rooms.clear();
            inner.attachment = Some(Attachment { waker: waker.clone(), kill, direct });
            inner.parked = None;
            let waiting = !inner.reliable.is_empty() || !inner.states.is_empty();
            inner.pending_since = waiting.then_some(now);
            (waiting.then_some(waker), inner.state_acks.generation())
        };
        self.wake_pending.store(false, Ordering::Release);
        self.wake(waker);
        generation
    }

    /// Detaches the socket: the outbox keeps collecting within `limits`
    /// until a connection attaches again or the session ends.
    pub fn park(&self, limits: ParkLimits) {
        let mut inner = self.inner.lock();
        inner.attachment = None;
        inner.parked = Some(limits);
        inner.pending_since = None;
        Self::trim_parked(&mut inner);
    }

    /// Whether no socket is attached.
    pub fn is_parked(&self) -> bool {
        self.inner.lock().parked.is_some()
    }

    /// How many reliable frames were dropped while parked (and resets it).
    pub fn take_lost(&self) -> u64 {
        std::mem::take(&mut self.inner.lock().lost)
    }

    pub(super) fn trim_parked(inner: &mut Inner) {
        let Some(limits) = inner.parked else { return };
        loop {
            let frames = inner.reliable.iter().filter(|i| matches!(i, OutItem::Frame(_))).count();
            if frames <= limits.max_frames && inner.reliable_bytes <= limits.max_bytes {
                return;
            }
            // Events change what the session is in; only frames may go.
            let Some(pos) = inner.reliable.iter().position(|i| matches!(i, OutItem::Frame(_))) else { return };
            if let Some(OutItem::Frame(f)) = inner.reliable.remove(pos) {
                inner.reliable_bytes -= f.len();
                inner.lost += 1;
            }
        }
    }

    /// Marks the session closed: later pushes return [`Push::Closed`].
    pub fn close(&self) {
        let mut inner = self.inner.lock();
        inner.closed = true;
        inner.attachment = None;
        inner.reliable.clear();
        inner.reliable_bytes = 0;
        inner.states.clear();
    }

    /// Whether the connection is closed.
    pub fn is_closed(&self) -> bool {
        self.inner.lock().closed
    }

    /// Closes a connection from outside its actor: queues a close frame (in
    /// case the actor still runs), then shuts the socket down, because a
    /// stalled reader would never read the close frame and its actor may be
    /// frozen (actix-web#2441).
    pub fn kill(&self, code: CloseCode, reason: &str) {
        let (waker, kill) = {
            let mut inner = self.inner.lock();
            if inner.closed {
                return;
            }
            inner.reliable.clear();
            inner.reliable_bytes = 0;
            inner.states.clear();
            inner.reliable.push_back(OutItem::Event(ConnEvent::Close { code, reason: reason.to_string() }));
            inner.closed = true;
            inner.killed = Some(code);
            let kill = inner.attachment.as_ref().and_then(|a| a.kill.clone());
            (self.waker_for_push(&inner), kill)
        };
        self.wake(waker);
        if let Some(k) = kill {
            k.kill();
        }
    }

    /// The code of a `kill` whose close has not been reported yet. The
    /// connection takes it when it sends the close frame, or when it stops
    /// without having sent it (a frozen actor never does), so the close is
    /// counted exactly once either way.
    pub fn take_killed(&self) -> Option<CloseCode> {
        self.inner.lock().killed.take()
    }

    /// Queues a close (e.g. 1011 when a room crashes) for the actor to send
    /// with a proper close handshake; the socket is left to the actor.
    pub fn close_with(&self, code: CloseCode, reason: &str, now: Instant) {
        if self.push_event(ConnEvent::Close { code, reason: reason.to_string() }, now) == Push::Stalled {
            self.kill(code, reason);
        }
    }
}
