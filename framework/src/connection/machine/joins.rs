//! Join bookkeeping on a connection: whether a new join may start, the
//! seat matchmaking reserved, and the join request sent to the room.

use super::{Actions, GameConnection};
use crate::connection::{Creator, Refusal};
use crate::limits::IpSlot;
use crate::protocol::envelope::JoinErrorCode;
use crate::session::{JoinRequest, Options, RoomHandle, SessionState};
use std::sync::Arc;

impl GameConnection {
    /// Sends a join for a room whose seat is already reserved.
    pub(super) fn request_join(
        &self,
        st: &mut SessionState,
        out: &mut Actions,
        request: u32,
        handle: Arc<RoomHandle>,
        options: Options,
    ) {
        let Some(port) = handle.port() else {
            handle.unreserve();
            return self.join_error(st, out, request, JoinErrorCode::RoomNotFound, "room not found");
        };
        port.join(JoinRequest {
            request,
            session: self.session.name().to_string(),
            user: self.auth.user().map(str::to_string),
            version: self.token.version,
            codec: self.token.codec,
            outbox: self.session.outbox().clone(),
            options,
        });
        st.pending.insert(request, handle);
    }

    /// Checks that a new join may start; answers the client if not.
    pub(super) fn may_join(&self, st: &mut SessionState, out: &mut Actions, request: u32, room: Option<&str>) -> bool {
        let refusal = if self.noticed {
            Some((JoinErrorCode::RoomLocked, "server is shutting down".to_string()))
        } else if st.pending.contains_key(&request) {
            Some((JoinErrorCode::AlreadyJoined, "a join with this request id is in progress".to_string()))
        } else if room.is_some_and(|r| st.rooms.contains_key(r) || st.pending.values().any(|h| &*h.id == r)) {
            Some((JoinErrorCode::AlreadyJoined, "already in this room".to_string()))
        } else if st.rooms.len() + st.pending.len() >= self.shared.max_rooms_per_connection {
            let max = self.shared.max_rooms_per_connection;
            Some((JoinErrorCode::TooManyRooms, format!("at most {max} rooms per connection")))
        } else {
            None
        };
        match refusal {
            Some((code, reason)) => {
                self.join_error(st, out, request, code, reason);
                false
            }
            None => true,
        }
    }

    /// Who a create from this connection is counted against.
    pub(super) fn creator(&self) -> Creator {
        Creator { session: self.session.id(), address: self.ip.as_ref().map(IpSlot::ip) }
    }

    pub(super) fn handle_reserved(
        &self,
        st: &mut SessionState,
        out: &mut Actions,
        request: u32,
        r: Result<Arc<RoomHandle>, Refusal>,
        options: Options,
    ) {
        match r {
            Ok(h) => self.request_join(st, out, request, h, options),
            Err(e) => self.join_error(st, out, request, e.code, e.reason),
        }
    }
}
