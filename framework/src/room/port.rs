//! [`TypedPort`]: the room layer's implementation of
//! [`crate::session::RoomPort`] for a room type's actor. It decodes inputs
//! on the caller's thread (so a bad payload is answered at once and the
//! room's thread only sees valid inputs) and turns each call into the
//! actor's message.

use super::actor::{DisposeMsg, HandoverMsg, InputMsg, InspectMsg, JoinMsg, KickMsg, LeaveMsg, PresenceMsg, RoomActor};
use super::shutdown::ShutdownMsg;
use super::Room;
use crate::protocol::{ClientId, Schema, SessionId};
use crate::session::{InputError, JoinRequest, LeaveReason, RawInput, RoomInspection, RoomPort};
use actix::Addr;
use futures_util::future::BoxFuture;
use std::sync::Arc;

/// A room type's port: its actor's address and its schema.
pub(crate) struct TypedPort<R: Room> {
    pub(crate) addr: Addr<RoomActor<R>>,
    pub(crate) schema: Arc<Schema<R::Wire>>,
}

impl<R: Room> RoomPort for TypedPort<R> {
    fn join(&self, req: JoinRequest) {
        // Joins are bounded by connections (one pending per request, few
        // rooms per connection), so they may pass the input bound.
        self.addr.do_send(JoinMsg(req));
    }

    fn input(&self, raw: RawInput<'_>) -> Result<(), InputError> {
        // Decoded here, on the connection's thread, so a bad payload is
        // answered at once and the room's thread only sees valid inputs.
        let input = self.schema.decode_input(raw.version, raw.codec, raw.payload)?;
        R::authorize_input(raw.user, &input).map_err(|r| InputError::Forbidden(r.reason))?;
        let (client, seq) = (raw.client, raw.seq);
        self.addr.try_send(InputMsg { client, seq, input }).map_err(|e| match e {
            actix::dev::SendError::Full(_) => InputError::Busy,
            actix::dev::SendError::Closed(_) => InputError::Gone,
        })
    }

    fn leave(&self, session: SessionId, why: LeaveReason) {
        self.addr.do_send(LeaveMsg { session, why });
    }

    fn presence(&self, session: SessionId, back: bool) {
        // Bounded like leaves: one per session per connection loss.
        self.addr.do_send(PresenceMsg { session, back });
    }

    fn dispose(&self) {
        self.addr.do_send(DisposeMsg);
    }

    fn hand_over(&self, node: u64) -> BoxFuture<'static, Option<bytes::Bytes>> {
        let request = self.addr.send(HandoverMsg { node });
        Box::pin(async move { request.await.ok().flatten() })
    }

    fn shutdown(&self) -> BoxFuture<'static, ()> {
        // `send` queues behind everything already in the mailbox (it waits
        // for room if the mailbox is full rather than skipping the bound).
        let request = self.addr.send(ShutdownMsg);
        Box::pin(async move {
            let _ = request.await;
        })
    }

    fn inspect(&self, capture: bool) -> BoxFuture<'static, Option<RoomInspection>> {
        // `send` waits behind the room's mailbox, which is bounded; the
        // monitor bounds the wait itself.
        let request = self.addr.send(InspectMsg { capture });
        Box::pin(async move { request.await.ok().flatten() })
    }

    fn kick(&self, client: ClientId, reason: String) -> BoxFuture<'static, bool> {
        let request = self.addr.send(KickMsg { client, reason });
        Box::pin(async move { request.await.unwrap_or(false) })
    }
}
